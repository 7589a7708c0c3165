/** SIP over TCP (RFC 3261 §18): a `StreamTransport` on `node:net`. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { StreamTransport } from './stream-transport.ts';
import type { Destination } from './transport.ts';

export class TcpTransport extends StreamTransport {
  readonly protocol = 'tcp' as const;

  protected createServer(onSocket: (s: Socket) => void): Server {
    return createServer(onSocket);
  }

  protected connect(d: Destination, timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: d.address, port: d.port });
      const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', reject);
        resolve(socket);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }
}
