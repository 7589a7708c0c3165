/**
 * What both client transactions share (RFC 3261 §17.1): the request goes out once through the transport layer,
 * retransmissions reuse the very same bytes and flow, and the TU hears about responses, Timer B/F timeouts and
 * transport failures (§17.1.4: "inform the TU that a transport failure has occurred ... transition directly to
 * the Terminated state"). `finalResponse` is the same information as a promise.
 */
import { CardlineError } from '../../errors/index.ts';
import type { SipRequest, SipResponse } from '../messages/index.ts';
import type { SentRequest, Target } from '../transport/index.ts';
import { Transaction, type TransactionContext } from './transaction.ts';
import { TransactionState } from './transaction-state.ts';

export interface ClientTransactionUser {
  /** Every response the transaction passes up: provisional, final, and (INVITE) 2xx retransmissions. */
  onResponse?(response: SipResponse, tx: ClientTransaction): void;
  /** Timer B or F fired: treat as 408 (§8.1.3.1). */
  onTimeout?(tx: ClientTransaction): void;
  /** The request could not be sent: treat as 503 (§8.1.3.1). */
  onTransportError?(error: Error, tx: ClientTransaction): void;
}

export abstract class ClientTransaction extends Transaction {
  readonly target: Target;
  protected user: ClientTransactionUser;
  protected sent: SentRequest | undefined;
  readonly finalResponse: Promise<SipResponse>;
  #resolveFinal!: (r: SipResponse) => void;
  #rejectFinal!: (e: Error) => void;
  #settled = false;

  constructor(id: string, request: SipRequest, target: Target, initial: TransactionState, ctx: TransactionContext, user: ClientTransactionUser) {
    super(id, request, initial, ctx);
    this.target = target;
    this.user = user;
    this.finalResponse = new Promise<SipResponse>((resolve, reject) => {
      this.#resolveFinal = resolve;
      this.#rejectFinal = reject;
    });
    this.finalResponse.catch(() => undefined); // a TU that only uses callbacks must not see unhandled rejections
  }

  /** True once sent over TCP/TLS: no retransmission timers, zero-length wait timers (§17.1.1.2, §17.1.2.2). */
  get reliable(): boolean {
    return this.sent !== undefined && this.sent.flow.protocol !== 'udp';
  }

  /** The flow the request went out on (after `start()` resolved). */
  get sentRequest(): SentRequest | undefined {
    return this.sent;
  }

  /** Sends the request and arms the timers. */
  abstract start(): void;
  /** A response matched to this transaction by the layer (§17.1.3). */
  abstract receiveResponse(response: SipResponse): void;

  protected send(onSent: () => void): void {
    this.ctx.transport.sendRequest(this.request, this.target).then((sent) => {
      this.sent = sent;
      if (this.state !== TransactionState.Terminated) onSent();
    }, (e: unknown) => this.transportFailed(e));
  }

  protected retransmit(): void {
    if (this.sent) this.ctx.transport.resend(this.sent).catch((e: unknown) => this.transportFailed(e));
  }

  protected passUp(response: SipResponse): void {
    if (response.status >= 200 && !this.#settled) {
      this.#settled = true;
      this.#resolveFinal(response);
    }
    this.safely(() => this.user.onResponse?.(response, this));
  }

  protected timedOut(): void {
    this.#fail(new CardlineError('sip-timeout', `no final response to ${this.request.method}`));
    this.transition(TransactionState.Terminated);
    this.safely(() => this.user.onTimeout?.(this));
  }

  protected transportFailed(e: unknown): void {
    if (this.state === TransactionState.Terminated) return;
    this.logSendFailure(e, `${this.request.method} send`);
    const err = e instanceof Error ? e : new CardlineError('sip-transport-error', String(e));
    this.#fail(err);
    this.transition(TransactionState.Terminated);
    this.safely(() => this.user.onTransportError?.(err, this));
  }

  protected override onTerminate(): void {
    this.#fail(new CardlineError('sip-state', `${this.request.method} transaction terminated without a final response`));
  }

  #fail(e: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#rejectFinal(e);
  }
}
