import { randomBytes } from 'node:crypto';
import { createConnectorRegistry } from '../connectors/registry.ts';
import {
  ConnectorError, isConnectorError, sanitizeProcessorText,
  type ConnectorOutcome, type ConnectorResolver, type PaymentConnector,
} from '../connectors/types.ts';
import { DTMF_DIGITS, type DtmfDigit } from '../dsp/index.ts';
import { CardlineError, isCardlineError, type ErrorCode } from '../errors/index.ts';
import { createLogger, type Logger } from '../log/index.ts';
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { isTerminal, PaymentSession, type SessionDetails } from './payment-session.ts';
import type { PaymentStore, SessionListFilter, TransactionRecord, UsageRecord } from './ports.ts';
import { mergeCaptureConfig, resolveCaptureConfig, type CaptureConfig, type FieldSpec } from './session-config.ts';
import type {
  CallId, CardField, Channel, MaskedSession, MerchantId, PaymentIntent, PaymentResult, SessionEvent, SessionId, Token,
} from './types.ts';
import { CardVault, type CardData } from './vault.ts';

/**
 * `PaymentSessionService`: the payments domain's public face towards the API, the media layer and the CLI.
 *
 * Live sessions are held in memory (their card data cannot be anywhere else); every masked change is persisted
 * through the `PaymentStore` port and delivered to subscribers in order, after it is saved.
 *
 * Submitting (charge or tokenize):
 *  - one idempotency key per session and intent (`cardline-<session>-<intent>`), sent to the connector on every
 *    attempt, and one transaction row per key (pending → succeeded | failed, back to pending on a retry);
 *  - one usage record per connector attempt (billing);
 *  - a definite answer (approved, declined, bad card data, unsupported) ends the session;
 *  - an unknown outcome (connector unreachable, timed out, crashed) returns the session to `ready` with the
 *    error code shown, card data still in the vault, so the agent can submit again; the retry carries the same
 *    idempotency key, so a processor that did charge the first time answers with that first charge instead of
 *    charging twice. After `maxSubmitAttempts` such failures the session fails with that code;
 *  - if the store already holds a succeeded transaction for the key (a previous instance charged, then died
 *    before recording the session), the recorded result is reused and the connector is not called.
 */

export type Listener = (event: SessionEvent) => void;

export interface MerchantPaymentConfig {
  /** capture defaults for this merchant (accepted brands, fields, timeouts...) */
  capture?: CaptureConfig;
}

export interface PaymentServiceOptions {
  store: PaymentStore;
  /** connector per merchant; default: the built-in sandbox for every merchant */
  connectors?: ConnectorResolver;
  clock?: Clock;
  vault?: CardVault;
  logger?: Logger;
  /** randomness port for ids; default 12 random bytes, hex */
  newId?: (prefix: 'ps' | 'tx' | 'us') => string;
  /** capture defaults for every merchant */
  capture?: CaptureConfig;
  merchants?: Readonly<Record<string, MerchantPaymentConfig>> | ((merchantId: MerchantId) => MerchantPaymentConfig | undefined);
  /** upper bound on one connector call, on top of the connector's own timeout; default 45 s */
  connectorTimeoutMs?: number;
  /** terminal sessions stay in memory this long (then `get` reads the store); default 60 s */
  retainTerminalMs?: number;
}

export interface CreateSessionParams {
  callId: string;
  merchantId: string;
  channel?: Channel;
  intent: PaymentIntent;
  /** capture order and per-field options (shorthand for `capture.fields`) */
  fields?: readonly FieldSpec[];
  capture?: CaptureConfig;
  amountMinor?: number | null;
  currency?: string | null;
  description?: string | null;
  reference?: string | null;
  /** user or system that created the session (shown in lists, audit) */
  createdBy?: string | null;
  /** start capturing the first field right away (typical for IVR); default false */
  startCapture?: boolean;
}

export interface RefundParams {
  /** minor units; omit for the whole charge */
  amountMinor?: number;
  /** default derives from session and amount, so repeating the same refund never refunds twice */
  idempotencyKey?: string;
}

interface Live {
  session: PaymentSession;
  listeners: Set<Listener>;
  chain: Promise<void>;
  /** store failures raised while persisting this session, surfaced to the command that caused them */
  errors: unknown[];
  evictTimer: TimerHandle | null;
  submitting: Promise<unknown> | null;
}

const CHANNELS: readonly Channel[] = ['agent-assisted', 'ivr', 'pay-by-link'];
const INTENTS: readonly PaymentIntent[] = ['tokenize', 'charge'];
const ID_TEXT = /^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$/;

/** Codes after which the processor gave a definite "no": no retry. */
const DEFINITE_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'card-declined', 'insufficient-funds', 'invalid-card-number', 'invalid-expiry', 'invalid-security-code',
  'invalid-postal-code', 'connector-unsupported', 'connector-not-configured', 'idempotency-conflict', 'amount-required', 'invalid-amount',
]);

function defaultId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export class PaymentSessionService {
  readonly #store: PaymentStore;
  readonly #connectors: ConnectorResolver;
  readonly #clock: Clock;
  readonly #vault: CardVault;
  readonly #log: Logger;
  readonly #newId: (prefix: 'ps' | 'tx' | 'us') => string;
  readonly #capture: CaptureConfig | undefined;
  readonly #merchants: PaymentServiceOptions['merchants'];
  readonly #connectorTimeoutMs: number;
  readonly #retainTerminalMs: number;
  readonly #live = new Map<SessionId, Live>();
  readonly #global = new Set<Listener>();
  readonly #ownsConnectors: boolean;
  #closed = false;

  constructor(opts: PaymentServiceOptions) {
    this.#store = opts.store;
    this.#ownsConnectors = opts.connectors === undefined;
    this.#connectors = opts.connectors ?? createConnectorRegistry();
    this.#clock = opts.clock ?? systemClock;
    this.#vault = opts.vault ?? new CardVault();
    this.#log = (opts.logger ?? createLogger({ level: 'silent' })).child({ component: 'payments' });
    this.#newId = opts.newId ?? defaultId;
    this.#capture = opts.capture;
    this.#merchants = opts.merchants;
    this.#connectorTimeoutMs = opts.connectorTimeoutMs ?? 45_000;
    this.#retainTerminalMs = opts.retainTerminalMs ?? 60_000;
    // fail fast on a bad service-wide default rather than on the first session
    resolveCaptureConfig(this.#capture);
  }

  // --- commands ----------------------------------------------------------------------------------------

  async create(p: CreateSessionParams): Promise<MaskedSession> {
    this.#assertOpen();
    if (typeof p !== 'object' || p === null) throw new CardlineError('usage', 'session parameters are required');
    if (typeof p.callId !== 'string' || !ID_TEXT.test(p.callId)) throw new CardlineError('usage', 'callId must be 1-128 characters [A-Za-z0-9_.:@+-]');
    if (typeof p.merchantId !== 'string' || !ID_TEXT.test(p.merchantId)) throw new CardlineError('usage', 'merchantId must be 1-128 characters [A-Za-z0-9_.:@+-]');
    const channel = p.channel ?? 'agent-assisted';
    if (!CHANNELS.includes(channel)) throw new CardlineError('usage', `channel must be one of ${CHANNELS.join(', ')}`);
    if (!INTENTS.includes(p.intent)) throw new CardlineError('usage', `intent must be one of ${INTENTS.join(', ')}`);
    if (p.createdBy !== undefined && p.createdBy !== null && (typeof p.createdBy !== 'string' || p.createdBy.length > 128)) {
      throw new CardlineError('usage', 'createdBy must be a string of at most 128 characters');
    }
    const merchantId = p.merchantId as MerchantId;
    const merchantCfg = typeof this.#merchants === 'function' ? this.#merchants(merchantId) : this.#merchants?.[merchantId];
    let capture = mergeCaptureConfig(this.#capture, merchantCfg?.capture);
    capture = mergeCaptureConfig(capture, p.capture);
    if (p.fields) capture = { ...capture, fields: p.fields };
    const config = resolveCaptureConfig(capture);
    const id = this.#newId('ps') as SessionId;
    if (this.#live.has(id)) throw new CardlineError('internal', 'session id collision');
    const live: Live = { session: undefined as unknown as PaymentSession, listeners: new Set(), chain: Promise.resolve(), errors: [], evictTimer: null, submitting: null };
    this.#live.set(id, live);
    try {
      live.session = PaymentSession.create({
        id, callId: p.callId as CallId, merchantId, channel, intent: p.intent, createdBy: p.createdBy ?? null,
        amountMinor: p.amountMinor, currency: p.currency, description: p.description, reference: p.reference,
        config, clock: this.#clock, vault: this.#vault, onEvent: (e) => this.#onSessionEvent(live, e),
      });
    } catch (err) {
      this.#live.delete(id);
      this.#vault.wipe(id);
      throw err;
    }
    this.#log.info({ sessionId: id, merchantId, channel, intent: p.intent }, 'payment session created');
    if (p.startCapture) live.session.startCapture();
    return this.#settle(live);
  }

  /** The masked state. Live sessions from memory, finished ones from the store. */
  async get(id: string): Promise<MaskedSession> {
    const live = this.#live.get(id as SessionId);
    if (live) {
      await live.chain;
      return live.session.snapshot();
    }
    const stored = await this.#store.getSession(id as SessionId);
    if (!stored) throw new CardlineError('session-not-found');
    return stored;
  }

  /** Like `get`, but null for an unknown id (fits the API's `SessionReader`). */
  async find(id: string): Promise<MaskedSession | null> {
    try {
      return await this.get(id);
    } catch (err) {
      if (isCardlineError(err) && err.code === 'session-not-found') return null;
      throw err;
    }
  }

  async list(filter: SessionListFilter = {}): Promise<MaskedSession[]> {
    return this.#store.listSessions(filter);
  }

  async transactions(id: string): Promise<TransactionRecord[]> {
    await this.get(id);
    return this.#store.listTransactions({ sessionId: id as SessionId });
  }

  /** Starts the first pending field (or `field`, which is then re-captured). */
  async startCapture(id: string, field?: CardField): Promise<MaskedSession> {
    const live = this.#require(id);
    live.session.startCapture(field);
    return this.#settle(live);
  }

  async recapture(id: string, field: CardField): Promise<MaskedSession> {
    const live = this.#require(id);
    live.session.recapture(field);
    return this.#settle(live);
  }

  /**
   * Keypad keys in order (`"4111111111111111#"` or an array). The whole input is checked to be DTMF keys before
   * any is applied; then keys are applied until one is refused (no field active, field locked), which throws
   * `invalid-state` saying how many were taken. Digits never appear in errors or logs.
   */
  async feedDigits(id: string, keys: string | readonly DtmfDigit[]): Promise<MaskedSession> {
    const live = this.#require(id);
    const list = typeof keys === 'string' ? [...keys] : [...keys];
    if (list.length === 0) throw new CardlineError('usage', 'no keys given');
    if (list.length > 64) throw new CardlineError('usage', 'at most 64 keys per call');
    for (let i = 0; i < list.length; i++) {
      if (!(DTMF_DIGITS as readonly string[]).includes(list[i] as string)) throw new CardlineError('dtmf-invalid-digit', `at position ${i}`);
    }
    let taken = 0;
    try {
      for (const k of list as DtmfDigit[]) {
        live.session.feedDigit(k);
        taken++;
      }
    } catch (err) {
      await this.#settle(live).catch(() => undefined);
      if (isCardlineError(err) && err.code === 'invalid-state' && taken > 0) {
        throw new CardlineError('invalid-state', `${taken} of ${list.length} keys were taken; ${stripSummary(err)}`, { cause: err });
      }
      throw err;
    }
    return this.#settle(live);
  }

  /** Amount (minor units), currency, description, reference. */
  async setDetails(id: string, details: SessionDetails): Promise<MaskedSession> {
    const live = this.#require(id);
    live.session.setDetails(details);
    return this.#settle(live);
  }

  /** Shorthand for `setDetails` with an amount and currency. */
  async setAmount(id: string, amountMinor: number, currency: string): Promise<MaskedSession> {
    return this.setDetails(id, { amountMinor, currency });
  }

  async cancel(id: string): Promise<MaskedSession> {
    const live = this.#require(id);
    live.session.cancel();
    this.#log.info({ sessionId: id }, 'payment session cancelled');
    return this.#settle(live);
  }

  /**
   * Hands the card to the merchant's connector once. Throws (session unchanged) when not `ready`
   * (`invalid-state`) or a charge has no amount (`amount-required`); otherwise resolves with the session after
   * the attempt: `succeeded`, `failed`, or `ready` again with `errorCode` after a retryable failure.
   */
  async submit(id: string): Promise<MaskedSession> {
    const live = this.#require(id);
    const s = live.session;
    const { attempt } = s.beginSubmit();
    const run = this.#runSubmit(live, attempt);
    live.submitting = run;
    try {
      await run;
    } finally {
      live.submitting = null;
    }
    return this.#settle(live);
  }

  /**
   * Refunds a succeeded charge (where the connector supports it). Resolves with the refund transaction;
   * a repeated call with the same amount (or key) returns the first refund instead of refunding twice.
   */
  async refund(id: string, p: RefundParams = {}): Promise<TransactionRecord> {
    this.#assertOpen();
    const session = await this.get(id);
    if (session.state !== 'succeeded' || session.intent !== 'charge') {
      throw new CardlineError('invalid-state', 'only a succeeded charge can be refunded');
    }
    if (p.amountMinor !== undefined && (!Number.isSafeInteger(p.amountMinor) || p.amountMinor <= 0 || p.amountMinor > (session.amountMinor ?? 0))) {
      throw new CardlineError('invalid-amount', 'refund amount must be a positive integer not above the charge');
    }
    if (p.idempotencyKey !== undefined && (typeof p.idempotencyKey !== 'string' || !ID_TEXT.test(p.idempotencyKey))) {
      throw new CardlineError('usage', 'idempotencyKey must be 1-128 characters [A-Za-z0-9_.:@+-]');
    }
    const charge = (await this.#store.listTransactions({ sessionId: session.id }))
      .find((t) => t.kind === 'charge' && t.status === 'succeeded');
    if (!charge?.connectorReference) throw new CardlineError('invalid-state', 'no succeeded charge with a processor reference');
    const key = p.idempotencyKey ?? `cardline-${session.id}-refund-${p.amountMinor ?? 'full'}`;
    const existing = await this.#store.findTransactionByIdempotencyKey(session.merchantId, key);
    if (existing) {
      if (existing.sessionId !== session.id || existing.kind !== 'refund') throw new CardlineError('idempotency-conflict');
      if (existing.status === 'succeeded') return existing;
    }
    const connector = this.#connectors.forMerchant(session.merchantId);
    if (!connector.capabilities.refund) throw new ConnectorError('connector-unsupported', connector.name, { detail: 'refunds' });
    const now = this.#iso();
    let tx: TransactionRecord = existing
      ? { ...existing, status: 'pending', errorCode: null, updatedAt: now }
      : {
        id: this.#newId('tx'), sessionId: session.id, merchantId: session.merchantId, kind: 'refund', connector: connector.name,
        idempotencyKey: key, status: 'pending', token: null, brand: session.brand, last4: session.last4,
        amountMinor: p.amountMinor ?? session.amountMinor, currency: session.currency, connectorReference: null,
        authorizationCode: null, errorCode: null, createdAt: now, updatedAt: now,
      };
    if (existing) await this.#store.updateTransaction(tx);
    else await this.#store.insertTransaction(tx);
    try {
      const out = await this.#withTimeout((signal) => connector.refund({
        merchantId: session.merchantId, sessionId: session.id, idempotencyKey: key, connectorReference: charge.connectorReference as string,
        amountMinor: p.amountMinor ?? null, currency: session.currency, signal,
      }));
      tx = { ...tx, status: 'succeeded', connectorReference: out.connectorReference, amountMinor: out.amountMinor ?? tx.amountMinor, updatedAt: this.#iso() };
      await this.#store.updateTransaction(tx);
      await this.#usage(session.merchantId, session.id, tx.id, session.channel, 'succeeded', connector.name);
      return tx;
    } catch (err) {
      const { code } = classify(err);
      tx = { ...tx, status: 'failed', errorCode: code, updatedAt: this.#iso() };
      await this.#store.updateTransaction(tx);
      await this.#usage(session.merchantId, session.id, tx.id, session.channel, 'failed', connector.name);
      throw err;
    }
  }

  // --- events -------------------------------------------------------------------------------------------

  /**
   * Masked events of one live session, in order, each after it has been saved. Returns the unsubscribe function.
   * Throws `session-not-found` for an id that is not live (finished sessions emit nothing more: read `get`).
   * A listener that throws is logged and does not affect the session or other listeners.
   */
  subscribe(id: string, listener: Listener): () => void {
    const live = this.#live.get(id as SessionId);
    if (!live || live.session.terminal) throw new CardlineError('session-not-found', 'no live session with this id');
    live.listeners.add(listener);
    return () => { live.listeners.delete(listener); };
  }

  /** Masked events of every session (status callbacks, audit). Returns the unsubscribe function. */
  onEvent(listener: Listener): () => void {
    this.#global.add(listener);
    return () => { this.#global.delete(listener); };
  }

  // --- housekeeping -------------------------------------------------------------------------------------

  /**
   * Expires live sessions older than their TTL. Session timers already do this; the sweep is a safety net
   * for clocks that jumped (suspend/resume). Returns how many were expired.
   */
  async expireStale(): Promise<number> {
    let n = 0;
    const now = this.#clock.now();
    for (const live of this.#live.values()) {
      const s = live.session;
      if (s.terminal) continue;
      if (now - Date.parse(s.snapshot().createdAt) >= s.config.sessionTtlMs) {
        s.expire();
        if (s.terminal) n++;
        await this.#settle(live).catch((err) => this.#log.error({ err: safeErr(err), sessionId: s.id }, 'persisting an expired session failed'));
      }
    }
    return n;
  }

  /**
   * After a restart: sessions the store shows as unfinished cannot continue (their card data died with the
   * process). Marks them `expired`; one that was `submitting` is marked `failed` with `connector-error`, and its
   * pending transaction is left `pending` for reconciliation with the processor. Returns how many were closed.
   */
  async recoverInterrupted(): Promise<number> {
    let n = 0;
    for (const state of ['created', 'capturing', 'ready', 'submitting'] as const) {
      for (;;) {
        const batch = (await this.#store.listSessions({ state, limit: 1000 })).filter((s) => !this.#live.has(s.id));
        if (batch.length === 0) break;
        for (const s of batch) {
          const wasSubmitting = s.state === 'submitting';
          await this.#store.saveSession({
            ...s, state: wasSubmitting ? 'failed' : 'expired', currentField: null,
            errorCode: wasSubmitting ? 'connector-error' : 'session-expired', updatedAt: this.#iso(),
          });
          n++;
        }
      }
    }
    if (n > 0) this.#log.warn({ count: n }, 'closed payment sessions interrupted by a restart');
    return n;
  }

  /** Resolves when every live session's events are saved and delivered. */
  async idle(): Promise<void> {
    for (const live of [...this.#live.values()]) await live.chain;
  }

  /** Number of sessions held in memory (live, plus recently finished). */
  get liveCount(): number {
    return this.#live.size;
  }

  /**
   * Shutdown: waits for in-flight submits, expires the sessions still open (persisted), wipes the vault and
   * closes the default connectors. Idempotent. The store is the caller's to close.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#live.values()].map((l) => l.submitting ?? Promise.resolve()));
    for (const live of this.#live.values()) {
      if (!live.session.terminal) live.session.expire();
    }
    await Promise.allSettled([...this.#live.values()].map((l) => l.chain));
    for (const live of this.#live.values()) {
      live.evictTimer?.cancel();
      live.session.dispose();
      live.listeners.clear();
    }
    this.#live.clear();
    this.#global.clear();
    this.#vault.wipeAll();
    if (this.#ownsConnectors) await this.#connectors.close?.();
  }

  // --- internals ----------------------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new CardlineError('invalid-state', 'the payment service is closed');
  }

  #require(id: string): Live {
    this.#assertOpen();
    const live = this.#live.get(id as SessionId);
    if (!live) throw new CardlineError('session-not-found');
    return live;
  }

  #iso(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  /** Queue: save the snapshot, then deliver to listeners; keeps events in order per session. */
  #onSessionEvent(live: Live, event: SessionEvent): void {
    live.chain = live.chain.then(async () => {
      try {
        await this.#store.saveSession(event.session);
      } catch (err) {
        live.errors.push(err);
        this.#log.error({ err: safeErr(err), sessionId: event.sessionId, type: event.type }, 'saving a payment session failed');
      }
      for (const l of [...live.listeners, ...this.#global]) {
        try {
          l(event);
        } catch (err) {
          this.#log.warn({ err: safeErr(err), sessionId: event.sessionId, type: event.type }, 'a session listener threw');
        }
      }
    });
    if (isTerminal(event.session.state)) this.#scheduleEviction(live);
  }

  #scheduleEviction(live: Live): void {
    if (live.evictTimer) return;
    live.evictTimer = this.#clock.setTimer(this.#retainTerminalMs, () => {
      void live.chain.then(() => {
        live.listeners.clear();
        if (this.#live.get(live.session.id) === live) this.#live.delete(live.session.id);
      });
    });
    this.#log.info({ sessionId: live.session.id, state: live.session.state, errorCode: live.session.snapshot().errorCode }, 'payment session ended');
  }

  /** Waits for pending saves, surfaces a store failure, returns the fresh snapshot. */
  async #settle(live: Live): Promise<MaskedSession> {
    await live.chain;
    const err = live.errors.shift();
    live.errors.length = 0;
    if (err !== undefined) throw err;
    return live.session.snapshot();
  }

  async #runSubmit(live: Live, attempt: number): Promise<void> {
    const s = live.session;
    const snap = s.snapshot();
    const key = `cardline-${s.id}-${s.intent}`;
    let connector: PaymentConnector;
    try {
      connector = this.#connectors.forMerchant(s.merchantId);
      if (!connector.capabilities[s.intent]) throw new ConnectorError('connector-unsupported', connector.name, { detail: s.intent });
    } catch (err) {
      const { code, message } = classify(err);
      s.failSubmit(failedResult(isConnectorError(err) ? err.connector : 'none', code, message), false);
      return;
    }

    // a succeeded transaction for this key means the money already moved: record it, do not call again
    let tx: TransactionRecord;
    try {
      const existing = await this.#store.findTransactionByIdempotencyKey(s.merchantId, key);
      if (existing && existing.sessionId !== s.id) throw new CardlineError('idempotency-conflict');
      if (existing?.status === 'succeeded') {
        s.completeSubmit({
          status: 'succeeded', token: existing.token, authorizationCode: existing.authorizationCode, connector: existing.connector,
          connectorReference: existing.connectorReference, errorCode: null, message: 'recorded result of an earlier attempt',
        });
        return;
      }
      const now = this.#iso();
      tx = existing
        ? { ...existing, status: 'pending', errorCode: null, connector: connector.name, updatedAt: now }
        : {
          id: this.#newId('tx'), sessionId: s.id, merchantId: s.merchantId, kind: s.intent, connector: connector.name,
          idempotencyKey: key, status: 'pending', token: null, brand: snap.brand, last4: snap.last4,
          amountMinor: snap.amountMinor, currency: snap.currency, connectorReference: null, authorizationCode: null,
          errorCode: null, createdAt: now, updatedAt: now,
        };
      if (existing) await this.#store.updateTransaction(tx);
      else await this.#store.insertTransaction(tx);
    } catch (err) {
      // nothing was sent to the processor; a store outage is worth a retry, a key conflict is not
      const { code, message } = classify(err);
      const retryable = !(isCardlineError(err) && err.code === 'idempotency-conflict');
      s.failSubmit(failedResult(connector.name, code === 'idempotency-conflict' ? code : 'connector-error', message), retryable);
      this.#log.error({ err: safeErr(err), sessionId: s.id }, 'recording the transaction failed; connector not called');
      return;
    }

    this.#log.info({ sessionId: s.id, connector: connector.name, attempt, intent: s.intent }, 'calling payment connector');
    let outcome: ConnectorOutcome | undefined;
    let failure: unknown;
    try {
      outcome = await this.#vault.withCard(s.id, async (card) => {
        try {
          return await this.#withTimeout(async (signal) => {
            const base = {
              card, brand: snap.brand ?? 'unknown', description: snap.description, reference: snap.reference,
              sessionId: s.id, merchantId: s.merchantId, idempotencyKey: key, signal,
            } as const;
            const out = s.intent === 'charge'
              ? await connector.charge({ ...base, amountMinor: snap.amountMinor as number, currency: snap.currency as string })
              : await connector.tokenize(base);
            return scrubOutcome(out, card, connector.name);
          });
        } catch (err) {
          throw scrubError(err, card);
        }
      });
    } catch (err) {
      failure = err;
    }

    const status = outcome ? 'succeeded' : 'failed';
    const { code, message, retryable } = outcome ? { code: null, message: null, retryable: false } : classify(failure);
    tx = {
      ...tx, status, updatedAt: this.#iso(), errorCode: code,
      token: outcome?.token ?? null, connectorReference: outcome?.connectorReference ?? null, authorizationCode: outcome?.authorizationCode ?? null,
    };
    try {
      await this.#store.updateTransaction(tx);
      await this.#usage(s.merchantId, s.id, tx.id, s.channel, status, connector.name);
    } catch (err) {
      this.#log.error({ err: safeErr(err), sessionId: s.id, txId: tx.id }, 'recording the connector outcome failed');
    }
    if (outcome) {
      s.completeSubmit({
        status: 'succeeded', token: outcome.token, authorizationCode: outcome.authorizationCode, connector: connector.name,
        connectorReference: outcome.connectorReference, errorCode: null, message: outcome.message,
      });
      this.#log.info({ sessionId: s.id, connector: connector.name }, 'payment connector succeeded');
    } else {
      const after = s.failSubmit(failedResult(connector.name, code as ErrorCode, message), retryable);
      this.#log.warn({ sessionId: s.id, connector: connector.name, errorCode: code, retryable, now: after }, 'payment connector failed');
    }
  }

  async #usage(merchantId: MerchantId, sessionId: SessionId, txId: string, channel: Channel, outcome: 'succeeded' | 'failed', connector: string): Promise<void> {
    const u: UsageRecord = {
      id: this.#newId('us'), merchantId, sessionId, transactionId: txId, channel, kind: 'transaction',
      outcome, connector, quantity: 1, occurredAt: this.#iso(),
    };
    await this.#store.insertUsage(u);
  }

  /** Runs `fn` with an AbortSignal that fires after the service-level timeout (via the Clock port). */
  #withTimeout<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const timer = this.#clock.setTimer(this.#connectorTimeoutMs, () => {
        const err = new ConnectorError('connector-timeout', 'service', { detail: `no answer within ${this.#connectorTimeoutMs} ms` });
        ac.abort(err);
        reject(err);
      });
      fn(ac.signal).then(
        (v) => { timer.cancel(); resolve(v); },
        (e: unknown) => { timer.cancel(); reject(e); },
      );
    });
  }
}

function failedResult(connector: string, code: ErrorCode, message: string | null): PaymentResult {
  return { status: 'failed', token: null, authorizationCode: null, connector, connectorReference: null, errorCode: code, message };
}

/** Maps anything a connector call can throw to (code, plain message, retryable). Unknown errors are crashes: retryable. */
function classify(err: unknown): { code: ErrorCode; message: string | null; retryable: boolean } {
  if (isConnectorError(err)) {
    return { code: err.code, message: sanitizeProcessorText(err.message), retryable: err.retryable && !DEFINITE_FAILURES.has(err.code) };
  }
  if (isCardlineError(err)) {
    const retryable = err.code === 'connector-error' || err.code === 'connector-timeout' || err.code === 'store-error';
    const code: ErrorCode = DEFINITE_FAILURES.has(err.code) || retryable ? err.code : 'connector-error';
    return { code: code === 'store-error' ? 'connector-error' : code, message: sanitizeProcessorText(err.message), retryable };
  }
  // a connector that crashed (threw a plain error): the outcome is unknown, so retrying with the same key is the safe move
  return { code: 'connector-error', message: 'the connector failed unexpectedly', retryable: true };
}

/**
 * Whether `hay` holds the digits of `needle`. With `standalone`, only as a token of its own (not glued to letters
 * or digits), which is how a short security code would show up in prose ("cvv 123") without matching inside
 * hex ids ("ch_ab123f") or longer numbers.
 */
function containsDigits(hay: Buffer, needle: Buffer, standalone: boolean): boolean {
  if (needle.length === 0) return false;
  const isAlnum = (c: number | undefined) => c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) {
    if (!standalone || (!isAlnum(hay[at - 1]) && !isAlnum(hay[at + needle.length]))) return true;
  }
  return false;
}

/** PAN anywhere, or the security code / postal code as a standalone number in free text. */
function mentionsCard(text: string | null, card: CardData, freeText: boolean): boolean {
  if (text === null) return false;
  const b = Buffer.from(text, 'utf8');
  if (containsDigits(b, card.number, false)) return true;
  if (!freeText) return false;
  return (card.securityCode !== null && containsDigits(b, card.securityCode, true))
    || (card.postalCode !== null && containsDigits(b, card.postalCode, true));
}

/**
 * Last line of defence while the card is still in scope: a connector response must not echo the card.
 * A token, reference or authorisation code containing the PAN is refused outright (the adapter is broken);
 * a message that mentions the PAN, security code or postal code is dropped.
 */
function scrubOutcome(out: ConnectorOutcome, card: CardData, connector: string): ConnectorOutcome {
  for (const v of [out.token, out.connectorReference, out.authorizationCode]) {
    if (mentionsCard(v, card, false)) {
      throw new ConnectorError('connector-error', connector, { retryable: false, detail: 'the connector response contained card data; discarded' });
    }
  }
  const message = mentionsCard(out.message, card, true) ? null : sanitizeProcessorText(out.message);
  return { token: out.token as Token | null, connectorReference: out.connectorReference, authorizationCode: out.authorizationCode, message };
}

/** Same defence for failures: a connector error whose message echoes the card loses its message. */
function scrubError(err: unknown, card: CardData): unknown {
  if (!isCardlineError(err)) return err;
  if (!mentionsCard(err.message, card, true)) return err;
  const retryable = isConnectorError(err) ? err.retryable : false;
  const code = isConnectorError(err) ? err.code : 'connector-error';
  return new ConnectorError(code, isConnectorError(err) ? err.connector : 'unknown', { retryable, detail: 'processor message withheld: it contained card data' });
}

function stripSummary(err: CardlineError): string {
  const i = err.message.indexOf(': ');
  return i >= 0 ? err.message.slice(i + 2) : err.message;
}

/** Error fields safe to log: code and message only (messages are card-data free by construction). */
function safeErr(err: unknown): { code?: string; message: string } {
  if (isCardlineError(err)) return { code: err.code, message: err.message };
  return { message: sanitizeProcessorText(err instanceof Error ? err.message : String(err)) ?? 'error' };
}
