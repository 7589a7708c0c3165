/**
 * INVITE client transaction (RFC 3261 §17.1.1, Figure 5, as updated by RFC 6026 §7.2).
 *
 *                         |INVITE from TU
 *       Timer A fires     |INVITE sent            Timer B fires or transport error
 *       INVITE sent  +----V----+ ---------------------------------------------+
 *            +-------| Calling |-----------+ 2xx → TU                          |
 *            +------>+---------+           |                                   |
 *                  300-699 |  | 1xx → TU   |                                   |
 *          ACK sent, → TU  |  V            V                                   |
 *                  +-------|Proceeding|--> Accepted --Timer M--> Terminated <--+
 *                  V                        (2xx → TU)
 *             Completed (300-699: ACK sent again) --Timer D--> Terminated
 */
import { SipHeaders, SipRequest, type SipResponse } from '../messages/index.ts';
import type { SentRequest, Target } from '../transport/index.ts';
import { ClientTransaction, type ClientTransactionUser } from './client-transaction.ts';
import { sixtyFourT1 } from './timers.ts';
import type { TransactionContext } from './transaction.ts';
import { TransactionState } from './transaction-state.ts';

export class InviteClientTransaction extends ClientTransaction {
  readonly kind = 'ict' as const;
  #timerA = 0;
  #ack: SentRequest | undefined;
  #ackPending: Promise<void> | undefined;
  /** Set by the layer when the TU asked to cancel before any provisional response (§9.1). */
  onFirstProvisional: (() => void) | undefined;

  constructor(id: string, request: SipRequest, target: Target, ctx: TransactionContext, user: ClientTransactionUser) {
    super(id, request, target, TransactionState.Calling, ctx, user);
  }

  start(): void {
    const t = this.ctx.timers;
    // §17.1.1.2: "the client transaction MUST start timer B with a value of 64*T1 seconds".
    this.startTimer('B', sixtyFourT1(t), () => {
      // "If the client transaction is still in the 'Calling' state when timer B fires, the client transaction
      // SHOULD inform the TU that a timeout has occurred."
      if (this.state === TransactionState.Calling) this.timedOut();
    });
    this.send(() => {
      // "If an unreliable transport is being used, the client transaction MUST start timer A with a value of T1."
      if (!this.reliable && this.state === TransactionState.Calling) {
        this.#timerA = t.T1;
        this.startTimer('A', this.#timerA, () => this.#fireA());
      }
    });
  }

  /**
   * §9.1 after a CANCEL went out: "If no final response is received within 64*T1 seconds, the client SHOULD then
   * consider the original transaction cancelled and SHOULD destroy the client transaction".
   */
  armCancelGuard(): void {
    this.startTimer('Cancel', sixtyFourT1(this.ctx.timers), () => {
      if (this.state === TransactionState.Calling || this.state === TransactionState.Proceeding) this.timedOut();
    });
  }

  #fireA(): void {
    if (this.state !== TransactionState.Calling) return;
    // "When timer A fires, the client transaction MUST retransmit the request ... and reset the timer with a value
    // of 2*T1 ... the retransmissions occur with an exponentially increasing interval".
    this.retransmit();
    this.#timerA *= 2;
    this.startTimer('A', this.#timerA, () => this.#fireA());
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case TransactionState.Calling:
      case TransactionState.Proceeding:
        if (status < 200) {
          // "If the client transaction receives a provisional response while in the 'Calling' state, it transitions
          // to the 'Proceeding' state ... Furthermore, the provisional response MUST be passed to the TU."
          if (this.state === TransactionState.Calling) {
            this.stopTimer('A');
            this.stopTimer('B');
            this.transition(TransactionState.Proceeding);
            const hook = this.onFirstProvisional;
            this.onFirstProvisional = undefined;
            if (hook) this.safely(hook);
          }
          this.passUp(response);
        } else if (status < 300) {
          // RFC 6026 §8.4: "a 2xx ... MUST cause the client transaction to enter the 'Accepted' state" and be
          // passed to the TU; Timer M (64*T1) keeps the transaction alive to pass 2xx retransmissions up.
          this.stopTimer('A');
          this.stopTimer('B');
          this.transition(TransactionState.Accepted);
          this.startTimer('M', sixtyFourT1(this.ctx.timers), () => this.transition(TransactionState.Terminated));
          this.passUp(response);
        } else {
          // "When in either the 'Calling' or 'Proceeding' states, reception of a response with status code from
          // 300-699 MUST cause the client transaction to transition to 'Completed'. The client transaction MUST pass
          // the received response up to the TU, and the client transaction MUST generate an ACK request".
          this.stopTimer('A');
          this.stopTimer('B');
          this.transition(TransactionState.Completed);
          this.#sendAck(response);
          this.passUp(response);
          // "set timer D ... at least 32 seconds for unreliable transports, and ... zero seconds for reliable".
          // (64*T1 is 32 s at the default T1; it scales down with T1 in tests.)
          if ((this.state as TransactionState) !== TransactionState.Completed) return;
          if (this.reliable) this.transition(TransactionState.Terminated);
          else this.startTimer('D', sixtyFourT1(this.ctx.timers), () => this.transition(TransactionState.Terminated));
        }
        return;
      case TransactionState.Accepted:
        // RFC 6026 §8.4: "any 2xx responses that match this client transaction ... MUST be passed up to the TU".
        if (status >= 200 && status < 300) this.passUp(response);
        return;
      case TransactionState.Completed:
        // "Any retransmissions of the final response that are received while in the 'Completed' state MUST cause the
        // ACK to be re-passed to the transport layer for retransmission, but the newly received response MUST NOT
        // be passed up to the TU."
        if (status >= 300) this.#resendAck();
        return;
      default:
        return;
    }
  }

  /**
   * §17.1.1.3: the ACK has the Request-URI, Call-ID, From and CSeq number of the INVITE, the To of the response
   * (with its tag), one Via equal to the INVITE's top Via, and the INVITE's Route headers.
   */
  #buildAck(response: SipResponse): SipRequest {
    const inv = this.request;
    const h = new SipHeaders();
    h.append('Via', inv.headers.get('Via')!);
    h.append('Max-Forwards', inv.headers.get('Max-Forwards') ?? '70');
    for (const r of inv.headers.getAll('Route')) h.append('Route', r);
    h.append('From', inv.headers.get('From')!);
    h.append('To', response.headers.get('To')!);
    h.append('Call-ID', inv.callId());
    h.append('CSeq', `${inv.cseq().seq} ACK`);
    return new SipRequest('ACK', inv.uri, h);
  }

  #sendAck(response: SipResponse): void {
    const ack = this.#buildAck(response);
    const target: Target = { ...this.target, ...(this.sent?.flow.connectionId !== undefined ? { connectionId: this.sent.flow.connectionId } : {}) };
    this.#ackPending = this.ctx.transport.sendRequest(ack, target).then((sent) => {
      this.#ack = sent;
    }, (e: unknown) => this.logSendFailure(e, 'ACK send'));
  }

  #resendAck(): void {
    void this.#ackPending?.then(() => {
      if (this.#ack) this.ctx.transport.resend(this.#ack).catch((e: unknown) => this.logSendFailure(e, 'ACK resend'));
    });
  }
}
