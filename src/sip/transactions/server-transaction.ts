/**
 * What both server transactions share (RFC 3261 §17.2): responses go back through the transport layer on the flow
 * the request came in on (§18.2.2), and one To tag is chosen per transaction so every response the TU sends
 * carries the same tag (§8.2.6.2, §12.1.1) unless the request already had one.
 */
import { createResponse, newTag, type CreateResponseOptions, type SipRequest, type SipResponse } from '../messages/index.ts';
import type { Flow } from '../transport/index.ts';
import { Transaction, type TransactionContext } from './transaction.ts';
import type { TransactionState } from './transaction-state.ts';

export abstract class ServerTransaction extends Transaction {
  readonly flow: Flow;
  /** The To tag this transaction's responses carry (the request's own tag for in-dialog requests). */
  readonly toTag: string;
  protected lastResponse: SipResponse | undefined;
  /** Called if sending a response fails (§17.2.4). */
  onTransportError: ((e: Error) => void) | undefined;

  constructor(id: string, request: SipRequest, flow: Flow, initial: TransactionState, ctx: TransactionContext, toTag?: string) {
    super(id, request, initial, ctx);
    this.flow = flow;
    this.toTag = request.toTag() ?? toTag ?? newTag();
  }

  get reliable(): boolean {
    return this.flow.protocol !== 'udp';
  }

  /** True once a final response was sent. */
  abstract get finalSent(): boolean;

  /** Passes a response from the TU to the transaction (which sends it and moves state). */
  abstract respond(response: SipResponse): void;

  /** A retransmission of the request (or an ACK, for INVITE) matched to this transaction. */
  abstract receiveRequest(request: SipRequest): void;

  /** Builds a response to this request with this transaction's To tag (§8.2.6) and sends it. */
  reply(status: number, opts: CreateResponseOptions = {}): SipResponse {
    const response = createResponse(this.request, status, { toTag: this.toTag, ...opts });
    this.respond(response);
    return response;
  }

  protected transmit(response: SipResponse): void {
    this.ctx.transport.sendResponse(response, this.flow).catch((e: unknown) => {
      this.logSendFailure(e, `${response.status} send`);
      const err = e instanceof Error ? e : new Error(String(e));
      this.safely(() => this.onTransportError?.(err));
    });
  }
}
