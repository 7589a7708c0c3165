/**
 * INVITE server transaction (RFC 3261 §17.2.1, Figure 7, as updated by RFC 6026 §7.1).
 *
 *             |INVITE → TU; 100 Trying if the TU is silent for 200 ms
 *             V
 *       Proceeding --1xx from TU: send-->  (INVITE retransmission: resend last provisional)
 *        |      \--2xx from TU: send--> Accepted --Timer L--> Terminated   (2xx from TU: send; ACK → TU)
 *        | 300-699 from TU: send
 *        V
 *     Completed --ACK--> Confirmed --Timer I--> Terminated
 *        |  Timer G: resend final (T1 doubling to T2, UDP only); INVITE retransmission: resend final
 *        +--Timer H (no ACK in 64*T1)--> Terminated, TU told
 */
import { CardlineError } from '../../errors/index.ts';
import type { SipRequest, SipResponse } from '../messages/index.ts';
import type { Flow } from '../transport/index.ts';
import { ServerTransaction } from './server-transaction.ts';
import { sixtyFourT1 } from './timers.ts';
import type { TransactionContext } from './transaction.ts';
import { TransactionState } from './transaction-state.ts';

export class InviteServerTransaction extends ServerTransaction {
  readonly kind = 'ist' as const;
  #lastProvisional: SipResponse | undefined;
  #finalSent = false;
  #timerG = 0;
  #cancelled = false;
  /** Timer H fired: the non-2xx final was never acknowledged. */
  onAckTimeout: (() => void) | undefined;
  /** RFC 6026 §7.1: an ACK matching this transaction in "Accepted" goes to the TU. */
  onAck: ((ack: SipRequest) => void) | undefined;
  /** A CANCEL matched this INVITE while it was still proceeding (§9.2); set by the TU. */
  onCancel: ((cancel: SipRequest) => void) | undefined;

  constructor(id: string, request: SipRequest, flow: Flow, ctx: TransactionContext) {
    super(id, request, flow, TransactionState.Proceeding, ctx);
  }

  get finalSent(): boolean {
    return this.#finalSent;
  }

  /** True once a CANCEL for this INVITE was accepted (§9.2). */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Arms the 100 Trying rule: "the server transaction MUST generate a 100 (Trying) response" unless the TU sends
   *  a provisional response within 200 ms (§17.2.1). */
  start(): void {
    const delay = this.ctx.timers.tryingDelay;
    if (delay === 0) this.#sendTrying();
    else this.startTimer('Trying', delay, () => this.#sendTrying());
  }

  #sendTrying(): void {
    if (this.state === TransactionState.Proceeding && !this.#lastProvisional) this.reply(100);
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (this.state === TransactionState.Proceeding) {
      if (status < 200) {
        // "So long as the server transaction is in the 'Proceeding' state, each of these MUST be passed to the
        // transport layer for transmission."
        this.stopTimer('Trying');
        this.#lastProvisional = response;
        this.transmit(response);
      } else if (status < 300) {
        // RFC 6026 §8.5: "the server transaction MUST pass this response to the transport layer ... [and] transition
        // to the 'Accepted' state"; Timer L (64*T1) then absorbs INVITE retransmissions.
        this.#final(response);
        this.transition(TransactionState.Accepted);
        this.startTimer('L', sixtyFourT1(this.ctx.timers), () => this.transition(TransactionState.Terminated));
      } else {
        // "the response MUST be passed to the transport layer for transmission, and the state machine MUST enter the
        // 'Completed' state. For unreliable transports, timer G is set to fire in T1 seconds ... timer H MUST be set
        // to fire in 64*T1 seconds for all transports."
        this.#final(response);
        this.transition(TransactionState.Completed);
        if (!this.reliable) {
          this.#timerG = this.ctx.timers.T1;
          this.startTimer('G', this.#timerG, () => this.#fireG());
        }
        this.startTimer('H', sixtyFourT1(this.ctx.timers), () => {
          // "If timer H fires while in the 'Completed' state, it implies that the ACK was never received. In this case,
          // the server transaction MUST transition to the 'Terminated' state, and MUST indicate to the TU that a
          // transaction failure has occurred."
          this.transition(TransactionState.Terminated);
          this.safely(() => this.onAckTimeout?.());
        });
      }
      return;
    }
    if (this.state === TransactionState.Accepted && status >= 200 && status < 300) {
      // RFC 6026 §8.7: "While in the 'Accepted' state, if the TU passes a 2xx response, the server transaction MUST
      // pass the response to the transport layer for transmission" (the UAS core's §13.3.1.4 retransmissions).
      this.lastResponse = response;
      this.transmit(response);
      return;
    }
    throw new CardlineError('sip-state', `cannot send ${status} to an INVITE in state ${this.state}`);
  }

  #final(response: SipResponse): void {
    this.stopTimer('Trying');
    this.#finalSent = true;
    this.lastResponse = response;
    this.transmit(response);
  }

  #fireG(): void {
    if (this.state !== TransactionState.Completed || !this.lastResponse) return;
    // "If timer G fires, the response is passed to the transport layer once more for retransmission, and timer G is
    // set to fire in MIN(2*T1, T2) seconds. From then on, when timer G fires, the timer is reset to MIN(4*T1, T2)".
    this.transmit(this.lastResponse);
    this.#timerG = Math.min(this.#timerG * 2, this.ctx.timers.T2);
    this.startTimer('G', this.#timerG, () => this.#fireG());
  }

  receiveRequest(request: SipRequest): void {
    if (request.method === 'INVITE') {
      // "If a request retransmission is received while in the 'Proceeding' state, the most recent provisional
      // response that was received from the TU MUST be passed to the transport layer for retransmission."
      if (this.state === TransactionState.Proceeding && this.#lastProvisional) this.transmit(this.#lastProvisional);
      // "while in the 'Completed' state, if a request retransmission is received, the server SHOULD pass the response
      // to the transport for retransmission."
      else if (this.state === TransactionState.Completed && this.lastResponse) this.transmit(this.lastResponse);
      // Accepted and Confirmed absorb retransmissions (RFC 6026 §7.1, §17.2.1).
      return;
    }
    if (request.method === 'ACK') {
      if (this.state === TransactionState.Completed) {
        // "If an ACK is received while the server transaction is in the 'Completed' state, the server transaction MUST
        // transition to the 'Confirmed' state. ... timer I is set to fire in T4 seconds for unreliable transports,
        // and zero seconds for reliable transports."
        this.stopTimer('G');
        this.stopTimer('H');
        this.transition(TransactionState.Confirmed);
        if (this.reliable) this.transition(TransactionState.Terminated);
        else this.startTimer('I', this.ctx.timers.T4, () => this.transition(TransactionState.Terminated));
      } else if (this.state === TransactionState.Accepted) {
        this.safely(() => this.onAck?.(request));
      }
    }
  }

  /** Called by the layer when a CANCEL matched this INVITE (§9.2). Returns false if it is too late to cancel. */
  cancel(cancel: SipRequest): boolean {
    if (this.state !== TransactionState.Proceeding || this.#cancelled) return false;
    this.#cancelled = true;
    this.safely(() => this.onCancel?.(cancel));
    return true;
  }
}
