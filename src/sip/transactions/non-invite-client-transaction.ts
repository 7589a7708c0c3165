/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
 *
 *   Trying --1xx--> Proceeding --200-699--> Completed --Timer K--> Terminated
 *     |  \______________200-699______________^
 *     +--Timer F or transport error--> Terminated (TU informed)
 * Timer E retransmits over UDP: T1, doubling to T2 in Trying; every T2 in Proceeding.
 */
import type { SipRequest, SipResponse } from '../messages/index.ts';
import type { Target } from '../transport/index.ts';
import { ClientTransaction, type ClientTransactionUser } from './client-transaction.ts';
import { sixtyFourT1 } from './timers.ts';
import type { TransactionContext } from './transaction.ts';
import { TransactionState } from './transaction-state.ts';

export class NonInviteClientTransaction extends ClientTransaction {
  readonly kind = 'nict' as const;
  #timerE = 0;

  constructor(id: string, request: SipRequest, target: Target, ctx: TransactionContext, user: ClientTransactionUser) {
    super(id, request, target, TransactionState.Trying, ctx, user);
  }

  start(): void {
    const t = this.ctx.timers;
    // §17.1.2.2: "the client transaction MUST set timer F to fire in 64*T1 seconds."
    this.startTimer('F', sixtyFourT1(t), () => {
      // "If Timer F fires while the client transaction is still in the 'Trying' [or 'Proceeding'] state, the client
      // transaction SHOULD inform the TU about the timeout, and then it SHOULD enter the 'Terminated' state."
      if (this.state === TransactionState.Trying || this.state === TransactionState.Proceeding) this.timedOut();
    });
    this.send(() => {
      // "If an unreliable transport is in use, the client transaction MUST set timer E to fire in T1 seconds."
      if (!this.reliable && this.state !== TransactionState.Completed) {
        this.#timerE = t.T1;
        this.startTimer('E', this.#timerE, () => this.#fireE());
      }
    });
  }

  #fireE(): void {
    const t = this.ctx.timers;
    if (this.state === TransactionState.Trying) {
      // "If timer E fires while still in this state, the timer is reset, but this time with a value of MIN(2*T1, T2).
      // When the timer fires again, it is reset to a MIN(4*T1, T2)."
      this.retransmit();
      this.#timerE = Math.min(this.#timerE * 2, t.T2);
      this.startTimer('E', this.#timerE, () => this.#fireE());
    } else if (this.state === TransactionState.Proceeding) {
      // "If Timer E fires while in the 'Proceeding' state, the request MUST be passed to the transport layer for
      // retransmission, and Timer E MUST be reset with a value of T2 seconds."
      this.retransmit();
      this.#timerE = t.T2;
      this.startTimer('E', this.#timerE, () => this.#fireE());
    }
  }

  receiveResponse(response: SipResponse): void {
    if (this.state !== TransactionState.Trying && this.state !== TransactionState.Proceeding) return; // Completed absorbs
    if (response.status < 200) {
      // "If a provisional response is received while in the 'Trying' state, the response MUST be passed to the TU,
      // and then the client transaction SHOULD move to the 'Proceeding' state."
      if (this.state === TransactionState.Trying) this.transition(TransactionState.Proceeding);
      this.passUp(response);
      return;
    }
    // "If a final response (status codes 200-699) is received while in the 'Trying' [or 'Proceeding'] state, the
    // response MUST be passed to the TU, and the client transaction MUST transition to the 'Completed' state."
    this.stopTimer('E');
    this.stopTimer('F');
    this.transition(TransactionState.Completed);
    this.passUp(response);
    // "timer K ... T4 seconds for unreliable transports, and zero seconds for reliable transports."
    if ((this.state as TransactionState) !== TransactionState.Completed) return;
    if (this.reliable) this.transition(TransactionState.Terminated);
    else this.startTimer('K', this.ctx.timers.T4, () => this.transition(TransactionState.Terminated));
  }
}
