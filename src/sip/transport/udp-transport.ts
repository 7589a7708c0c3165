/**
 * SIP over UDP (RFC 3261 §18): one datagram is one message (§18.3: extra octets after Content-Length are
 * ignored, a missing Content-Length means the rest of the datagram). A datagram of CR/LF only is a RFC 5626
 * §4.4.1 keep-alive and is ignored. Errors on the socket are reported, never thrown at a caller.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { CardlineError } from '../../errors/index.ts';
import { DEFAULT_MAX_MESSAGE_SIZE, parseSipMessage, SipParseError } from '../messages/index.ts';
import type { Destination, Endpoint, Flow, Transport, TransportEvents } from './transport.ts';

/** The largest UDP payload over IPv4 (65535 − 8 UDP − 20 IP). */
export const MAX_UDP_PAYLOAD = 65507;

export interface UdpTransportOptions {
  /** Bind address; default 127.0.0.1. */
  address?: string;
  /** Bind port; 0 (default) picks an ephemeral port. */
  port?: number;
  /** Via sent-by to advertise (e.g. behind NAT); default the bound address and port. */
  sentBy?: { host: string; port: number };
  maxMessageSize?: number;
}

export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  #opts: UdpTransportOptions;
  #socket: Socket | undefined;
  #local: Endpoint;
  #handler: TransportEvents | undefined;
  #closed = false;

  constructor(opts: UdpTransportOptions = {}) {
    this.#opts = opts;
    this.#local = { address: opts.address ?? '127.0.0.1', port: opts.port ?? 0 };
  }

  get local(): Endpoint {
    return { ...this.#local };
  }

  get sentBy(): { host: string; port: number } {
    return this.#opts.sentBy ?? { host: this.#local.address, port: this.#local.port };
  }

  setHandler(handler: TransportEvents): void {
    this.#handler = handler;
  }

  async start(): Promise<void> {
    if (this.#socket) return;
    const socket = createSocket({ type: isIPv6(this.#local.address) ? 'udp6' : 'udp4' });
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#onDatagram(msg, { address: rinfo.address, port: rinfo.port }));
    socket.on('error', (e) => this.#handler?.error(e));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#local.port, this.#local.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const a = socket.address();
    this.#local = { address: a.address, port: a.port };
  }

  #onDatagram(msg: Buffer, remote: Endpoint): void {
    if (msg.every((b) => b === 0x0d || b === 0x0a)) return; // RFC 5626 §4.4.1 keep-alive
    const flow: Flow = { protocol: 'udp', local: this.local, remote, connectionId: undefined };
    const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    try {
      const message = parseSipMessage(bytes, { framing: 'datagram', maxMessageSize: this.#opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE });
      this.#handler?.packet({ kind: 'message', message, flow });
    } catch (e) {
      if (e instanceof SipParseError) this.#handler?.packet({ kind: 'malformed', error: e, bytes: new Uint8Array(bytes), flow });
      else this.#handler?.error(e instanceof Error ? e : new Error(String(e)));
    }
  }

  async send(bytes: Uint8Array, destination: Destination): Promise<Flow> {
    const socket = this.#socket;
    if (!socket || this.#closed) throw new CardlineError('sip-transport-error', 'UDP transport is not running');
    if (bytes.length > MAX_UDP_PAYLOAD) throw new CardlineError('sip-transport-error', `message of ${bytes.length} bytes exceeds a UDP datagram`);
    await new Promise<void>((resolve, reject) => {
      socket.send(bytes, destination.port, destination.address, (err) => (err ? reject(new CardlineError('sip-transport-error', 'UDP send failed', { cause: err })) : resolve()));
    });
    return { protocol: 'udp', local: this.local, remote: { address: destination.address, port: destination.port }, connectionId: undefined };
  }

  addAlias(): void {
    // Datagrams have no connection to reuse.
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
