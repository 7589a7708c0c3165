/** An in-memory `TransactionTransport` that records what transactions send, stamped with the fake clock's time. */
import type { SipRequest, SipResponse } from '../../../src/sip/messages/index.ts';
import type { TransactionTransport } from '../../../src/sip/transactions/index.ts';
import type { Flow, SentRequest, Target, TransportProtocol } from '../../../src/sip/transport/index.ts';
import { serializeSipMessage } from '../../../src/sip/messages/index.ts';

export interface Sent { at: number; kind: 'request' | 'resend' | 'response'; method?: string; status?: number; message?: SipRequest | SipResponse }

export class FakeTransport implements TransactionTransport {
  readonly log: Sent[] = [];
  failSends = false;
  readonly protocol: TransportProtocol;
  readonly #now: () => number;

  constructor(now: () => number, protocol: TransportProtocol = 'udp') {
    this.#now = now;
    this.protocol = protocol;
  }

  flow(): Flow {
    return { protocol: this.protocol, local: { address: '127.0.0.1', port: 5060 }, remote: { address: '127.0.0.1', port: 5070 }, connectionId: this.protocol === 'udp' ? undefined : 1 };
  }

  async sendRequest(request: SipRequest, target: Target): Promise<SentRequest> {
    if (this.failSends) throw new Error('network unreachable');
    this.log.push({ at: this.#now(), kind: 'request', method: request.method, message: request });
    return { bytes: serializeSipMessage(request), target, flow: this.flow() };
  }

  async resend(sent: SentRequest): Promise<void> {
    this.log.push({ at: this.#now(), kind: 'resend', method: new TextDecoder().decode(sent.bytes).split(' ')[0]! });
  }

  async sendResponse(response: SipResponse): Promise<Flow> {
    if (this.failSends) throw new Error('network unreachable');
    this.log.push({ at: this.#now(), kind: 'response', status: response.status, message: response });
    return this.flow();
  }

  times(kind: Sent['kind'], pred: (s: Sent) => boolean = () => true): number[] {
    return this.log.filter((s) => s.kind === kind && pred(s)).map((s) => s.at);
  }
}
