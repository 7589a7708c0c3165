/**
 * Builds the running gateway from the `gateway` config section: SIP stack (UDP and/or TCP on one address/port),
 * user agent core, RTP port allocator and the B2BUA with its route rules. The composition root calls it and
 * registers the calls API on the HTTP server (`registerCallRoutes`). TLS towards carriers is not wired yet.
 */
import type { CardlineConfig } from '../config/index.ts';
import type { DtmfDigit } from '../dsp/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { RtpPortAllocator } from '../media/index.ts';
import { SipStack, TcpTransport, type Transport, UdpTransport, UserAgentCore } from '../sip/index.ts';
import { B2bua, type RouteRule } from './b2bua.ts';
import type { Call } from './call-registry.ts';
import type { SecureDigitSource } from './media-relay.ts';

export type GatewayConfig = NonNullable<CardlineConfig['gateway']>;

function regex(source: string, where: string): RegExp {
  try {
    return new RegExp(source);
  } catch {
    throw new CardlineError('invalid-config', `${where} is not a valid regular expression`);
  }
}

/** Compiles the configured route rules (fails at startup on a bad pattern, naming where). */
export function routeRulesFromConfig(routes: GatewayConfig['routes']): RouteRule[] {
  return routes.map((r, i) => ({
    ...(r.requestUri !== undefined ? { requestUri: regex(r.requestUri, `gateway.routes[${i}].requestUri`) } : {}),
    ...(r.headers ? { headers: r.headers.map((h, k) => ({ name: h.name, pattern: regex(h.pattern, `gateway.routes[${i}].headers[${k}].pattern`) })) } : {}),
    target: r.target,
  }));
}

export interface RunningGateway {
  b2bua: B2bua;
  stack: SipStack;
  allocator: RtpPortAllocator;
  /** Hangs up every call, then stops SIP and frees the media ports. */
  close(): Promise<void>;
}

export async function startGateway(
  g: GatewayConfig,
  o: { logger?: Logger; onSecureDigit?: (call: Call, digit: DtmfDigit, source: SecureDigitSource) => void } = {},
): Promise<RunningGateway> {
  const routes = routeRulesFromConfig(g.routes);
  const allocator = new RtpPortAllocator({ address: g.media.address, minPort: g.media.minPort, maxPort: g.media.maxPort });
  const transports: Transport[] = g.sip.transports.map((t) => (t === 'tcp'
    ? new TcpTransport({ address: g.sip.host, port: g.sip.port })
    : new UdpTransport({ address: g.sip.host, port: g.sip.port })));
  const stack = new SipStack({ transports, ...(o.logger ? { logger: o.logger } : {}) });
  await stack.start();
  const ua = new UserAgentCore({ stack, userAgent: 'Cardline', ...(o.logger ? { logger: o.logger } : {}) });
  const b2bua = new B2bua({
    ua, allocator, routes,
    ...(g.media.advertiseAddress ? { mediaAddress: g.media.advertiseAddress } : {}),
    secureByDefault: g.secureByDefault ?? false,
    ...(g.maskMode ? { maskMode: g.maskMode } : {}),
    ...(g.noAnswerTimeoutMs ? { noAnswerTimeoutMs: g.noAnswerTimeoutMs } : {}),
    ...(o.onSecureDigit ? { onSecureDigit: o.onSecureDigit } : {}),
  });
  let closed: Promise<void> | null = null;
  return {
    b2bua, stack, allocator,
    close() {
      closed ??= (async () => {
        await b2bua.close();
        ua.close();
        await stack.close();
        await allocator.close();
      })();
      return closed;
    },
  };
}
