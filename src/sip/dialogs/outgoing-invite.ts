/**
 * An INVITE we send to start a call, and the UAC core duties around it (RFC 3261 §13.2):
 * - every provisional response with a To tag creates (or feeds) an early dialog (§12.1.2, §13.2.2.1);
 * - the first 2xx confirms its dialog and is ACKed by the core, not the transaction (§13.2.2.4), and the ACK is
 *   re-sent for each retransmission of that 2xx;
 * - forking (§13.2.2.4, §19.3): a 2xx from another branch (another To tag) creates a second dialog, which "the UAC
 *   MUST terminate ... by sending a BYE" after ACKing it, since Cardline keeps one dialog per call leg;
 * - a non-2xx final ends every early dialog; 401/407 are answered once with credentials (§22.2, same Call-ID and
 *   From tag, CSeq + 1);
 * - `cancel()` follows §9.1 (CANCEL only after a provisional response); a 2xx that crosses the CANCEL is ACKed and
 *   BYEd; `noAnswerTimeoutMs` cancels an INVITE that rings too long.
 * Timeouts and transport errors end as locally made 408 / 503 responses (§8.1.3.1).
 */
import { serializeAuthHeader, serializeUri, type SipRequest, type SipResponse, type SipUri } from '../messages/index.ts';
import type { DigestClient } from '../auth/index.ts';
import {
  sixtyFourT1, type ClientTransaction, type InviteClientTransaction, type SipTimerHandle,
} from '../transactions/index.ts';
import type { Target } from '../transport/index.ts';
import { Dialog, type DialogHost, type RequestOptions } from './dialog.ts';
import { DialogState } from './dialog-state.ts';
import { localResponse } from './local-response.ts';

export type InviteOutcome =
  | { kind: 'answered'; response: SipResponse; dialog: Dialog }
  | { kind: 'failed'; response: SipResponse; cancelled: boolean };

export interface OutgoingInviteHost extends DialogHost {
  readonly digest: DigestClient | undefined;
  contactForTarget(target: Target): SipUri;
  /** Forget this INVITE (after 64*T1 of afterlife for late forks). */
  release(invite: OutgoingInvite): void;
}

export interface OutgoingInviteOptions {
  target?: Target;
  /** Sends CANCEL if no final response came after this long. */
  noAnswerTimeoutMs?: number;
  /** Body for the ACK of the 2xx (late offer: the SDP answer goes in the ACK, §13.2.2.4). */
  ackBody?: (response: SipResponse) => RequestOptions | undefined;
}

export class OutgoingInvite {
  readonly callId: string;
  readonly localTag: string;
  /** The INVITE as last sent (after digest retries, a new CSeq). */
  request: SipRequest;
  readonly outcome: Promise<InviteOutcome>;
  /** Each provisional response, with its early dialog when it had a To tag. */
  onProgress: ((response: SipResponse, dialog: Dialog | undefined) => void) | undefined;
  readonly #host: OutgoingInviteHost;
  readonly #opts: OutgoingInviteOptions;
  #settle!: (o: InviteOutcome) => void;
  #settled: InviteOutcome | undefined;
  #early = new Map<string, Dialog>();
  #confirmed: Dialog | undefined;
  #tx: InviteClientTransaction | undefined;
  #cancelRequested: string | undefined | null = null;
  #authTries = 0;
  #ringTimer: SipTimerHandle | undefined;
  #target: Target | undefined;

  constructor(host: OutgoingInviteHost, request: SipRequest, opts: OutgoingInviteOptions) {
    this.#host = host;
    this.#opts = opts;
    this.request = request;
    this.callId = request.callId();
    this.localTag = request.fromTag()!;
    this.outcome = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get key(): string {
    return `${this.callId}|${this.localTag}`;
  }

  get earlyDialogs(): Dialog[] {
    return [...this.#early.values()].filter((d) => d.state === DialogState.Early);
  }

  get settled(): InviteOutcome | undefined {
    return this.#settled;
  }

  /** Resolves the next hop, adds our Contact and sends. */
  async start(): Promise<void> {
    try {
      const target = this.#opts.target ?? (await this.#host.stack.targetFor(this.request));
      this.#target = target;
      this.request.headers.set('Contact', `<${serializeUri(this.#host.contactForTarget(target))}>`);
      if (this.#opts.noAnswerTimeoutMs !== undefined) {
        this.#ringTimer = this.#host.stack.clock.setTimer(this.#opts.noAnswerTimeoutMs, () => this.cancel('SIP;cause=480;text="No answer"'));
      }
      await this.#send(this.request);
    } catch (e) {
      this.#host.logger?.warn({ err: { message: e instanceof Error ? e.message : String(e) }, callId: this.callId }, 'sip INVITE could not be sent');
      this.#fail(localResponse(this.request, 503));
    }
  }

  async #send(request: SipRequest): Promise<void> {
    this.request = request;
    const tx = (await this.#host.stack.sendRequest(request, {
      onResponse: (r) => this.#onResponse(r, request, tx),
      onTimeout: () => this.#fail(localResponse(request, 408)),
      onTransportError: () => this.#fail(localResponse(request, 503)),
    }, { target: this.#target! })) as InviteClientTransaction;
    this.#tx = tx;
    if (this.#cancelRequested !== null && !this.#settled) this.#host.stack.cancel(tx, this.#cancelRequested);
  }

  /** Cancels the call attempt (§9.1); harmless after a final response. */
  cancel(reason?: string): void {
    if (this.#settled || this.#cancelRequested !== null) return;
    this.#cancelRequested = reason;
    if (this.#tx) this.#host.stack.cancel(this.#tx, reason);
  }

  #onResponse(response: SipResponse, request: SipRequest, tx: ClientTransaction): void {
    if (tx !== this.#tx && response.status < 200) return;
    const status = response.status;
    if (status < 200) {
      if (this.#settled) return;
      const tag = response.toTag();
      let dialog: Dialog | undefined;
      if (status > 100 && tag !== undefined) {
        dialog = this.#early.get(tag);
        if (!dialog) {
          dialog = Dialog.fromUac(this.#host, request, response, this.#contact());
          this.#early.set(tag, dialog);
          this.#host.register(dialog);
        }
      }
      const d = dialog;
      try {
        this.onProgress?.(response, d);
      } catch (e) {
        this.#host.logger?.error({ err: { message: e instanceof Error ? e.message : String(e) } }, 'sip onProgress failed');
      }
      return;
    }
    if (status < 300) {
      this.receive2xx(response, request);
      return;
    }
    if (this.#settled) return;
    if ((status === 401 || status === 407) && this.#cancelRequested === null && this.#authTries < 2 && this.#host.digest) {
      const auth = this.#host.digest.authorize(request, response);
      if (auth) {
        this.#authTries++;
        const again = request.clone();
        again.headers.shift('Via');
        again.headers.prepend('Via', 'SIP/2.0/UDP placeholder.invalid');
        again.headers.set('CSeq', `${request.cseq().seq + 1} INVITE`);
        again.headers.delete(status === 401 ? 'Authorization' : 'Proxy-Authorization');
        for (const a of auth) again.headers.append(a.name, serializeAuthHeader(a.value, 'credentials'));
        this.#send(again).catch(() => this.#fail(localResponse(again, 503)));
        return;
      }
    }
    this.#fail(response);
  }

  /** A 2xx from the transaction or, after it ended, from the core's stray-response path. */
  receive2xx(response: SipResponse, request: SipRequest = this.request): void {
    const tag = response.toTag();
    if (tag === undefined) return; // a 2xx without To tag cannot be ACKed into a dialog
    if (this.#confirmed?.remoteTag === tag) {
      this.#confirmed.retransmitAck(response);
      return;
    }
    const existing = this.#early.get(tag);
    if (existing && existing.state === DialogState.Confirmed) {
      existing.retransmitAck(response);
      return;
    }
    if (this.#settled || this.#cancelRequested !== null) {
      // A second branch answered, or the answer crossed our CANCEL: ACK it, then end it with BYE (§13.2.2.4, §9.1).
      const extra = existing ?? Dialog.fromUac(this.#host, request, response, this.#contact());
      if (!existing) {
        this.#early.set(tag, extra);
        this.#host.register(extra);
      }
      extra.confirm(response);
      extra.sendAck(request);
      extra.bye().catch(() => undefined);
      if (!this.#settled) this.#fail(response, true);
      return;
    }
    let dialog: Dialog;
    if (existing) {
      existing.confirm(response);
      dialog = existing;
    } else {
      dialog = Dialog.fromUac(this.#host, request, response, this.#contact());
      this.#early.set(tag, dialog);
      this.#host.register(dialog);
    }
    this.#confirmed = dialog;
    dialog.sendAck(request, this.#opts.ackBody?.(response) ?? {});
    for (const d of this.#early.values()) if (d !== dialog && d.state === DialogState.Early) d.terminate('forked');
    this.#finish({ kind: 'answered', response, dialog });
  }

  #contact(): SipUri {
    return this.#host.contactForTarget(this.#target!);
  }

  #fail(response: SipResponse, cancelled = this.#cancelRequested !== null): void {
    if (this.#settled) return;
    for (const d of this.#early.values()) if (d.state === DialogState.Early) d.terminate(cancelled ? 'cancelled' : 'rejected');
    this.#finish({ kind: 'failed', response, cancelled });
  }

  #finish(o: InviteOutcome): void {
    this.#settled = o;
    this.#ringTimer?.cancel();
    this.#settle(o);
    // Keep listening for late forks for as long as the INVITE transaction could still deliver 2xx (Timer M).
    this.#host.stack.clock.setTimer(sixtyFourT1(this.#host.stack.timers), () => this.#host.release(this));
  }
}
