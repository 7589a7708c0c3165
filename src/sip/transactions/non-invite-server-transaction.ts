/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
 *
 *   Trying --1xx from TU--> Proceeding --200-699 from TU--> Completed --Timer J--> Terminated
 *     \_______________________200-699 from TU________________^
 * Retransmitted requests are absorbed in Trying and answered with the last response afterwards.
 */
import { CardlineError } from '../../errors/index.ts';
import type { SipRequest, SipResponse } from '../messages/index.ts';
import type { Flow } from '../transport/index.ts';
import { ServerTransaction } from './server-transaction.ts';
import { sixtyFourT1 } from './timers.ts';
import type { TransactionContext } from './transaction.ts';
import { TransactionState } from './transaction-state.ts';

export class NonInviteServerTransaction extends ServerTransaction {
  readonly kind = 'nist' as const;
  #finalSent = false;

  /** `toTag`: for a CANCEL, the INVITE's tag — §9.2: "The To tag of the response to the CANCEL and the To tag in the
   *  response to the original request SHOULD be the same." */
  constructor(id: string, request: SipRequest, flow: Flow, ctx: TransactionContext, toTag?: string) {
    super(id, request, flow, TransactionState.Trying, ctx, toTag);
  }

  get finalSent(): boolean {
    return this.#finalSent;
  }

  respond(response: SipResponse): void {
    if (this.state !== TransactionState.Trying && this.state !== TransactionState.Proceeding) {
      // "Any other final responses passed by the TU to the server transaction MUST be discarded while in the
      // 'Completed' state." Discarding silently would hide a TU bug, so it is an error here.
      throw new CardlineError('sip-state', `cannot send ${response.status} to a ${this.request.method} in state ${this.state}`);
    }
    this.lastResponse = response;
    this.transmit(response);
    if (response.status < 200) {
      // "While in the 'Trying' state, if the TU passes a provisional response to the server transaction, the server
      // transaction MUST enter the 'Proceeding' state."
      if (this.state === TransactionState.Trying) this.transition(TransactionState.Proceeding);
      return;
    }
    // "If the TU passes a final response (status codes 200-699) ... the server transaction MUST enter the 'Completed'
    // state ... timer J [is set] to fire in 64*T1 seconds for unreliable transports, and zero seconds for reliable".
    this.#finalSent = true;
    this.transition(TransactionState.Completed);
    if (this.reliable) this.transition(TransactionState.Terminated);
    else this.startTimer('J', sixtyFourT1(this.ctx.timers), () => this.transition(TransactionState.Terminated));
  }

  receiveRequest(request: SipRequest): void {
    if (request.method !== this.request.method) return;
    // "Once in the 'Trying' state, any further request retransmissions are discarded." In Proceeding and Completed
    // the last response "MUST be passed to the transport layer for retransmission".
    if ((this.state === TransactionState.Proceeding || this.state === TransactionState.Completed) && this.lastResponse) {
      this.transmit(this.lastResponse);
    }
  }
}
