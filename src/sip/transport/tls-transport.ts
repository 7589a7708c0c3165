/**
 * SIP over TLS (RFC 3261 §26.2.1, RFC 5630): a `StreamTransport` on `node:tls`. Certificates come from
 * configuration. As a client the peer certificate is verified against `ca` (or the system store) and the
 * destination's server name (SNI, RFC 6066 §3, is sent only for names, never for IP literals).
 */
import { isIP } from 'node:net';
import type { Server, Socket } from 'node:net';
import { connect, createServer, type SecureContextOptions } from 'node:tls';
import { awaitConnected, StreamTransport, type StreamTransportOptions } from './stream-transport.ts';
import type { Destination } from './transport.ts';

export interface TlsTransportOptions extends StreamTransportOptions {
  /** PEM private key and certificate chain presented by this side (server, and client for mutual TLS). */
  key: string | Buffer;
  cert: string | Buffer;
  /** Trusted CAs for verifying peers; default the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Ask connecting clients for a certificate (mutual TLS). Default false. */
  requestClientCert?: boolean;
  /** Verify peers' certificates (default true). Turning this off is for lab use only. */
  verifyPeer?: boolean;
}

export class TlsTransport extends StreamTransport {
  readonly protocol = 'tls' as const;
  #tls: TlsTransportOptions;

  constructor(opts: TlsTransportOptions) {
    super(opts);
    this.#tls = opts;
  }

  #context(): SecureContextOptions {
    return { key: this.#tls.key, cert: this.#tls.cert, ...(this.#tls.ca !== undefined ? { ca: this.#tls.ca } : {}), minVersion: 'TLSv1.2' };
  }

  protected createServer(onSocket: (s: Socket) => void): Server {
    const server = createServer({
      ...this.#context(),
      requestCert: this.#tls.requestClientCert ?? false,
      rejectUnauthorized: (this.#tls.requestClientCert ?? false) && (this.#tls.verifyPeer ?? true),
    }, onSocket);
    // A failed handshake is the peer's problem; it must not reach the 'error' of the server.
    server.on('tlsClientError', () => undefined);
    return server;
  }

  protected async connect(d: Destination, timeoutMs: number): Promise<Socket> {
    const name = d.serverName ?? d.address;
    const socket = connect({
      ...this.#context(),
      host: d.address,
      port: d.port,
      ...(isIP(name) === 0 ? { servername: name } : {}),
      rejectUnauthorized: this.#tls.verifyPeer ?? true,
    });
    return awaitConnected(socket, 'secureConnect', timeoutMs);
  }
}
