/** A bare UDP socket playing a SIP peer by hand: sees every datagram (with its arrival time) and sends raw text. */
import { createSocket, type Socket } from 'node:dgram';
import { parseSipMessage, serializeSipMessage, type SipMessage } from '../../../src/sip/messages/index.ts';
import { delay } from './messages.ts';

export class UdpPeer {
  readonly received: Array<{ at: number; message: SipMessage; port: number }> = [];
  #sock: Socket;
  port = 0;
  readonly #t0 = Date.now();
  onMessage: ((m: SipMessage, port: number) => void) | undefined;

  /** Now on the clock of `received[].at` (ms since the peer opened). */
  now(): number {
    return Date.now() - this.#t0;
  }

  private constructor() {
    this.#sock = createSocket('udp4');
    this.#sock.on('message', (buf, rinfo) => {
      try {
        const message = parseSipMessage(new Uint8Array(buf));
        this.received.push({ at: Date.now() - this.#t0, message, port: rinfo.port });
        this.onMessage?.(message, rinfo.port);
      } catch {
        // a test peer ignores what it cannot parse
      }
    });
  }

  static async open(): Promise<UdpPeer> {
    const p = new UdpPeer();
    await new Promise<void>((r) => p.#sock.bind(0, '127.0.0.1', () => r()));
    p.port = p.#sock.address().port;
    return p;
  }

  send(message: SipMessage | string, port: number): Promise<void> {
    const bytes = typeof message === 'string' ? new TextEncoder().encode(message) : serializeSipMessage(message);
    return new Promise((r) => this.#sock.send(bytes, port, '127.0.0.1', () => r()));
  }

  requests(method: string) {
    return this.received.filter((r) => r.message.kind === 'request' && r.message.method === method);
  }

  responses(status?: number) {
    return this.received.filter((r) => r.message.kind === 'response' && (status === undefined || r.message.status === status));
  }

  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error('condition not met in time');
      await delay(5);
    }
  }

  close(): void {
    this.#sock.close();
  }
}
