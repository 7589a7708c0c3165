/**
 * The user agent core (RFC 3261 §8, §12–§15) on a `SipStack`: it owns the dialog table and routes every request,
 * ACK and stray response to the dialog or call attempt it belongs to.
 *
 * - Requests with a To tag belong to a dialog; "If the UAS ... does not match any existing dialogs ... [it] MUST
 *   respond to the request with a 481" (§12.2.2).
 * - Out-of-dialog INVITEs become `IncomingInvite`s for `onInvite` (480 when nobody listens; 400 without Contact,
 *   §8.1.1.8); OPTIONS is answered 200 with Allow/Accept/Supported (§11.2) unless `onRequest` takes it; BYE outside a
 *   dialog gets 481; anything else without a handler gets 405.
 * - ACKs for 2xx and 2xx retransmissions find their dialog by id; late 2xx from other forks find their INVITE.
 * - Requests we send are retried once with digest credentials on 401/407 when the credential store has an entry
 *   (§22.2); timeouts and transport errors resolve as local 408/503 (§8.1.3.1).
 */
import type { Logger } from 'pino';
import { DigestClient, StaticCredentialStore, type CredentialEntry, type CredentialStore } from '../auth/index.ts';
import {
  newCallId, newTag, parseNameAddr, parseUri, serializeAuthHeader, serializeNameAddr, serializeUri, SipHeaders,
  SipRequest, type NameAddr, type SipResponse, type SipUri, type Uri,
} from '../messages/index.ts';
import type {
  InviteServerTransaction, ClientTransaction, ServerTransaction, SipStack,
} from '../transactions/index.ts';
import type { Flow, Target } from '../transport/index.ts';
import { bodyBytes, type Dialog, dialogKey, type RequestOptions } from './dialog.ts';
import { IncomingInvite, type InviteHost } from './incoming-invite.ts';
import { localResponse } from './local-response.ts';
import { OutgoingInvite, type OutgoingInviteHost, type OutgoingInviteOptions } from './outgoing-invite.ts';

export interface UserAgentCoreOptions {
  stack: SipStack;
  /** Digest credentials for the far side, per realm and/or host (from config). */
  credentials?: CredentialStore | readonly CredentialEntry[];
  /** User-Agent header for requests we originate. */
  userAgent?: string;
  /** User part of our Contact URIs. */
  contactUser?: string;
  logger?: Logger;
}

export interface InviteOptions extends RequestOptions, OutgoingInviteOptions {
  /** Request-URI (and default To). */
  uri: string | Uri;
  /** Our identity, a name-addr (`"Cardline" <sip:cardline@example.com>`); the tag is added. */
  from: string;
  /** Default: `<uri>`. */
  to?: string;
  callId?: string;
  /** Pre-loaded route set (e.g. an outbound proxy `<sip:sbc.example.com;lr>`), RFC 3261 §8.1.1.1. */
  routes?: string[];
}

export interface OutOfDialogRequestOptions extends RequestOptions {
  method: string;
  uri: string | Uri;
  from: string;
  to?: string;
  target?: Target;
}

const encoderless = (u: string | Uri): Uri => (typeof u === 'string' ? parseUri(u) : u);

export class UserAgentCore implements InviteHost, OutgoingInviteHost {
  readonly stack: SipStack;
  readonly logger: Logger | undefined;
  readonly digest: DigestClient | undefined;
  readonly #userAgent: string | undefined;
  readonly #contactUser: string | undefined;
  #dialogs = new Map<string, Dialog>();
  #outgoing = new Map<string, OutgoingInvite>();
  #incoming = new Set<IncomingInvite>();

  /** A new call. Default (no handler): 480 Temporarily Unavailable. */
  onInvite: ((invite: IncomingInvite) => void) | undefined;
  /** Out-of-dialog requests other than INVITE. Default: OPTIONS 200, BYE 481, others 405. */
  onRequest: ((tx: ServerTransaction, request: SipRequest) => void) | undefined;

  constructor(opts: UserAgentCoreOptions) {
    this.stack = opts.stack;
    this.logger = opts.logger;
    this.#userAgent = opts.userAgent;
    this.#contactUser = opts.contactUser;
    if (opts.credentials) {
      const store = Array.isArray(opts.credentials) ? new StaticCredentialStore(opts.credentials) : (opts.credentials as CredentialStore);
      this.digest = new DigestClient(store);
    }
    this.stack.handlers = {
      onRequest: (tx, r) => this.#onRequest(tx, r),
      onAck: (ack) => this.#onAck(ack),
      onStrayResponse: (r) => this.#onStrayResponse(r),
    };
  }

  get dialogs(): Dialog[] {
    return [...this.#dialogs.values()];
  }

  findDialog(callId: string, localTag: string, remoteTag: string): Dialog | undefined {
    return this.#dialogs.get(dialogKey({ callId, localTag, remoteTag }));
  }

  // ---- DialogHost / InviteHost / OutgoingInviteHost ------------------------------------------------------

  register(d: Dialog): void {
    this.#dialogs.set(d.key, d);
  }

  unregister(d: Dialog): void {
    if (this.#dialogs.get(d.key) === d) this.#dialogs.delete(d.key);
  }

  release(invite: OutgoingInvite): void {
    if (this.#outgoing.get(invite.key) === invite) this.#outgoing.delete(invite.key);
  }

  contactFor(flow: Flow): SipUri {
    return this.stack.contactUri(flow.protocol, this.#contactUser);
  }

  contactForTarget(target: Target): SipUri {
    return this.stack.contactUri(target.protocol, this.#contactUser);
  }

  incomingReinvite(d: Dialog, tx: ServerTransaction, _request: SipRequest): IncomingInvite {
    return this.#track(new IncomingInvite(this, tx as InviteServerTransaction, d));
  }

  #track(invite: IncomingInvite): IncomingInvite {
    this.#incoming.add(invite);
    void invite.acked.finally(() => this.#incoming.delete(invite)).catch(() => undefined);
    const prev = invite.onFinal;
    invite.onFinal = () => {
      prev?.();
      if (!invite.finalResponse || invite.finalResponse.status >= 300) this.#incoming.delete(invite);
    };
    return invite;
  }

  async sendNonInvite(build: () => SipRequest): Promise<{ response: SipResponse; request: SipRequest }> {
    return this.#withAuth(build, (req) => this.#transact(req));
  }

  async sendInvite(build: () => SipRequest, onProvisional?: (r: SipResponse) => void): Promise<{ response: SipResponse; request: SipRequest }> {
    return this.#withAuth(build, (req) => this.#transact(req, onProvisional));
  }

  async #withAuth(build: () => SipRequest, send: (r: SipRequest) => Promise<SipResponse>): Promise<{ response: SipResponse; request: SipRequest }> {
    let request = this.#stamp(build());
    let response = await send(request);
    for (let tries = 0; tries < 2 && (response.status === 401 || response.status === 407) && this.digest; tries++) {
      const auth = this.digest.authorize(request, response);
      if (!auth) break;
      const next = this.#stamp(build());
      for (const a of auth) next.headers.append(a.name, serializeAuthHeader(a.value, 'credentials'));
      request = next;
      response = await send(request);
    }
    return { response, request };
  }

  async #transact(request: SipRequest, onProvisional?: (r: SipResponse) => void): Promise<SipResponse> {
    let tx: ClientTransaction;
    try {
      tx = await this.stack.sendRequest(request, { onResponse: (r) => { if (r.status < 200) onProvisional?.(r); } });
    } catch {
      return localResponse(request, 503);
    }
    try {
      return await tx.finalResponse;
    } catch (e) {
      const code = (e as { code?: string }).code;
      return localResponse(request, code === 'sip-timeout' ? 408 : 503);
    }
  }

  #stamp(r: SipRequest): SipRequest {
    if (this.#userAgent && !r.headers.has('User-Agent')) r.headers.append('User-Agent', this.#userAgent);
    return r;
  }

  // ---- originating -------------------------------------------------------------------------------------------

  /** Starts a call (§13.2.1). Watch `outcome`; `cancel()` to give up. */
  invite(opts: InviteOptions): OutgoingInvite {
    const uri = encoderless(opts.uri);
    const h = new SipHeaders();
    h.append('Via', 'SIP/2.0/UDP placeholder.invalid');
    h.append('Max-Forwards', '70');
    for (const r of opts.routes ?? []) h.append('Route', r);
    h.append('From', this.#withTag(opts.from));
    h.append('To', opts.to ?? `<${serializeUri(uri)}>`);
    h.append('Call-ID', opts.callId ?? newCallId());
    h.append('CSeq', `${1 + Math.floor(Math.random() * 0xffff)} INVITE`);
    h.append('Allow', this.stack.allow.join(', '));
    if (this.#userAgent) h.append('User-Agent', this.#userAgent);
    for (const [n, v] of opts.headers ?? []) h.append(n, v);
    const body = bodyBytes(opts.body);
    if (body.length > 0 || opts.contentType !== undefined) h.set('Content-Type', opts.contentType ?? 'application/sdp');
    const request = new SipRequest('INVITE', uri, h, body);
    const out = new OutgoingInvite(this, request, opts);
    this.#outgoing.set(out.key, out);
    void out.start();
    return out;
  }

  /** An out-of-dialog non-INVITE request (OPTIONS keep-alive, MESSAGE…); resolves with the final response. */
  async request(opts: OutOfDialogRequestOptions): Promise<SipResponse> {
    const uri = encoderless(opts.uri);
    const callId = newCallId();
    const from = this.#withTag(opts.from);
    let seq = 1 + Math.floor(Math.random() * 0xffff);
    const build = () => {
      const h = new SipHeaders();
      h.append('Via', 'SIP/2.0/UDP placeholder.invalid');
      h.append('Max-Forwards', '70');
      h.append('From', from);
      h.append('To', opts.to ?? `<${serializeUri(uri)}>`);
      h.append('Call-ID', callId);
      h.append('CSeq', `${seq++} ${opts.method}`);
      for (const [n, v] of opts.headers ?? []) h.append(n, v);
      const body = bodyBytes(opts.body);
      if (body.length > 0 || opts.contentType !== undefined) h.set('Content-Type', opts.contentType ?? 'text/plain');
      return new SipRequest(opts.method, uri, h, body);
    };
    if (opts.target) {
      const target = opts.target;
      return (await this.#withAuth(build, async (req) => {
        try {
          return await (await this.stack.sendRequest(req, {}, { target })).finalResponse;
        } catch (e) {
          return localResponse(req, (e as { code?: string }).code === 'sip-timeout' ? 408 : 503);
        }
      })).response;
    }
    return (await this.sendNonInvite(build)).response;
  }

  #withTag(nameAddr: string): string {
    const na: NameAddr = parseNameAddr(nameAddr, 'From');
    if (!na.params.has('tag')) na.params.set('tag', newTag());
    return serializeNameAddr(na);
  }

  // ---- receiving ---------------------------------------------------------------------------------------------

  #onRequest(tx: ServerTransaction, request: SipRequest): void {
    const toTag = request.toTag();
    if (toTag !== undefined) {
      const dialog = this.findDialog(request.callId(), toTag, request.fromTag() ?? '');
      if (!dialog) {
        tx.reply(481);
        return;
      }
      dialog.receiveRequest(tx, request);
      return;
    }
    if (request.method === 'INVITE') {
      if (request.contacts().length === 0) {
        tx.reply(400, { reason: 'Bad Request (Missing Contact)' });
        return;
      }
      const invite = this.#track(new IncomingInvite(this, tx as InviteServerTransaction));
      const handler = this.onInvite;
      if (!handler) {
        invite.reject(480);
        return;
      }
      handler(invite); // a throw is answered 500 by the stack
      return;
    }
    if (this.onRequest) {
      this.onRequest(tx, request);
      return;
    }
    if (request.method === 'OPTIONS') {
      // §11.2: the response to OPTIONS describes our capabilities.
      tx.reply(200, { headers: [['Allow', this.stack.allow.join(', ')], ['Accept', 'application/sdp'], ...(this.stack.supported.length ? [['Supported', this.stack.supported.join(', ')] as [string, string]] : [])] });
      return;
    }
    tx.reply(request.method === 'BYE' ? 481 : 405, { headers: [['Allow', this.stack.allow.join(', ')]] });
  }

  #onAck(ack: SipRequest): void {
    const d = this.findDialog(ack.callId(), ack.toTag() ?? '', ack.fromTag() ?? '');
    d?.receiveAck(ack);
  }

  #onStrayResponse(response: SipResponse): void {
    if (response.cseq().method !== 'INVITE' || response.status < 200 || response.status >= 300) return;
    const fromTag = response.fromTag() ?? '';
    const d = this.findDialog(response.callId(), fromTag, response.toTag() ?? '');
    if (d?.retransmitAck(response)) return;
    this.#outgoing.get(`${response.callId()}|${fromTag}`)?.receive2xx(response);
  }

  /** Stops 2xx retransmissions and forgets every dialog (no BYE is sent): for shutdown. */
  close(): void {
    for (const i of this.#incoming) i.abandon();
    this.#incoming.clear();
    for (const d of [...this.#dialogs.values()]) d.terminate('closed');
    this.#outgoing.clear();
  }
}
