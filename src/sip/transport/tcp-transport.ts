/** SIP over TCP (RFC 3261 §18): a `StreamTransport` on `node:net`. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { awaitConnected, StreamTransport } from './stream-transport.ts';
import type { Destination } from './transport.ts';

export class TcpTransport extends StreamTransport {
  readonly protocol = 'tcp' as const;

  protected createServer(onSocket: (s: Socket) => void): Server {
    return createServer(onSocket);
  }

  protected async connect(d: Destination, timeoutMs: number): Promise<Socket> {
    return awaitConnected(connect({ host: d.address, port: d.port }), 'connect', timeoutMs);
  }
}
