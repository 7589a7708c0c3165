/**
 * An INVITE we received — a new call or a re-INVITE — and the UAS core duties around it:
 * - provisional responses create an early dialog (§12.1.1: every response but 100 carries our To tag), and
 *   dialog-creating responses copy the request's Record-Route (§12.1.1) and carry our Contact (§8.1.1.8);
 * - the 2xx is retransmitted by the UAS core "with an interval that starts at T1 seconds and doubles for each
 *   retransmission until it reaches T2 seconds" until the ACK arrives; "If the server retransmits the 2xx response
 *   for 64*T1 seconds without receiving an ACK, the dialog is confirmed, but the session SHOULD be terminated. This
 *   is accomplished with a BYE" (§13.3.1.4);
 * - a CANCEL (§9.2) tells the application and answers the INVITE with 487 unless it already has a final response.
 */
import { CardlineError } from '../../errors/index.ts';
import { createResponse, serializeUri, type SipRequest, type SipResponse, type SipUri } from '../messages/index.ts';
import { sixtyFourT1, type InviteServerTransaction, type SipTimerHandle } from '../transactions/index.ts';
import type { Flow } from '../transport/index.ts';
import { bodyBytes, Dialog, type DialogHost, type RequestOptions } from './dialog.ts';
import { DialogState } from './dialog-state.ts';

export interface InviteHost extends DialogHost {
  /** Our Contact for responses sent on `flow`. */
  contactFor(flow: Flow): SipUri;
}

export class IncomingInvite {
  readonly request: SipRequest;
  readonly tx: InviteServerTransaction;
  /** Set for a re-INVITE: the dialog it belongs to. */
  readonly reinviteOf: Dialog | undefined;
  readonly #host: InviteHost;
  #dialog: Dialog | undefined;
  #final: SipResponse | undefined;
  #retransmit: SipTimerHandle | undefined;
  #giveUp: SipTimerHandle | undefined;
  #resolveAck!: (ack: SipRequest) => void;
  #rejectAck!: (e: Error) => void;
  #waiting = false;
  /** Resolves with the ACK for our 2xx (it may carry the answer to a late offer); rejects with sip-timeout. */
  readonly acked: Promise<SipRequest>;
  /** The caller cancelled (§9.2). Called before the 487 goes out. */
  onCancel: ((cancel: SipRequest) => void) | undefined;
  /** Internal: the dialog learns the INVITE transaction is over. */
  onFinal: (() => void) | undefined;

  constructor(host: InviteHost, tx: InviteServerTransaction, reinviteOf?: Dialog) {
    this.#host = host;
    this.tx = tx;
    this.request = tx.request;
    this.reinviteOf = reinviteOf;
    this.#dialog = reinviteOf;
    this.acked = new Promise<SipRequest>((resolve, reject) => {
      this.#resolveAck = resolve;
      this.#rejectAck = reject;
    });
    this.acked.catch(() => undefined);
    tx.onCancel = (cancel) => {
      try {
        this.onCancel?.(cancel);
      } finally {
        if (!tx.finalSent) this.reject(487);
      }
    };
    tx.onAck = (ack) => this.receiveAck(ack); // RFC 6026 §7.1: an ACK matching the transaction in Accepted
  }

  get cancelled(): boolean {
    return this.tx.cancelled;
  }

  /** The early or confirmed dialog, once a response created it (always set for a re-INVITE). */
  get dialog(): Dialog | undefined {
    return this.#dialog;
  }

  get finalResponse(): SipResponse | undefined {
    return this.#final;
  }

  #response(status: number, opts: RequestOptions & { reason?: string }): SipResponse {
    const headers: Array<[string, string]> = [];
    const creating = this.reinviteOf === undefined && status > 100 && status < 300;
    if (creating) for (const rr of this.request.headers.getAll('Record-Route')) headers.push(['Record-Route', rr]);
    if (status > 100 && status < 300) headers.push(['Contact', `<${serializeUri(this.#host.contactFor(this.tx.flow))}>`]);
    headers.push(...(opts.headers ?? []));
    const body = bodyBytes(opts.body);
    return createResponse(this.request, status, {
      toTag: this.tx.toTag, headers, body,
      ...(body.length > 0 || opts.contentType !== undefined ? { contentType: opts.contentType ?? 'application/sdp' } : {}),
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    });
  }

  /** Sends a provisional response (default 180). For a new call, a status above 100 creates the early dialog. */
  progress(status = 180, opts: RequestOptions & { reason?: string } = {}): Dialog | undefined {
    if (status < 100 || status > 199) throw new CardlineError('sip-state', 'progress() takes a 1xx status');
    if (this.tx.finalSent) throw new CardlineError('sip-state', 'the INVITE already has a final response');
    const r = this.#response(status, opts);
    this.tx.respond(r);
    if (status > 100 && !this.#dialog) {
      const d = Dialog.fromUas(this.#host, this.request, this.tx.toTag, this.#host.contactFor(this.tx.flow), DialogState.Early);
      d.attachInitialInvite(this);
      this.#dialog = d;
      this.#host.register(d);
    }
    return this.#dialog;
  }

  /** Sends the 2xx (with an SDP answer or offer in `body`) and returns the confirmed dialog. */
  accept(opts: RequestOptions & { status?: number } = {}): Dialog {
    if (this.tx.finalSent) throw new CardlineError('sip-state', 'the INVITE already has a final response');
    const status = opts.status ?? 200;
    if (status < 200 || status > 299) throw new CardlineError('sip-state', 'accept() takes a 2xx status');
    const ok = this.#response(status, opts);
    this.tx.respond(ok);
    this.#final = ok;
    let dialog = this.#dialog;
    if (!dialog) {
      dialog = Dialog.fromUas(this.#host, this.request, this.tx.toTag, this.#host.contactFor(this.tx.flow), DialogState.Confirmed);
      this.#dialog = dialog;
      this.#host.register(dialog);
    } else if (this.reinviteOf) {
      // §12.2.2 target refresh: the re-INVITE's Contact replaces the remote target.
      const c = this.request.contacts()[0];
      if (c) dialog.remoteTarget = c.uri;
    } else {
      dialog.confirm();
    }
    this.#awaitAck(dialog, ok);
    this.#ended();
    return dialog;
  }

  /** Sends a final non-2xx response; an early dialog of a new call ends with it. */
  reject(status: number, opts: RequestOptions & { reason?: string } = {}): void {
    if (status < 300 || status > 699) throw new CardlineError('sip-state', 'reject() takes a 3xx-6xx status');
    if (this.tx.finalSent) throw new CardlineError('sip-state', 'the INVITE already has a final response');
    const r = this.#response(status, opts);
    this.tx.respond(r);
    this.#final = r;
    if (!this.reinviteOf) this.#dialog?.terminate(status === 487 ? 'cancelled' : 'rejected');
    this.#ended();
  }

  #ended(): void {
    const f = this.onFinal;
    this.onFinal = undefined;
    try {
      f?.();
    } catch {
      // bookkeeping only
    }
  }

  #awaitAck(dialog: Dialog, ok: SipResponse): void {
    const { clock, timers, layer } = this.#host.stack;
    this.#waiting = true;
    dialog.awaitingAck = this;
    let interval = timers.T1;
    const tick = () => {
      if (!this.#waiting) return;
      layer.sendResponse(ok, this.tx.flow).catch(() => undefined);
      interval = Math.min(interval * 2, timers.T2);
      this.#retransmit = clock.setTimer(interval, tick);
    };
    this.#retransmit = clock.setTimer(interval, tick);
    this.#giveUp = clock.setTimer(sixtyFourT1(timers), () => {
      if (!this.#waiting) return;
      this.#stop(dialog);
      this.#rejectAck(new CardlineError('sip-timeout', 'no ACK for the 2xx'));
      this.#host.logger?.warn({ callId: dialog.callId }, 'sip 2xx never acknowledged: ending the session with BYE (§13.3.1.4)');
      if (dialog.state !== DialogState.Terminated) {
        dialog.bye().then(() => undefined, () => undefined);
      }
    });
  }

  #stop(dialog: Dialog): void {
    this.#waiting = false;
    this.#retransmit?.cancel();
    this.#giveUp?.cancel();
    if (dialog.awaitingAck === this) dialog.awaitingAck = undefined;
  }

  /** The ACK for our 2xx (same CSeq number as the INVITE, §13.2.2.4). */
  receiveAck(ack: SipRequest): void {
    if (!this.#waiting || !this.#dialog || ack.cseq().seq !== this.request.cseq().seq) return;
    this.#stop(this.#dialog);
    this.#resolveAck(ack);
  }

  /** Stops 2xx retransmission without an ACK (stack shutdown). */
  abandon(): void {
    if (this.#dialog && this.#waiting) {
      this.#stop(this.#dialog);
      this.#rejectAck(new CardlineError('sip-state', 'abandoned'));
    }
  }
}
