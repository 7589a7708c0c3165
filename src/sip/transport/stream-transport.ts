/**
 * SIP over a byte stream — TCP (RFC 3261 §18) and TLS (§26.2, RFC 5246/8446 via `node:tls`). Shared by
 * `TcpTransport` and `TlsTransport`, which only differ in how sockets are made.
 *
 * - Framing by Content-Length (`StreamFramer`): partial reads, several messages per read, a size bound.
 * - Connection reuse: every connection is indexed by its remote address; an incoming request whose top Via
 *   carries `alias` (RFC 5923 §5) also indexes it by the Via sent-by, so requests to that peer reuse it.
 *   Concurrent sends to one destination share one connect attempt.
 * - Idle connections close after `idleTimeoutMs` without traffic; at most `maxConnections` are kept.
 * - A framing error answers (through the layer) and then closes the connection: a stream that lost its
 *   framing cannot be re-synchronised.
 */
import type { Server, Socket } from 'node:net';
import { CardlineError } from '../../errors/index.ts';
import { DEFAULT_MAX_MESSAGE_SIZE, parseSipMessage, SipParseError } from '../messages/index.ts';
import { StreamFramer } from './stream-framer.ts';
import { endpointKey, type Destination, type Endpoint, type Flow, type Transport, type TransportEvents } from './transport.ts';

/**
 * Waits for an outgoing connection to be usable (`connect` for TCP, `secureConnect` for TLS), or fails it after
 * `timeoutMs`. The error listener is removed once connected, so later errors reach the transport's own handler.
 */
export function awaitConnected(socket: Socket, readyEvent: 'connect' | 'secureConnect', timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), timeoutMs);
    const onError = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    socket.once('error', onError);
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
}

export interface StreamTransportOptions {
  /** Bind address; default 127.0.0.1. */
  address?: string;
  /** Listen port; 0 (default) picks an ephemeral port. */
  port?: number;
  /** Via sent-by to advertise; default the listening address and port. */
  sentBy?: { host: string; port: number };
  /** Largest message accepted on a connection (default 65535). */
  maxMessageSize?: number;
  /** Close a connection after this long without traffic (default 5 minutes). */
  idleTimeoutMs?: number;
  /** Give up a connect after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Most open connections, inbound and outbound together (default 1024). */
  maxConnections?: number;
}

interface Connection {
  id: number;
  socket: Socket;
  framer: StreamFramer;
  local: Endpoint;
  remote: Endpoint;
  keys: Set<string>;
  closing: boolean;
}

let nextConnectionId = 1;

export abstract class StreamTransport implements Transport {
  abstract readonly protocol: 'tcp' | 'tls';
  readonly reliable = true;
  protected readonly opts: StreamTransportOptions;
  #server: Server | undefined;
  #local: Endpoint;
  #handler: TransportEvents | undefined;
  #conns = new Map<number, Connection>();
  #byKey = new Map<string, number>();
  #connecting = new Map<string, Promise<Connection>>();
  #closed = false;

  constructor(opts: StreamTransportOptions = {}) {
    this.opts = opts;
    this.#local = { address: opts.address ?? '127.0.0.1', port: opts.port ?? 0 };
  }

  /** Makes the listening server; `onSocket` must be called with each accepted (for TLS: secured) socket. */
  protected abstract createServer(onSocket: (s: Socket) => void): Server;
  /** Opens a connection and resolves once it can carry SIP (after the TLS handshake for TLS). */
  protected abstract connect(destination: Destination, timeoutMs: number): Promise<Socket>;

  get local(): Endpoint {
    return { ...this.#local };
  }

  get sentBy(): { host: string; port: number } {
    return this.opts.sentBy ?? { host: this.#local.address, port: this.#local.port };
  }

  /** Open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.#conns.size;
  }

  setHandler(handler: TransportEvents): void {
    this.#handler = handler;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const server = this.createServer((s) => this.#adopt(s));
    this.#server = server;
    server.on('error', (e) => this.#handler?.error(e));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#local.port, this.#local.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    if (a && typeof a === 'object') this.#local = { address: a.address, port: a.port };
  }

  #adopt(socket: Socket): Connection | undefined {
    if (this.#closed || this.#conns.size >= (this.opts.maxConnections ?? 1024)) {
      socket.destroy();
      return undefined;
    }
    const conn: Connection = {
      id: nextConnectionId++,
      socket,
      framer: new StreamFramer(this.opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE),
      local: { address: socket.localAddress ?? this.#local.address, port: socket.localPort ?? this.#local.port },
      remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      keys: new Set(),
      closing: false,
    };
    this.#conns.set(conn.id, conn);
    this.#index(conn, conn.remote);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleTimeoutMs ?? 300_000);
    socket.on('timeout', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.#onData(conn, chunk));
    socket.on('error', (e) => this.#handler?.error(e));
    socket.on('close', () => this.#forget(conn));
    return conn;
  }

  #index(conn: Connection, e: Endpoint): void {
    const key = endpointKey(e);
    conn.keys.add(key);
    this.#byKey.set(key, conn.id);
  }

  #forget(conn: Connection): void {
    this.#conns.delete(conn.id);
    for (const k of conn.keys) if (this.#byKey.get(k) === conn.id) this.#byKey.delete(k);
  }

  #flow(conn: Connection): Flow {
    return { protocol: this.protocol, local: { ...conn.local }, remote: { ...conn.remote }, connectionId: conn.id };
  }

  #onData(conn: Connection, chunk: Buffer): void {
    if (conn.closing) return;
    for (const ev of conn.framer.push(chunk)) {
      if (ev.kind === 'ping') {
        conn.socket.write('\r\n'); // RFC 5626 §3.5.1 pong
      } else if (ev.kind === 'error') {
        conn.closing = true;
        this.#handler?.packet({ kind: 'malformed', error: ev.error, bytes: ev.bytes, flow: this.#flow(conn) });
        // Give the layer's 400 a moment to be written, then close (framing is lost).
        setTimeout(() => conn.socket.end(), 200).unref();
      } else {
        try {
          const message = parseSipMessage(ev.bytes, { framing: 'stream', maxMessageSize: conn.framer.maxMessageSize });
          this.#handler?.packet({ kind: 'message', message, flow: this.#flow(conn) });
        } catch (e) {
          if (e instanceof SipParseError) this.#handler?.packet({ kind: 'malformed', error: e, bytes: ev.bytes, flow: this.#flow(conn) });
          else this.#handler?.error(e instanceof Error ? e : new Error(String(e)));
        }
      }
    }
  }

  async send(bytes: Uint8Array, destination: Destination): Promise<Flow> {
    if (this.#closed) throw new CardlineError('sip-transport-error', `${this.protocol.toUpperCase()} transport is closed`);
    const conn = await this.#connectionFor(destination);
    await new Promise<void>((resolve, reject) => {
      conn.socket.write(bytes, (err) => (err ? reject(new CardlineError('sip-transport-error', 'write failed', { cause: err })) : resolve()));
    });
    return this.#flow(conn);
  }

  async #connectionFor(d: Destination): Promise<Connection> {
    const writable = (c: Connection | undefined) => c !== undefined && !c.socket.destroyed && c.socket.writable;
    const usable = (c: Connection | undefined) => writable(c) && !c!.closing;
    if (d.connectionId !== undefined) {
      // A connection that lost its framing still carries our answer (the 400) before it closes.
      const c = this.#conns.get(d.connectionId);
      if (writable(c)) return c!;
    }
    const key = endpointKey(d);
    const id = this.#byKey.get(key);
    const existing = id !== undefined ? this.#conns.get(id) : undefined;
    if (usable(existing)) return existing!;
    let pending = this.#connecting.get(key);
    if (!pending) {
      pending = (async () => {
        let socket: Socket;
        try {
          socket = await this.connect(d, this.opts.connectTimeoutMs ?? 10_000);
        } catch (e) {
          throw new CardlineError('sip-transport-error', `${this.protocol.toUpperCase()} connect failed`, { cause: e });
        }
        const conn = this.#adopt(socket);
        if (!conn) throw new CardlineError('sip-transport-error', 'connection limit reached');
        this.#index(conn, { address: d.address, port: d.port });
        return conn;
      })();
      this.#connecting.set(key, pending);
      pending.then(() => this.#connecting.delete(key), () => this.#connecting.delete(key));
    }
    return pending;
  }

  addAlias(connectionId: number, endpoint: Endpoint): void {
    const conn = this.#conns.get(connectionId);
    if (conn) this.#index(conn, endpoint);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#conns.values()) c.socket.destroy();
    this.#conns.clear();
    this.#byKey.clear();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
