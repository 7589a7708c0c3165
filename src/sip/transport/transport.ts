/**
 * The network port of the SIP stack (house style 7; RFC 3261 §18). A `Transport` moves framed SIP messages
 * for one protocol (UDP, TCP or TLS) on one local address; the transport layer above it does the RFC 3261
 * §18 work that is the same for every protocol (Via stamping, response routing, malformed-request answers).
 */
import type { SipMessage, SipParseError } from '../messages/index.ts';

export type TransportProtocol = 'udp' | 'tcp' | 'tls';

/** A numeric IP address and port. IPv6 addresses are written without brackets here. */
export interface Endpoint {
  address: string;
  port: number;
}

/**
 * Where a message came from or went to: the protocol, both ends and, for TCP/TLS, the connection it used —
 * RFC 3261 §18.2.2 sends a response back "using the existing connection to the source of the original request".
 */
export interface Flow {
  protocol: TransportProtocol;
  local: Endpoint;
  remote: Endpoint;
  /** Identifies the TCP/TLS connection; undefined for UDP. */
  connectionId: number | undefined;
}

/** Where to send: a resolved address, and for TLS the name to verify the peer certificate against. */
export interface Destination extends Endpoint {
  /** TLS server name (SNI and certificate check); defaults to the address. */
  serverName?: string;
  /** Use this TCP/TLS connection if it is still open (responses, RFC 5923 reuse). */
  connectionId?: number;
}

/** What a transport hands up: a parsed message, or bytes it could not parse (for a 400, RFC 3261 §21.4.1). */
export type InboundPacket =
  | { kind: 'message'; message: SipMessage; flow: Flow }
  | { kind: 'malformed'; error: SipParseError; bytes: Uint8Array; flow: Flow };

export interface TransportEvents {
  packet(p: InboundPacket): void;
  /** A transport-level problem (socket error, refused connection): logged, never thrown at the caller. */
  error(e: Error): void;
}

export interface Transport {
  readonly protocol: TransportProtocol;
  /** TCP and TLS are reliable: no retransmission timers A, E, G (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1). */
  readonly reliable: boolean;
  /** The bound address; port is known after `start()` (port 0 binds an ephemeral one). */
  readonly local: Endpoint;
  /** The host and port written into Via sent-by (§18.1.1); defaults to `local`. */
  readonly sentBy: { host: string; port: number };
  start(): Promise<void>;
  /** Sends one serialized message; resolves with the flow used (a new connection may be opened). */
  send(bytes: Uint8Array, destination: Destination): Promise<Flow>;
  /** RFC 5923-style reuse: requests to `endpoint` may use connection `connectionId`. No-op for UDP. */
  addAlias(connectionId: number, endpoint: Endpoint): void;
  /** Idempotent: stops listening and closes every connection. */
  close(): Promise<void>;
  setHandler(handler: TransportEvents): void;
}

export function endpointKey(e: Endpoint): string {
  return `${e.address.toLowerCase()}|${e.port}`;
}

/** Default ports: 5060 for UDP/TCP, 5061 for TLS (RFC 3261 §19.1.2). */
export function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'tls' ? 5061 : 5060;
}

/** Writes an address for a Via sent-by or URI host: IPv6 gets brackets (RFC 3261 §25.1 IPv6reference). */
export function hostForUri(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}
