/**
 * The transaction layer (RFC 3261 §17) on top of the transport layer: it matches every message to its transaction,
 * creates server transactions for new requests, and answers what no transaction user should see:
 *
 * - §8.2.1 methods the TU does not take: 405 with Allow for SIP methods it knows, 501 for unknown methods;
 * - §8.2.2.2 a merged request (same From tag, Call-ID and CSeq as a live transaction, different branch): 482;
 * - §8.2.2.3 a Require with an option tag not in `supported`: 420 with Unsupported (not for ACK or CANCEL);
 * - §9.2 CANCEL: 200 and 487 to the INVITE when it matches a proceeding INVITE, 481 when nothing matches;
 * - §8.1.3.3 responses with more than one Via are discarded (we are a UA, never a proxy);
 * - a TU that throws gets a 500 sent on its behalf; a TU that is missing gets 503.
 * ACKs for 2xx (which match no transaction, §17.2.3) and responses that match no client transaction (2xx
 * retransmissions after the INVITE transaction ended, §13.2.2.4) go to the TU through `onAck` / `onStrayResponse`.
 */
import type { Logger } from 'pino';
import { CardlineError } from '../../errors/index.ts';
import {
  hostForUri, SipTransportLayer, type Flow, type SentRequest, type Target, type Transport, type TransportProtocol,
} from '../transport/index.ts';
import {
  newBranch, serializeVia, sipUri, type SipRequest, type SipResponse, type SipUri, type Uri,
} from '../messages/index.ts';
import type { ClientTransaction, ClientTransactionUser } from './client-transaction.ts';
import { createCancel } from './create-cancel.ts';
import { InviteClientTransaction } from './invite-client-transaction.ts';
import { InviteServerTransaction } from './invite-server-transaction.ts';
import { NonInviteClientTransaction } from './non-invite-client-transaction.ts';
import { NonInviteServerTransaction } from './non-invite-server-transaction.ts';
import type { ServerTransaction } from './server-transaction.ts';
import { systemSipClock, timerConfig, type SipClock, type TimerConfig } from './timers.ts';
import { clientKey, clientKeyOfResponse, mergeKey, serverKey } from './transaction-keys.ts';
import type { Transaction, TransactionContext } from './transaction.ts';
import { TransactionState } from './transaction-state.ts';

/** Methods defined by RFC 3261 and its extensions: unsupported ones get 405, anything else 501 (§8.2.1). */
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY',
  'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);

export const DEFAULT_ALLOW = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'UPDATE'];

export interface SipStackHandlers {
  /** A new request and its server transaction; answer with `tx.reply()` / `tx.respond()`. */
  onRequest?(tx: ServerTransaction, request: SipRequest): void;
  /** An ACK that matched no transaction: the ACK for a 2xx (§13.3.1.4). */
  onAck?(ack: SipRequest, flow: Flow): void;
  /** A response that matched no client transaction (e.g. a 2xx retransmission, §13.2.2.4). */
  onStrayResponse?(response: SipResponse, flow: Flow): void;
}

export interface SipStackOptions {
  transports: Transport[];
  clock?: SipClock;
  timers?: Partial<TimerConfig>;
  logger?: Logger;
  /** Host name → IP (default `dns.lookup`). */
  resolve?: (host: string) => Promise<string>;
  /** §18.1.1 size rule for UDP requests (default 1300; 0 disables). */
  udpMaxRequestSize?: number;
  /** Methods the TU takes (default INVITE ACK BYE CANCEL OPTIONS INFO UPDATE). */
  allow?: string[];
  /** Option tags the TU understands in Require (default none). */
  supported?: string[];
}

export interface SendRequestOptions {
  /** Send here instead of resolving the next hop from Route / Request-URI (§8.1.2). */
  target?: Target;
}

export class SipStack {
  readonly layer: SipTransportLayer;
  readonly timers: TimerConfig;
  readonly clock: SipClock;
  readonly allow: readonly string[];
  readonly supported: readonly string[];
  handlers: SipStackHandlers = {};
  #log: Logger | undefined;
  #client = new Map<string, ClientTransaction>();
  #server = new Map<string, ServerTransaction>();
  #merge = new Map<string, string>();
  #closed = false;

  constructor(opts: SipStackOptions) {
    this.layer = new SipTransportLayer({
      transports: opts.transports,
      ...(opts.resolve ? { resolve: opts.resolve } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.udpMaxRequestSize !== undefined ? { udpMaxRequestSize: opts.udpMaxRequestSize } : {}),
    });
    this.clock = opts.clock ?? systemSipClock;
    this.timers = timerConfig(opts.timers);
    this.#log = opts.logger;
    this.allow = opts.allow ?? DEFAULT_ALLOW;
    this.supported = opts.supported ?? [];
    this.layer.setUser({
      onRequest: (r, f) => this.#onRequest(r, f),
      onResponse: (r, f) => this.#onResponse(r, f),
    });
  }

  async start(): Promise<void> {
    await this.layer.start();
  }

  /** Terminates every transaction (timers stop) and closes the transports. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const tx of [...this.#client.values(), ...this.#server.values()]) tx.terminate();
    await this.layer.close();
  }

  /** Live transactions (tests, metrics). */
  get transactionCount(): { client: number; server: number } {
    return { client: this.#client.size, server: this.#server.size };
  }

  /** A Contact/Record-Route URI for this stack on `protocol` (sent-by address and port, RFC 3261 §8.1.1.8). */
  contactUri(protocol: TransportProtocol = 'udp', user?: string): SipUri {
    const t = this.layer.transport(protocol);
    if (!t) throw new CardlineError('sip-transport-error', `no ${protocol.toUpperCase()} transport configured`);
    return sipUri({
      scheme: protocol === 'tls' ? 'sips' : 'sip', ...(user !== undefined ? { user } : {}),
      host: hostForUri(t.sentBy.host), port: t.sentBy.port, ...(protocol === 'tcp' ? { params: { transport: 'tcp' } } : {}),
    });
  }

  #ctx(): TransactionContext {
    return {
      transport: this.layer,
      clock: this.clock,
      timers: this.timers,
      ...(this.#log ? { logger: this.#log } : {}),
      onTerminated: (tx: Transaction) => this.#forget(tx),
    };
  }

  #forget(tx: Transaction): void {
    if (this.#client.get(tx.id) === tx) this.#client.delete(tx.id);
    if (this.#server.get(tx.id) === tx) {
      this.#server.delete(tx.id);
      const mk = tx.request.toTag() === undefined ? mergeKey(tx.request) : undefined;
      if (mk && this.#merge.get(mk) === tx.id) this.#merge.delete(mk);
    }
  }

  // ---- client side ---------------------------------------------------------------------------------------

  /** The next hop for a request (§8.1.2): the first Route if it is a loose router, else the Request-URI. */
  async targetFor(request: SipRequest): Promise<Target> {
    const first = request.routes()[0];
    const uri: Uri = first && first.uri.kind === 'sip' && first.uri.params.has('lr') ? first.uri : request.uri;
    return this.layer.resolveTarget(uri);
  }

  /**
   * Starts a client transaction for `request` (not ACK — see `sendAck`). The top Via gets a fresh branch if it
   * lacks an RFC 3261 one (§8.1.1.7), and Max-Forwards 70 if absent (§8.1.1.6).
   */
  async sendRequest(request: SipRequest, user: ClientTransactionUser = {}, opts: SendRequestOptions = {}): Promise<ClientTransaction> {
    if (this.#closed) throw new CardlineError('sip-state', 'the SIP stack is closed');
    if (request.method === 'ACK') throw new CardlineError('sip-state', 'ACK is not sent in a transaction; use sendAck');
    this.#prepare(request);
    const target = opts.target ?? (await this.targetFor(request));
    const branch = request.topVia().params.get('branch')!;
    const ctx = this.#ctx();
    const tx = request.method === 'INVITE'
      ? new InviteClientTransaction(clientKey(branch, 'INVITE'), request, target, ctx, user)
      : new NonInviteClientTransaction(clientKey(branch, request.method), request, target, ctx, user);
    this.#client.set(tx.id, tx);
    tx.start();
    return tx;
  }

  /** Sends an ACK for a 2xx outside any transaction (§13.2.2.4, §17.1.1.1); resend it with `layer.resend`. */
  async sendAck(ack: SipRequest, target?: Target): Promise<SentRequest> {
    if (ack.method !== 'ACK') throw new CardlineError('sip-state', 'sendAck sends ACK only');
    this.#prepare(ack);
    return this.layer.sendRequest(ack, target ?? (await this.targetFor(ack)));
  }

  /**
   * Cancels a pending INVITE (§9.1). Before any provisional response the CANCEL waits for one ("the client MUST wait
   * for the arrival of a provisional response before sending the request"); after a final response it is not sent.
   */
  cancel(invite: InviteClientTransaction, reason?: string): void {
    const send = () => {
      if (invite.state !== TransactionState.Proceeding) return;
      const cancel = createCancel(invite.request, reason);
      const sent = invite.sentRequest;
      const target: Target = { ...invite.target, ...(sent?.flow.connectionId !== undefined ? { connectionId: sent.flow.connectionId } : {}) };
      invite.armCancelGuard();
      this.sendRequest(cancel, {}, { target }).catch((e: unknown) =>
        this.#log?.warn({ err: { message: e instanceof Error ? e.message : String(e) } }, 'sip CANCEL failed'));
    };
    if (invite.state === TransactionState.Calling) invite.onFirstProvisional = send;
    else send();
  }

  #prepare(request: SipRequest): void {
    const vias = request.headers.getAll('Via');
    if (vias.length === 0) request.headers.append('Via', `SIP/2.0/UDP placeholder.invalid;branch=${newBranch()}`);
    else if (!request.topVia().params.get('branch')?.startsWith('z9hG4bK')) {
      const top = request.topVia();
      const params = new Map(top.params);
      params.set('branch', newBranch());
      request.headers.shift('Via');
      request.headers.prepend('Via', serializeVia({ ...top, params }));
    }
    if (!request.headers.has('Max-Forwards')) request.headers.append('Max-Forwards', '70');
  }

  #onResponse(response: SipResponse, flow: Flow): void {
    // §8.1.3.3: "If more than one Via header field value is present in a response, the UAC SHOULD discard the message."
    if (response.headers.count('Via') > 1) return;
    const key = clientKeyOfResponse(response);
    const tx = key ? this.#client.get(key) : undefined;
    if (tx) tx.receiveResponse(response);
    else this.#safely(() => this.handlers.onStrayResponse?.(response, flow));
  }

  // ---- server side ---------------------------------------------------------------------------------------

  #onRequest(request: SipRequest, flow: Flow): void {
    if (this.#closed) return;
    const key = serverKey(request);
    const existing = this.#server.get(key);
    if (request.method === 'ACK') {
      if (existing) existing.receiveRequest(request);
      else this.#safely(() => this.handlers.onAck?.(request, flow));
      return;
    }
    if (existing) {
      existing.receiveRequest(request); // a retransmission
      return;
    }
    if (request.method === 'CANCEL') {
      this.#onCancel(request, flow, key);
      return;
    }
    const ctx = this.#ctx();
    const tx: ServerTransaction = request.method === 'INVITE'
      ? new InviteServerTransaction(key, request, flow, ctx)
      : new NonInviteServerTransaction(key, request, flow, ctx);
    this.#server.set(key, tx);
    if (tx instanceof InviteServerTransaction) tx.start();

    // §8.2.1 method inspection
    if (!this.allow.includes(request.method)) {
      tx.reply(KNOWN_METHODS.has(request.method) ? 405 : 501, { headers: [['Allow', this.allow.join(', ')]] });
      return;
    }
    // §8.2.2.2 merged requests
    if (request.toTag() === undefined) {
      const mk = mergeKey(request);
      const other = this.#merge.get(mk);
      if (other !== undefined && other !== key && this.#server.has(other)) {
        tx.reply(482);
        return;
      }
      this.#merge.set(mk, key);
    }
    // §8.2.2.3 Require
    const unsupported = request.tokens('Require').filter((t) => !this.supported.includes(t));
    if (unsupported.length > 0) {
      tx.reply(420, { headers: [['Unsupported', unsupported.join(', ')]] });
      return;
    }
    const handler = this.handlers.onRequest;
    if (!handler) {
      tx.reply(503);
      return;
    }
    try {
      handler(tx, request);
    } catch (e) {
      this.#log?.error({ err: { message: e instanceof Error ? e.message : String(e) }, method: request.method }, 'sip request handler failed');
      if (!tx.finalSent && tx.state !== TransactionState.Terminated) {
        try {
          tx.reply(500);
        } catch {
          // the transaction moved on; nothing more to send
        }
      }
    }
  }

  /** §9.2: "If the UAS did not find a matching transaction for the CANCEL ... it SHOULD respond to the CANCEL with a
   *  481"; otherwise 200 to the CANCEL and, if the INVITE is still proceeding, 487 to the INVITE. */
  #onCancel(cancel: SipRequest, flow: Flow, key: string): void {
    const invite = this.#server.get(serverKey(cancel, 'INVITE'));
    const ist = invite instanceof InviteServerTransaction ? invite : undefined;
    const tx = new NonInviteServerTransaction(key, cancel, flow, this.#ctx(), ist?.toTag);
    this.#server.set(key, tx);
    if (!ist) {
      tx.reply(481);
      return;
    }
    tx.reply(200);
    if (ist.cancel(cancel) && !ist.finalSent && ist.state === TransactionState.Proceeding) ist.reply(487);
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#log?.error({ err: { message: e instanceof Error ? e.message : String(e) } }, 'sip handler failed');
    }
  }
}
