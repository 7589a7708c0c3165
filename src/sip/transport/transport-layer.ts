/**
 * The SIP transport layer (RFC 3261 §18) over any number of `Transport`s: the rules that do not depend on the
 * protocol.
 *
 * - §18.1.1 sending requests: the top Via gets this transport's protocol and sent-by; requests larger than
 *   `udpMaxRequestSize` (1300 bytes, "if the path MTU is unknown") go over TCP when TCP is configured.
 * - §18.1.2 receiving responses: a response whose top Via sent-by is not ours "MUST be silently discarded".
 * - §18.2.1 receiving requests: `received` when the sent-by differs from the packet source, and RFC 3581 §4
 *   `rport` filled with the source port when the client asked for it.
 * - §18.2.2 sending responses: over the request's connection for TCP/TLS while it is open; otherwise to maddr,
 *   to received (and rport), or to the sent-by.
 * - Malformed requests are answered with 400 (505, 513) and the parser's reason when enough of the message
 *   can be salvaged to route the answer (§21.4.1); malformed responses and ACKs are dropped.
 * - Targets (RFC 3263 without NAPTR/SRV): `sips:` or `transport=tls` → TLS, `transport=tcp` → TCP, else UDP;
 *   maddr, explicit port or 5060/5061; host names through the injected resolver (default `dns.lookup`).
 * Nothing a peer sends can throw out of this class: every handler runs inside a try/catch.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { CardlineError } from '../../errors/index.ts';
import {
  parseVia, reasonPhrase, salvageRequest, serializeSipMessage, serializeVia, SipHeaders, SipResponse,
  type SipRequest, type Uri, type Via,
} from '../messages/index.ts';
import {
  defaultPort, hostForUri, type Destination, type Flow, type InboundPacket, type Transport, type TransportProtocol,
} from './transport.ts';

export interface Target extends Destination {
  protocol: TransportProtocol;
}

/** A request as it went out: retransmissions resend these exact bytes to the same place (§17.1.1.2). */
export interface SentRequest {
  bytes: Uint8Array;
  target: Target;
  flow: Flow;
}

export interface TransportLayerUser {
  onRequest(request: SipRequest, flow: Flow): void;
  onResponse(response: SipResponse, flow: Flow): void;
}

export interface SipTransportLayerOptions {
  transports: Transport[];
  /** Host name → IP address. Default `dns.lookup`. */
  resolve?: (host: string) => Promise<string>;
  logger?: Logger;
  /** §18.1.1 size rule: larger UDP requests go over TCP when a TCP transport exists. 0 disables. Default 1300. */
  udpMaxRequestSize?: number;
  /** Add RFC 5923 `alias` to the Via of requests sent over TLS (default true). */
  tlsAlias?: boolean;
}

const stripBrackets = (h: string) => h.replace(/^\[(.*)\]$/, '$1');

export class SipTransportLayer {
  #transports: Transport[];
  #resolve: (host: string) => Promise<string>;
  #log: Logger | undefined;
  #udpMax: number;
  #alias: boolean;
  #user: TransportLayerUser | undefined;

  constructor(opts: SipTransportLayerOptions) {
    if (opts.transports.length === 0) throw new CardlineError('invalid-config', 'at least one SIP transport is required');
    this.#transports = opts.transports;
    this.#resolve = opts.resolve ?? (async (h) => (await lookup(h)).address);
    this.#log = opts.logger;
    this.#udpMax = opts.udpMaxRequestSize ?? 1300;
    this.#alias = opts.tlsAlias ?? true;
    for (const t of this.#transports) {
      t.setHandler({
        packet: (p) => this.#onPacket(p),
        error: (e) => this.#log?.warn({ err: { message: e.message }, protocol: t.protocol }, 'sip transport error'),
      });
    }
  }

  setUser(user: TransportLayerUser): void {
    this.#user = user;
  }

  async start(): Promise<void> {
    for (const t of this.#transports) await t.start();
  }

  async close(): Promise<void> {
    await Promise.all(this.#transports.map((t) => t.close()));
  }

  transport(protocol: TransportProtocol): Transport | undefined {
    return this.#transports.find((t) => t.protocol === protocol);
  }

  get transports(): readonly Transport[] {
    return this.#transports;
  }

  // ---- targets --------------------------------------------------------------------------------------------

  /** Where a request for `uri` goes (the Request-URI, or the first Route with `lr`, §8.1.2). */
  async resolveTarget(uri: Uri): Promise<Target> {
    if (uri.kind !== 'sip') throw new CardlineError('sip-transport-error', `cannot send to a ${uri.scheme}: URI`);
    const tp = uri.params.get('transport')?.toLowerCase();
    let protocol: TransportProtocol = uri.scheme === 'sips' || tp === 'tls' ? 'tls' : tp === 'tcp' ? 'tcp' : 'udp';
    if (!this.transport(protocol)) {
      // RFC 3263 §4.1 prefers what the client supports when the URI does not insist.
      if (tp === undefined && uri.scheme === 'sip' && this.transport('tcp')) protocol = 'tcp';
      else throw new CardlineError('sip-transport-error', `no ${protocol.toUpperCase()} transport configured`);
    }
    const maddr = uri.params.get('maddr');
    const host = stripBrackets(maddr ?? uri.host);
    const address = isIP(host) ? host : await this.#resolveName(host);
    return { protocol, address, port: uri.port ?? defaultPort(protocol), ...(isIP(host) ? {} : { serverName: host }) };
  }

  async #resolveName(host: string): Promise<string> {
    try {
      return await this.#resolve(host);
    } catch (e) {
      throw new CardlineError('sip-transport-error', 'host name did not resolve', { cause: e });
    }
  }

  // ---- sending ---------------------------------------------------------------------------------------------

  /** Stamps the top Via for the transport used (§18.1.1), serializes and sends. */
  async sendRequest(request: SipRequest, target: Target): Promise<SentRequest> {
    let t = this.#need(target.protocol);
    let bytes = this.#stampAndSerialize(request, t);
    if (t.protocol === 'udp' && this.#udpMax > 0 && bytes.length > this.#udpMax) {
      const tcp = this.transport('tcp');
      if (tcp) {
        const tcpBytes = this.#stampAndSerialize(request, tcp);
        try {
          const tcpTarget: Target = { ...target, protocol: 'tcp' };
          const flow = await tcp.send(tcpBytes, tcpTarget);
          return { bytes: tcpBytes, target: tcpTarget, flow };
        } catch {
          // §18.1.1: "If ... the attempt to establish the connection generates an ICMP ... the client SHOULD retry with UDP".
          t = this.#need('udp');
          bytes = this.#stampAndSerialize(request, t);
        }
      }
    }
    const flow = await t.send(bytes, target);
    return { bytes, target, flow };
  }

  /** Retransmits exactly the same bytes on the same flow (§17.1.1.2 Timer A, §17.1.2.2 Timer E). */
  async resend(sent: SentRequest): Promise<void> {
    const t = this.#need(sent.flow.protocol);
    await t.send(sent.bytes, { ...sent.target, ...(sent.flow.connectionId !== undefined ? { connectionId: sent.flow.connectionId } : {}) });
  }

  /** Sends bytes directly to a target (ACK for 2xx re-sent on each retransmitted 2xx, §13.2.2.4). */
  async sendBytes(bytes: Uint8Array, target: Target): Promise<Flow> {
    return this.#need(target.protocol).send(bytes, target);
  }

  #stampAndSerialize(request: SipRequest, t: Transport): Uint8Array {
    const top = request.topVia();
    const via: Via = { ...top, params: new Map(top.params), transport: t.protocol.toUpperCase(), host: hostForUri(t.sentBy.host), port: t.sentBy.port };
    // RFC 3581 §3: ask for symmetric response routing on UDP.
    if (t.protocol === 'udp' && !via.params.has('rport')) via.params.set('rport', null);
    // RFC 5923 §5: over TLS, offer the connection for requests in the other direction.
    if (t.protocol === 'tls' && this.#alias && !via.params.has('alias')) via.params.set('alias', null);
    request.headers.shift('Via');
    request.headers.prepend('Via', serializeVia(via));
    return serializeSipMessage(request);
  }

  #need(protocol: TransportProtocol): Transport {
    const t = this.transport(protocol);
    if (!t) throw new CardlineError('sip-transport-error', `no ${protocol.toUpperCase()} transport configured`);
    return t;
  }

  /** §18.2.2 response routing. `flow` is the flow the request arrived on, when known. */
  async sendResponse(response: SipResponse, flow?: Flow): Promise<Flow> {
    const bytes = serializeSipMessage(response);
    const via = response.topVia();
    const viaProtocol = via.transport.toLowerCase();
    const protocol: TransportProtocol = viaProtocol === 'udp' || viaProtocol === 'tcp' || viaProtocol === 'tls'
      ? viaProtocol : (flow?.protocol ?? 'udp');
    const t = this.#need(protocol);
    const received = via.params.get('received');
    const sentByPort = via.port ?? defaultPort(protocol);
    if (t.reliable) {
      const address = received ? stripBrackets(received) : await this.#hostAddress(via.host);
      return t.send(bytes, {
        address, port: sentByPort,
        ...(flow?.connectionId !== undefined && flow.protocol === protocol ? { connectionId: flow.connectionId } : {}),
      });
    }
    const maddr = via.params.get('maddr');
    if (maddr) return t.send(bytes, { address: await this.#hostAddress(maddr), port: sentByPort });
    if (received) {
      const rport = via.params.get('rport');
      return t.send(bytes, { address: stripBrackets(received), port: rport ? Number(rport) : sentByPort });
    }
    return t.send(bytes, { address: await this.#hostAddress(via.host), port: sentByPort });
  }

  async #hostAddress(host: string): Promise<string> {
    const h = stripBrackets(host);
    return isIP(h) ? h : this.#resolveName(h);
  }

  // ---- receiving -------------------------------------------------------------------------------------------

  #onPacket(p: InboundPacket): void {
    try {
      if (p.kind === 'malformed') {
        this.#answerMalformed(p.bytes, p.error.sipStatus, p.error.reason, p.flow);
        return;
      }
      const m = p.message;
      if (m.kind === 'request') {
        this.#stampReceived(m, p.flow);
        this.#user?.onRequest(m, p.flow);
      } else {
        if (!this.#isOurs(m.topVia())) {
          this.#log?.debug({ callId: m.callId(), status: m.status }, 'sip response for another sent-by discarded (§18.1.2)');
          return;
        }
        this.#user?.onResponse(m, p.flow);
      }
    } catch (e) {
      this.#log?.error({ err: { message: e instanceof Error ? e.message : String(e) } }, 'sip inbound handling failed');
    }
  }

  /** §18.2.1 and RFC 3581 §4, plus RFC 5923 §5 alias for connection reuse. */
  #stampReceived(request: SipRequest, flow: Flow): void {
    const top = request.topVia();
    const sentBy = stripBrackets(top.host);
    const params = new Map(top.params);
    let changed = false;
    if (sentBy.toLowerCase() !== flow.remote.address.toLowerCase() || params.has('rport')) {
      params.set('received', flow.remote.address);
      changed = true;
    }
    if (params.has('rport') && params.get('rport') === null) {
      params.set('rport', String(flow.remote.port));
      changed = true;
    }
    if (changed) {
      request.headers.shift('Via');
      request.headers.prepend('Via', serializeVia({ ...top, params }));
    }
    if (flow.connectionId !== undefined && top.params.has('alias') && isIP(sentBy)) {
      this.transport(flow.protocol)?.addAlias(flow.connectionId, { address: sentBy, port: top.port ?? defaultPort(flow.protocol) });
    }
  }

  #isOurs(via: Via): boolean {
    const host = stripBrackets(via.host).toLowerCase();
    return this.#transports.some((t) => {
      const port = via.port ?? defaultPort(t.protocol);
      return stripBrackets(t.sentBy.host).toLowerCase() === host && t.sentBy.port === port;
    });
  }

  /** Answers what the parser refused, when the request's Via can be recovered (§8.2.6.2 headers copied as-is). */
  #answerMalformed(bytes: Uint8Array, status: number, reason: string, flow: Flow): void {
    const s = salvageRequest(bytes);
    if (!s || s.method === 'ACK' || s.via.length === 0) return; // never answer an ACK (§17.1.1.3) or a response
    const h = new SipHeaders();
    try {
      // The answer is routed by the top Via, which must parse; as §18.2.1 would, it learns the packet's source, so
      // the 400 goes back where the bytes came from and never waits on a DNS lookup of a hostile host name.
      const [top, ...rest] = s.via.flatMap((v) => v.split(','));
      const via = parseVia(top!);
      via.params.set('received', flow.remote.address);
      if (via.params.has('rport')) via.params.set('rport', String(flow.remote.port));
      h.append('Via', serializeVia(via));
      for (const v of rest) h.append('Via', v);
      if (s.from) h.append('From', s.from);
      if (s.to) h.append('To', s.to);
      if (s.callId) h.append('Call-ID', s.callId);
      if (s.cseq) h.append('CSeq', s.cseq);
    } catch {
      return;
    }
    const phrase = status === 400 ? `Bad Request (${reason})` : reasonPhrase(status);
    const response = new SipResponse(status, phrase, h);
    this.#log?.info({ status, reason, protocol: flow.protocol }, 'sip malformed request answered');
    this.sendResponse(response, flow).catch((e: unknown) =>
      this.#log?.debug({ err: { message: e instanceof Error ? e.message : String(e) } }, 'could not answer a malformed request'));
  }
}
