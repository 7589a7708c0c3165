/**
 * A dialog (RFC 3261 §12): its id (Call-ID, local tag, remote tag), route set, remote target and the two CSeq
 * counters, and everything done inside it — building requests (§12.2.1.1), ACK for 2xx (§13.2.2.4), checking and
 * dispatching incoming requests (§12.2.2), target refresh, re-INVITE (§14), UPDATE (RFC 3311), INFO (RFC 6086) and
 * BYE (§15).
 */
import type { Logger } from 'pino';
import { CardlineError } from '../../errors/index.ts';
import {
  cloneNameAddr, cloneUri, newBranch, serializeNameAddr, serializeUri, SipHeaders, SipRequest, type NameAddr,
  type SipResponse, type SipUri, type Uri,
} from '../messages/index.ts';
import type { ServerTransaction, SipStack } from '../transactions/index.ts';
import type { SentRequest } from '../transport/index.ts';
import { DIALOG_TRANSITIONS, DialogState, type DialogEndReason } from './dialog-state.ts';
import type { IncomingInvite } from './incoming-invite.ts';

export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

export function dialogKey(id: DialogId): string {
  return `${id.callId}|${id.localTag}|${id.remoteTag}`;
}

export interface RequestOptions {
  body?: Uint8Array | string;
  contentType?: string;
  headers?: Array<[string, string]>;
}

/** What a dialog needs from the user agent core that owns it. */
export interface DialogHost {
  readonly stack: SipStack;
  readonly logger: Logger | undefined;
  /** Sends a non-INVITE request (digest retry included); a timeout resolves as a local 408, a transport error 503. */
  sendNonInvite(build: () => SipRequest): Promise<{ response: SipResponse; request: SipRequest }>;
  /** Sends an INVITE (digest retry included); same outcome rules. */
  sendInvite(build: () => SipRequest, onProvisional?: (r: SipResponse) => void): Promise<{ response: SipResponse; request: SipRequest }>;
  register(d: Dialog): void;
  unregister(d: Dialog): void;
  /** A new in-dialog INVITE from the peer: wraps it for the application. */
  incomingReinvite(d: Dialog, tx: ServerTransaction, request: SipRequest): IncomingInvite;
}

const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);
const encoder = new TextEncoder();

export function bodyBytes(b: Uint8Array | string | undefined): Uint8Array {
  return b === undefined ? new Uint8Array(0) : typeof b === 'string' ? encoder.encode(b) : b;
}

export class Dialog {
  readonly role: 'uac' | 'uas';
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  readonly secure: boolean;
  localTarget: SipUri;
  remoteTarget: Uri;
  routeSet: NameAddr[];
  localSeq: number | undefined;
  remoteSeq: number | undefined;
  /** The INVITE that created the dialog (sent or received). */
  readonly invite: SipRequest;
  #state: DialogState;
  readonly #host: DialogHost;
  #endReason: DialogEndReason | undefined;
  /** UAC: the ACK for the last 2xx, resent on every retransmission of that 2xx (§13.2.2.4). */
  #lastAck: { seq: number; sent: Promise<SentRequest | undefined> } | undefined;
  /** UAS: the INVITE whose 2xx is awaiting its ACK (§13.3.1.4). */
  awaitingAck: IncomingInvite | undefined;
  #outgoingInvite = false;
  #incomingInvite: IncomingInvite | undefined;

  /** In-dialog requests other than INVITE, BYE and ACK. Default: INFO, OPTIONS → 200; UPDATE → 200 without SDP, 488 with; others 501. */
  onRequest: ((tx: ServerTransaction, request: SipRequest) => void) | undefined;
  /** A re-INVITE from the peer. Default: 488 Not Acceptable Here. */
  onReinvite: ((invite: IncomingInvite) => void) | undefined;
  /** Once, when the dialog ends. */
  onTerminated: ((reason: DialogEndReason) => void) | undefined;
  /** Early → Confirmed. */
  onConfirmed: (() => void) | undefined;

  private constructor(host: DialogHost, init: {
    role: 'uac' | 'uas'; state: DialogState; callId: string; localTag: string; remoteTag: string; localUri: NameAddr;
    remoteUri: NameAddr; localTarget: SipUri; remoteTarget: Uri; routeSet: NameAddr[]; localSeq: number | undefined;
    remoteSeq: number | undefined; invite: SipRequest; secure: boolean;
  }) {
    this.#host = host;
    this.role = init.role;
    this.#state = init.state;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.localTarget = init.localTarget;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.invite = init.invite;
    this.secure = init.secure;
  }

  /**
   * UAC side (§12.1.2): "The route set MUST be set to the list of URIs in the Record-Route header field from the
   * response, taken in reverse order ... The remote target MUST be set to the URI from the Contact header field of
   * the response. The local sequence number MUST be set to the value of the sequence number in the CSeq header field
   * of the request. The remote sequence number MUST be empty." Early for a 1xx, confirmed for a 2xx.
   */
  static fromUac(host: DialogHost, invite: SipRequest, response: SipResponse, localTarget: SipUri): Dialog {
    const remoteTag = response.toTag();
    if (remoteTag === undefined) throw new CardlineError('sip-state', 'a response without To tag creates no dialog');
    const contact = response.contacts()[0];
    return new Dialog(host, {
      role: 'uac',
      state: response.status >= 200 ? DialogState.Confirmed : DialogState.Early,
      callId: invite.callId(), localTag: invite.fromTag()!, remoteTag,
      localUri: withoutTag(invite.from()), remoteUri: withoutTag(response.to()),
      localTarget, remoteTarget: contact ? cloneUri(contact.uri) : cloneUri(invite.uri),
      routeSet: response.recordRoutes().map(cloneNameAddr).reverse(),
      localSeq: invite.cseq().seq, remoteSeq: undefined, invite,
      secure: invite.uri.kind === 'sip' && invite.uri.scheme === 'sips',
    });
  }

  /**
   * UAS side (§12.1.1): "The route set MUST be set to the list of URIs in the Record-Route header field from the
   * request, taken in order ... The remote target MUST be set to the URI from the Contact header field of the
   * request. The remote sequence number MUST be set to the value of the sequence number in the CSeq header field of
   * the request. The local sequence number MUST be empty."
   */
  static fromUas(host: DialogHost, invite: SipRequest, localTag: string, localTarget: SipUri, state: DialogState): Dialog {
    const contact = invite.contacts()[0];
    if (!contact) throw new CardlineError('sip-state', 'an INVITE without Contact creates no dialog');
    return new Dialog(host, {
      role: 'uas', state, callId: invite.callId(), localTag, remoteTag: invite.fromTag() ?? '',
      localUri: withoutTag(invite.to()), remoteUri: withoutTag(invite.from()),
      localTarget, remoteTarget: cloneUri(contact.uri), routeSet: invite.recordRoutes().map(cloneNameAddr),
      localSeq: undefined, remoteSeq: invite.cseq().seq, invite,
      secure: invite.uri.kind === 'sip' && invite.uri.scheme === 'sips',
    });
  }

  get id(): DialogId {
    return { callId: this.callId, localTag: this.localTag, remoteTag: this.remoteTag };
  }

  get key(): string {
    return dialogKey(this.id);
  }

  get state(): DialogState {
    return this.#state;
  }

  get endReason(): DialogEndReason | undefined {
    return this.#endReason;
  }

  #transition(to: DialogState): void {
    if (!DIALOG_TRANSITIONS[this.#state].includes(to)) {
      throw new CardlineError('sip-state', `dialog cannot move from ${this.#state} to ${to}`);
    }
    this.#state = to;
  }

  /**
   * Early → Confirmed. For the UAC, §13.2.2.4: "the dialog MUST be transitioned to the 'confirmed' state, and the
   * route set for the dialog MUST be recomputed based on the 2xx response"; the remote target follows its Contact.
   */
  confirm(response?: SipResponse): void {
    if (this.#state === DialogState.Confirmed) return;
    this.#transition(DialogState.Confirmed);
    if (response && this.role === 'uac') {
      this.routeSet = response.recordRoutes().map(cloneNameAddr).reverse();
      const c = response.contacts()[0];
      if (c) this.remoteTarget = cloneUri(c.uri);
    }
    this.#safely(() => this.onConfirmed?.());
  }

  /** Ends the dialog (idempotent) and tells the owner and the application. */
  terminate(reason: DialogEndReason): void {
    if (this.#state === DialogState.Terminated) return;
    this.#transition(DialogState.Terminated);
    this.#endReason = reason;
    this.#host.unregister(this);
    this.#safely(() => this.onTerminated?.(reason));
  }

  // ---- building requests (§12.2.1.1) -----------------------------------------------------------------------

  /**
   * "The URI in the To field of the request MUST be set to the remote URI from the dialog state. The tag in the To
   * header field of the request MUST be set to the remote tag of the dialog ID. The From URI ... local URI ...
   * local tag ... The Call-ID ... MUST be set to the Call-ID of the dialog." Then the Request-URI and Route from
   * the route set: with a loose router first (lr), Request-URI = remote target and Route = route set; with a strict
   * router, Request-URI = first route and Route = rest of the route set plus the remote target.
   */
  createRequest(method: string, opts: RequestOptions & { seq?: number } = {}): SipRequest {
    if (this.#state === DialogState.Terminated) throw new CardlineError('sip-state', `no ${method} in a terminated dialog`);
    let seq: number;
    if (opts.seq !== undefined) seq = opts.seq;
    else {
      // "If the local sequence number is empty, an initial value MUST be chosen" (§12.2.1.1); below 2^31 (§8.1.1.5).
      this.localSeq = this.localSeq === undefined ? 1 + Math.floor(Math.random() * 0x3fffffff) : this.localSeq + 1;
      seq = this.localSeq;
    }
    const h = new SipHeaders();
    h.append('Via', `SIP/2.0/UDP placeholder.invalid;branch=${newBranch()}`);
    h.append('Max-Forwards', '70');
    let ruri: Uri = cloneUri(this.remoteTarget);
    const first = this.routeSet[0];
    if (first && !(first.uri.kind === 'sip' && first.uri.params.has('lr'))) {
      ruri = cloneUri(first.uri);
      // "with any URI parameters that are not allowed in a Request-URI stripped" (method, headers: §19.1.1 table)
      if (ruri.kind === 'sip') {
        ruri.params.delete('method');
        ruri.headers = [];
      }
      for (const r of this.routeSet.slice(1)) h.append('Route', serializeNameAddr({ ...r, displayName: undefined }));
      h.append('Route', `<${serializeUri(this.remoteTarget)}>`);
    } else {
      for (const r of this.routeSet) h.append('Route', serializeNameAddr({ ...r, displayName: undefined }));
    }
    const from = cloneNameAddr(this.localUri);
    from.params.set('tag', this.localTag);
    const to = cloneNameAddr(this.remoteUri);
    to.params.set('tag', this.remoteTag);
    h.append('From', serializeNameAddr(from));
    h.append('To', serializeNameAddr(to));
    h.append('Call-ID', this.callId);
    h.append('CSeq', `${seq} ${method}`);
    if (TARGET_REFRESH.has(method)) h.append('Contact', `<${serializeUri(this.localTarget)}>`);
    for (const [n, v] of opts.headers ?? []) h.append(n, v);
    const body = bodyBytes(opts.body);
    if (body.length > 0 || opts.contentType !== undefined) h.set('Content-Type', opts.contentType ?? 'application/sdp');
    return new SipRequest(method, ruri, h, body);
  }

  /**
   * ACK for a 2xx (§13.2.2.4): built like any in-dialog request, "with the exception of the CSeq and the header fields
   * related to authentication. The sequence number of the CSeq header field MUST be the same as the INVITE being
   * acknowledged, but the CSeq method MUST be ACK. The ACK MUST contain the same credentials as the INVITE."
   */
  createAck(invite: SipRequest, opts: RequestOptions = {}): SipRequest {
    const ack = this.createRequest('ACK', { ...opts, seq: invite.cseq().seq });
    for (const name of ['Authorization', 'Proxy-Authorization'] as const) {
      for (const v of invite.headers.getAll(name)) ack.headers.append(name, v);
    }
    return ack;
  }

  /** Sends the ACK for a 2xx and remembers it for retransmitted copies of that 2xx. */
  sendAck(invite: SipRequest, opts: RequestOptions = {}): void {
    const ack = this.createAck(invite, opts);
    const sent = this.#host.stack.sendAck(ack).catch((e: unknown) => {
      this.#host.logger?.warn({ err: { message: e instanceof Error ? e.message : String(e) }, callId: this.callId }, 'sip ACK send failed');
      return undefined;
    });
    this.#lastAck = { seq: invite.cseq().seq, sent };
  }

  /** A 2xx for our INVITE seen again (retransmission): "the UAC core ... MUST ... re-pass the ACK" (§13.2.2.4). */
  retransmitAck(response: SipResponse): boolean {
    const last = this.#lastAck;
    if (!last || response.cseq().seq !== last.seq) return false;
    void last.sent.then((s) => {
      if (s) this.#host.stack.layer.resend(s).catch(() => undefined);
    });
    return true;
  }

  // ---- requests we send in the dialog ----------------------------------------------------------------------

  /**
   * A non-INVITE request in the dialog (INFO, UPDATE, OPTIONS, BYE…). §12.2.1.2: "If the response for a request
   * within a dialog is a 481 (Call/Transaction Does Not Exist) or a 408 (Request Timeout), the UAC SHOULD terminate
   * the dialog." A 2xx to UPDATE refreshes the remote target (RFC 3311 §5.1).
   */
  async request(method: string, opts: RequestOptions = {}): Promise<SipResponse> {
    if (method === 'INVITE' || method === 'ACK' || method === 'CANCEL') throw new CardlineError('sip-state', `use reinvite() for ${method}`);
    if (method === 'BYE') return this.bye(opts);
    const { response } = await this.#host.sendNonInvite(() => this.createRequest(method, opts));
    this.#afterResponse(method, response);
    return response;
  }

  info(body: Uint8Array | string, contentType: string, headers: Array<[string, string]> = []): Promise<SipResponse> {
    return this.request('INFO', { body, contentType, headers });
  }

  update(opts: RequestOptions = {}): Promise<SipResponse> {
    return this.request('UPDATE', opts);
  }

  /**
   * re-INVITE (§14.1): "a UAC MUST NOT initiate a new INVITE transaction within a dialog while another INVITE
   * transaction is in progress in either direction" — refused here with sip-state. On 2xx the ACK goes out and the
   * remote target follows the Contact; on a non-2xx "the session parameters MUST remain unchanged"; 491 is returned
   * to the caller, which retries after the §14.1 random delay.
   */
  async reinvite(opts: RequestOptions & { ack?: RequestOptions } = {}): Promise<SipResponse> {
    if (this.#state !== DialogState.Confirmed) throw new CardlineError('sip-state', 're-INVITE needs a confirmed dialog');
    if (this.#outgoingInvite || this.#incomingInvite || this.awaitingAck) throw new CardlineError('sip-state', 'an INVITE transaction is already in progress in this dialog');
    this.#outgoingInvite = true;
    try {
      const { response, request } = await this.#host.sendInvite(() => this.createRequest('INVITE', opts));
      if (response.status >= 200 && response.status < 300) {
        const c = response.contacts()[0];
        if (c) this.remoteTarget = cloneUri(c.uri);
        this.sendAck(request, opts.ack ?? {});
      }
      this.#afterResponse('INVITE', response);
      return response;
    } finally {
      this.#outgoingInvite = false;
    }
  }

  /**
   * BYE (§15.1.1): "the UAC ... SHOULD consider the session terminated ... as soon as the BYE request is passed to
   * the client transaction". The callee "MUST NOT send a BYE on a confirmed dialog until it has received an ACK for
   * its 2xx response or until the server transaction times out", so a UAS waits for that first.
   */
  async bye(opts: RequestOptions = {}): Promise<SipResponse> {
    if (this.#state === DialogState.Terminated) throw new CardlineError('sip-state', 'the dialog is already terminated');
    if (this.role === 'uas' && this.#state === DialogState.Early) throw new CardlineError('sip-state', 'the callee cannot BYE an early dialog (§15); reject the INVITE instead');
    if (this.awaitingAck) await this.awaitingAck.acked.catch(() => undefined);
    if ((this.#state as DialogState) === DialogState.Terminated) throw new CardlineError('sip-state', 'the dialog ended while waiting for the ACK');
    const first = this.createRequest('BYE', opts);
    this.terminate('bye-sent');
    let attempt = 0;
    const { response } = await this.#host.sendNonInvite(() => {
      if (attempt++ === 0) return first;
      // a digest retry: same dialog headers, a new branch and the next CSeq (§22.2)
      const again = first.clone();
      again.headers.shift('Via');
      again.headers.prepend('Via', `SIP/2.0/UDP placeholder.invalid;branch=${newBranch()}`);
      this.localSeq = (this.localSeq ?? 0) + 1;
      again.headers.set('CSeq', `${this.localSeq} BYE`);
      again.headers.delete('Authorization');
      again.headers.delete('Proxy-Authorization');
      return again;
    });
    return response;
  }

  #afterResponse(method: string, response: SipResponse): void {
    if (response.status === 481 || response.status === 408) {
      this.terminate(response.status === 481 ? 'no-dialog' : 'timeout');
      return;
    }
    if (method === 'UPDATE' && response.status >= 200 && response.status < 300) {
      const c = response.contacts()[0];
      if (c) this.remoteTarget = cloneUri(c.uri);
    }
  }

  // ---- requests we receive in the dialog (§12.2.2) -----------------------------------------------------------

  /** Called by the core for a request whose To tag, From tag and Call-ID name this dialog. */
  receiveRequest(tx: ServerTransaction, request: SipRequest): void {
    const seq = request.cseq().seq;
    // "If the remote sequence number was not empty, but the sequence number of the request is lower than the remote
    // sequence number, the request is out of order and MUST be rejected with a 500 (Server Internal Error)".
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) {
      tx.reply(500, { reason: 'Out of order CSeq', headers: [['Retry-After', '1']] });
      return;
    }
    this.remoteSeq = seq;
    switch (request.method) {
      case 'BYE':
        this.#receiveBye(tx);
        return;
      case 'INVITE':
        this.#receiveReinvite(tx, request);
        return;
      default: {
        // "When a UAS receives a target refresh request, it MUST replace the dialog's remote target URI with the URI
        // from the Contact header field in that request, if present." (UPDATE, RFC 3311 §5.2)
        if (request.method === 'UPDATE') {
          const c = request.contacts()[0];
          if (c) this.remoteTarget = cloneUri(c.uri);
        }
        const handler = this.onRequest;
        if (handler) {
          // The handler may answer later (a B2BUA forwards first); if it throws, 500 goes out for it.
          this.#answering(tx, () => handler(tx, request));
          return;
        }
        if (request.method === 'UPDATE') {
          // RFC 3311 §5.2: an UPDATE without an offer (a session refresh) is simply accepted, with our Contact; an offer
          // needs a handler that can answer it, so without one it is not acceptable here.
          if (request.body.length === 0) tx.reply(200, { headers: [['Contact', `<${serializeUri(this.localTarget)}>`]] });
          else tx.reply(488);
          return;
        }
        tx.reply(request.method === 'INFO' || request.method === 'OPTIONS' ? 200 : 501);
      }
    }
  }

  #receiveBye(tx: ServerTransaction): void {
    // §15.1.2: "the UAS MUST still respond to any pending requests received for that dialog. It is RECOMMENDED that a
    // 487 (Request Terminated) response be generated to those pending requests."
    const pending = this.#incomingInvite ?? (this.#state === DialogState.Early ? this.#pendingInitial : undefined);
    tx.reply(200);
    if (pending && !pending.tx.finalSent) this.#safely(() => pending.reject(487));
    this.terminate('bye-received');
  }

  /** The initial INVITE while this (UAS) dialog is early: a BYE from the caller ends it (§15). */
  #pendingInitial: IncomingInvite | undefined;
  attachInitialInvite(invite: IncomingInvite): void {
    this.#pendingInitial = invite;
  }

  #receiveReinvite(tx: ServerTransaction, request: SipRequest): void {
    // §14.2: "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a lower
    // CSeq sequence number on the same dialog MUST return a 500 ... with a Retry-After"; "A UAS that receives an INVITE
    // on a dialog while an INVITE it had sent on that dialog is in progress MUST return a 491 (Request Pending)".
    if (this.#outgoingInvite) {
      tx.reply(491);
      return;
    }
    if (this.#incomingInvite || this.awaitingAck) {
      tx.reply(500, { headers: [['Retry-After', String(1 + Math.floor(Math.random() * 10))]] });
      return;
    }
    const invite = this.#host.incomingReinvite(this, tx, request);
    this.#incomingInvite = invite;
    invite.onFinal = () => {
      if (this.#incomingInvite === invite) this.#incomingInvite = undefined;
    };
    const handler = this.onReinvite;
    if (!handler) {
      invite.reject(488);
      return;
    }
    this.#answering(tx, () => handler(invite));
  }

  /** Runs an application handler; if it throws before answering, 500 goes out in its place. */
  #answering(tx: ServerTransaction, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#host.logger?.error({ err: { message: e instanceof Error ? e.message : String(e) }, callId: this.callId }, 'sip dialog handler failed');
      if (!tx.finalSent) this.#safely(() => tx.reply(500));
    }
  }

  /** The ACK for our 2xx (matched by dialog id in the core). */
  receiveAck(ack: SipRequest): void {
    this.awaitingAck?.receiveAck(ack);
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#host.logger?.error({ err: { message: e instanceof Error ? e.message : String(e) }, callId: this.callId }, 'sip dialog handler failed');
    }
  }
}

function withoutTag(na: NameAddr): NameAddr {
  const c = cloneNameAddr(na);
  c.params.delete('tag');
  return c;
}
