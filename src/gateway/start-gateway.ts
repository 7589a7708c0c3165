/**
 * Builds the running gateway from the `gateway` config section: SIP stack (UDP and/or TCP on one address/port, TLS
 * on its own port — RFC 3261 §26.2, default port + 1 as 5060/5061), user agent core with per-route digest
 * credentials (RFC 3261 §22.2), RTP port allocator and the B2BUA with its route rules. The composition root calls it
 * and registers the calls API on the HTTP server (`registerCallRoutes`). The agent leg goes over TLS when a route's
 * target is `sips:` or carries `;transport=tls` (the transport layer's RFC 3263-style choice).
 *
 * Masking policy: from config (`secureByDefault`, `maskMode`, `triggers`: validated here, a bad trigger fails the
 * start with `invalid-config`), unless the caller passes `policy` (e.g. the admin settings store:
 * `startGateway(g, { policy: () => settings.current() })`), read once per new call.
 *
 * Example (agent-side triggers `#388*` on / `#388#` off):
 *   "gateway": { …, "triggers": { "start": "#388*", "end": "#388#", "interDigitTimeoutMs": 3000 } }
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { CardlineConfig } from '../config/index.ts';
import type { DtmfDigit } from '../dsp/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { RtpPortAllocator } from '../media/index.ts';
import { SipStack, TcpTransport, TlsTransport, type Transport, UdpTransport, UserAgentCore } from '../sip/index.ts';
import { B2bua, type RouteRule } from './b2bua.ts';
import { type Call, CallRegistry } from './call-registry.ts';
import type { MediaTap, SecureDigitSource } from './media-relay.ts';
import { RouteCredentialStore } from './route-credentials.ts';
import { type MaskingPolicy, type PolicySource, validateTriggers } from './policy.ts';

/** Secure mode stays on this long after the bound payment session ended (`gateway.secureHangoverMs`). */
export const DEFAULT_SECURE_HANGOVER_MS = 2000;

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
    ...(r.agentSrtp !== undefined ? { agentSrtp: r.agentSrtp } : {}),
  }));
}

function readPem(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CardlineError('invalid-config', `${where}: cannot read ${path}`, { cause: err });
  }
}

/** The TLS transport from `gateway.sip.tls`: files read now, key and certificate checked to belong together. */
export function tlsTransportFromConfig(sip: GatewayConfig['sip']): TlsTransport {
  const t = sip.tls;
  if (!t) throw new CardlineError('invalid-config', "gateway.sip.tls is required when transports lists 'tls'");
  const cert = readPem(t.certFile, 'gateway.sip.tls.certFile');
  const key = readPem(t.keyFile, 'gateway.sip.tls.keyFile');
  const ca = t.caFile !== undefined ? readPem(t.caFile, 'gateway.sip.tls.caFile') : undefined;
  try {
    createSecureContext({ key, cert, ...(ca !== undefined ? { ca } : {}) });
  } catch {
    // OpenSSL's message may quote a line of the key file: not passed on
    throw new CardlineError('invalid-config', `gateway.sip.tls: ${t.keyFile} and ${t.certFile} are not a matching PEM key and certificate (or ${t.caFile ?? 'the CA'} is not PEM)`);
  }
  const port = t.port ?? (sip.port === 0 ? 0 : sip.port + 1);
  if (port > 65535) throw new CardlineError('invalid-config', 'gateway.sip.tls.port: set it (sip.port + 1 is out of range)');
  return new TlsTransport({
    address: sip.host, port, key, cert, ...(ca !== undefined ? { ca } : {}),
    ...(t.verifyPeer !== undefined ? { verifyPeer: t.verifyPeer } : {}),
    ...(t.requestClientCert !== undefined ? { requestClientCert: t.requestClientCert } : {}),
  });
}

/** The masking policy the `gateway` config section describes (throws `invalid-config` on bad triggers). */
export function policyFromConfig(g: GatewayConfig): MaskingPolicy {
  return {
    secureByDefault: g.secureByDefault ?? false,
    maskMode: g.maskMode ?? 'tone',
    triggers: g.triggers ? validateTriggers({ start: g.triggers.start, end: g.triggers.end }) : null,
  };
}

export interface StartGatewayOptions {
  logger?: Logger;
  onSecureDigit?: (call: Call, digit: DtmfDigit, source: SecureDigitSource) => void;
  /** Overrides the config's policy (e.g. the admin's settings store); read once per new call. */
  policy?: PolicySource;
  /** Where `routes[i].auth.passwordEnv` is looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Call recording hooks (src/recording/): a media tap per call, and an observer of each new call. */
  tapFor?: ((call: Call) => MediaTap | null) | undefined;
  onCallStarted?: ((call: Call) => void) | undefined;
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
  o: StartGatewayOptions = {},
): Promise<RunningGateway> {
  const routes = routeRulesFromConfig(g.routes);
  const credentials = new RouteCredentialStore(g.routes, o.env);
  const configPolicy = policyFromConfig(g); // fails the start on bad triggers, before anything binds
  const policy: PolicySource = o.policy ?? (() => configPolicy);
  // Files are read before any socket is bound, so a config error leaves nothing to clean up.
  const transports: Transport[] = g.sip.transports.map((t) => (t === 'tls'
    ? tlsTransportFromConfig(g.sip)
    : t === 'tcp'
      ? new TcpTransport({ address: g.sip.host, port: g.sip.port })
      : new UdpTransport({ address: g.sip.host, port: g.sip.port })));
  const allocator = new RtpPortAllocator({ address: g.media.address, minPort: g.media.minPort, maxPort: g.media.maxPort });
  const stack = new SipStack({ transports, ...(o.logger ? { logger: o.logger } : {}) });
  await stack.start();
  const ua = new UserAgentCore({
    stack, userAgent: 'Cardline', ...(credentials.size > 0 ? { credentials } : {}), ...(o.logger ? { logger: o.logger } : {}),
  });
  const b2bua = new B2bua({
    ua, allocator, routes,
    registry: new CallRegistry({ secureHangoverMs: g.secureHangoverMs ?? DEFAULT_SECURE_HANGOVER_MS }),
    ...(g.media.advertiseAddress ? { mediaAddress: g.media.advertiseAddress } : {}),
    policy,
    ...(g.triggers?.interDigitTimeoutMs !== undefined ? { triggerTimeoutMs: g.triggers.interDigitTimeoutMs } : {}),
    ...(g.noAnswerTimeoutMs ? { noAnswerTimeoutMs: g.noAnswerTimeoutMs } : {}),
    ...(g.agentSrtp ? { agentSrtp: g.agentSrtp } : {}),
    ...(g.media.rtcpIntervalMs !== undefined ? { rtcpIntervalMs: g.media.rtcpIntervalMs } : {}),
    ...(o.onSecureDigit ? { onSecureDigit: o.onSecureDigit } : {}),
    ...(o.tapFor ? { tapFor: o.tapFor } : {}),
    ...(o.onCallStarted ? { onCallStarted: o.onCallStarted } : {}),
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
