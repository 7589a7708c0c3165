import type { DtmfDigit } from '../dsp/index.ts';
import { CardlineError, type ErrorCode } from '../errors/index.ts';
import { brandFromPrefix, maxPanLength, securityCodeLength } from './card-brand.ts';
import {
  isBrandAccepted, validateCardNumber, validateExpiry, validatePostalCode, validateSecurityCode, type Check,
} from './card-validation.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { maskedPanDisplay } from './masking.ts';
import type { ResolvedCaptureConfig, ResolvedField } from './session-config.ts';
import type {
  CallId, CardBrand, CardField, Channel, FieldState, MaskedField, MaskedSession, MerchantId, PaymentIntent,
  PaymentResult, SessionEvent, SessionId, SessionState,
} from './types.ts';
import type { CardVault } from './vault.ts';

/**
 * One payment session: the capture state machine of issue 4.
 *
 *   created ──start──▶ capturing(field) ──last field valid──▶ ready ──submit──▶ submitting ──▶ succeeded
 *      │                  ▲   │  ▲                              │  ▲                 │  │
 *      │                  │   │  └─re-capture───────────────────┘  └──retryable error─┘  └──▶ failed
 *      │                  │   └──max attempts (policy "fail")──▶ failed
 *      └──────────────────┴── cancel ──▶ cancelled        (any non-terminal but submitting) ── ttl ──▶ expired
 *
 * The session is synchronous and does no I/O: digits go to the vault, time comes from the `Clock` port, and
 * every change is announced through `onEvent` with a masked snapshot. What leaves this class is built by
 * `snapshot()` from counts, states, brand and last four only; the digits are read (inside the vault's scoped
 * `inspect`) solely to validate them. Digits and their values never reach an error message.
 */

/** Legal session moves. `capturing → capturing` is a move to another field. */
export const SESSION_TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  created: ['capturing', 'cancelled', 'expired'],
  capturing: ['capturing', 'ready', 'failed', 'cancelled', 'expired'],
  ready: ['capturing', 'submitting', 'cancelled', 'expired'],
  // a retryable connector failure goes back to ready (same idempotency key next time); no cancel or expiry
  // while a connector call is in flight, since the money may already have moved
  submitting: ['succeeded', 'failed', 'ready'],
  succeeded: [],
  failed: [],
  cancelled: [],
  expired: [],
};

export const TERMINAL_STATES: readonly SessionState[] = ['succeeded', 'failed', 'cancelled', 'expired'];

export function isTerminal(s: SessionState): boolean {
  return TERMINAL_STATES.includes(s);
}

export function canTransition(from: SessionState, to: SessionState): boolean {
  return SESSION_TRANSITIONS[from].includes(to);
}

/** The one gate for state changes: throws `invalid-state` on an illegal move. */
export function assertTransition(from: SessionState, to: SessionState): void {
  if (!canTransition(from, to)) throw new CardlineError('invalid-state', `cannot go from ${from} to ${to}`);
}

export interface PaymentSessionInit {
  id: SessionId;
  callId: CallId;
  merchantId: MerchantId;
  channel: Channel;
  intent: PaymentIntent;
  createdBy: string | null;
  amountMinor?: number | null;
  currency?: string | null;
  description?: string | null;
  reference?: string | null;
  config: ResolvedCaptureConfig;
  clock: Clock;
  vault: CardVault;
  /** called synchronously for every change; exceptions are swallowed here (the service isolates listeners) */
  onEvent: (event: SessionEvent) => void;
}

export interface SessionDetails {
  /** integer minor units (cents); null clears */
  amountMinor?: number | null;
  /** ISO 4217 alphabetic code */
  currency?: string | null;
  description?: string | null;
  reference?: string | null;
}

interface FieldSlot {
  cfg: ResolvedField;
  state: FieldState;
  digitCount: number;
  attempts: number;
  errorCode: ErrorCode | null;
  /** max attempts reached under "wait-for-agent": digits are refused until the agent re-captures */
  locked: boolean;
  /**
   * the attempt was rejected while the caller was still typing (a brand refused from its first digits): the rest
   * of what they type is discarded until they press the terminator or `*`, or pause, and only then does the next
   * attempt start. Otherwise the leftover digits would each start, and fail, a new attempt.
   */
  discarding: boolean;
}

const ASCII_0 = 0x30;
/** how long after a fixed-length completion a terminator still counts as closing that field */
const TRAILING_TERMINATOR_WINDOW_MS = 2_500;
const MAX_TEXT = { description: 255, reference: 128 } as const;

/** 12+ digits in a row (spaces/dashes allowed between them) look like a PAN: refused in free text. */
const PAN_LIKE = /\d(?:[ -]?\d){11,}/;

let knownCurrencies: Set<string> | undefined;
function isCurrency(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  knownCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return knownCurrencies.has(code);
}

/** Checks the agent-entered details; returns the normalised values. Throws `invalid-amount` / `usage`. */
export function validateDetails(d: SessionDetails): SessionDetails {
  const out: SessionDetails = {};
  if (d.amountMinor !== undefined) {
    if (d.amountMinor !== null && (!Number.isSafeInteger(d.amountMinor) || d.amountMinor <= 0 || d.amountMinor > 1e12)) {
      throw new CardlineError('invalid-amount', 'amount must be a positive integer number of minor units');
    }
    out.amountMinor = d.amountMinor;
  }
  if (d.currency !== undefined) {
    const c = d.currency === null ? null : String(d.currency).toUpperCase();
    if (c !== null && !isCurrency(c)) throw new CardlineError('invalid-amount', 'currency must be an ISO 4217 code');
    out.currency = c;
  }
  for (const k of ['description', 'reference'] as const) {
    const v = d[k];
    if (v === undefined) continue;
    if (v !== null) {
      if (typeof v !== 'string' || v.length > MAX_TEXT[k]) throw new CardlineError('usage', `${k} must be a string of at most ${MAX_TEXT[k]} characters`);
      // PCI DSS 4.0 req. 3.4: a PAN must not slip into free-text columns through an agent's typing
      if (PAN_LIKE.test(v)) throw new CardlineError('usage', `${k} must not contain a card-number-like digit sequence`);
    }
    out[k] = v;
  }
  return out;
}

export class PaymentSession {
  readonly id: SessionId;
  readonly callId: CallId;
  readonly merchantId: MerchantId;
  readonly channel: Channel;
  readonly intent: PaymentIntent;
  readonly createdBy: string | null;
  readonly config: ResolvedCaptureConfig;

  readonly #clock: Clock;
  readonly #vault: CardVault;
  readonly #onEvent: (event: SessionEvent) => void;
  readonly #slots = new Map<CardField, FieldSlot>();
  readonly #createdAt: string;

  #state: SessionState = 'created';
  #current: CardField | null = null;
  #brand: CardBrand | null = null;
  #panLength = 0;
  #last4: string | null = null;
  #amountMinor: number | null = null;
  #currency: string | null = null;
  #description: string | null = null;
  #reference: string | null = null;
  #result: PaymentResult | null = null;
  #errorCode: ErrorCode | null = null;
  #sequence = 0;
  #updatedAt: string;
  #submitAttempts = 0;
  #expireWhenSettled = false;
  /** terminator key to swallow once, after a field completed by reaching its fixed length */
  #trailingTerminator: string | null = null;
  #trailingUntil = 0;
  #interTimer: TimerHandle | null = null;
  #totalTimer: TimerHandle | null = null;
  #ttlTimer: TimerHandle | null = null;

  /** Builds the session, opens its vault entry, arms the TTL and emits `session.created`. */
  static create(init: PaymentSessionInit): PaymentSession {
    const s = new PaymentSession(init);
    s.#emit('session.created');
    return s;
  }

  private constructor(init: PaymentSessionInit) {
    this.id = init.id;
    this.callId = init.callId;
    this.merchantId = init.merchantId;
    this.channel = init.channel;
    this.intent = init.intent;
    this.createdBy = init.createdBy;
    this.config = init.config;
    this.#clock = init.clock;
    this.#vault = init.vault;
    this.#onEvent = init.onEvent;
    const details = validateDetails({
      amountMinor: init.amountMinor ?? null, currency: init.currency ?? null,
      description: init.description ?? null, reference: init.reference ?? null,
    });
    this.#amountMinor = details.amountMinor ?? null;
    this.#currency = details.currency ?? null;
    this.#description = details.description ?? null;
    this.#reference = details.reference ?? null;
    for (const cfg of init.config.fields) {
      this.#slots.set(cfg.field, { cfg, state: 'waiting', digitCount: 0, attempts: 0, errorCode: null, locked: false, discarding: false });
    }
    this.#createdAt = new Date(this.#clock.now()).toISOString();
    this.#updatedAt = this.#createdAt;
    this.#vault.open(this.id);
    this.#ttlTimer = this.#clock.setTimer(init.config.sessionTtlMs, () => this.#onTtl());
  }

  get state(): SessionState {
    return this.#state;
  }

  get currentField(): CardField | null {
    return this.#current;
  }

  get submitAttempts(): number {
    return this.#submitAttempts;
  }

  get terminal(): boolean {
    return isTerminal(this.#state);
  }

  /** The masked view: the only representation of a session that leaves the domain. */
  snapshot(): MaskedSession {
    const fields: MaskedField[] = [];
    for (const slot of this.#slots.values()) {
      const isPan = slot.cfg.field === 'card-number';
      fields.push({
        field: slot.cfg.field,
        state: slot.state,
        digitCount: slot.digitCount,
        attempts: slot.attempts,
        maxAttempts: slot.cfg.maxAttempts,
        display: isPan && slot.state === 'valid' && this.#last4 ? maskedPanDisplay(this.#brand, this.#panLength, this.#last4) : null,
        errorCode: slot.errorCode,
      });
    }
    const panValid = this.#slots.get('card-number')?.state === 'valid';
    return {
      id: this.id,
      callId: this.callId,
      merchantId: this.merchantId,
      channel: this.channel,
      intent: this.intent,
      state: this.#state,
      currentField: this.#current,
      fields,
      brand: this.#brand,
      last4: panValid ? this.#last4 : null,
      amountMinor: this.#amountMinor,
      currency: this.#currency,
      description: this.#description,
      reference: this.#reference,
      result: this.#result ? { ...this.#result } : null,
      errorCode: this.#errorCode,
      createdBy: this.createdBy,
      createdAt: this.#createdAt,
      updatedAt: this.#updatedAt,
    };
  }

  // --- agent / IVR commands ---------------------------------------------------------------------------

  /**
   * Starts capture. Without a field: the first field not yet valid (from `created`, or from `capturing` when
   * auto-advance is off and no field is active); a no-op while a field is already being captured.
   * With a field: the same as `recapture(field)`.
   */
  startCapture(field?: CardField): void {
    if (field !== undefined) {
      this.recapture(field);
      return;
    }
    if (this.#state === 'capturing' && this.#current !== null) return;
    if (this.#state !== 'created' && this.#state !== 'capturing') {
      throw new CardlineError('invalid-state', `nothing to capture in state ${this.#state}; re-capture a field instead`);
    }
    const next = this.#nextPendingField();
    if (next === null) throw new CardlineError('invalid-state', 'every field is already captured');
    this.#transition('capturing');
    this.#startField(next);
  }

  /** Clears a field (valid or not) and captures it again; resets its attempts and any lock. */
  recapture(field: CardField): void {
    const slot = this.#slots.get(field);
    if (!slot) throw new CardlineError('invalid-field', `${field} is not captured in this session`);
    if (this.#state !== 'created' && this.#state !== 'capturing' && this.#state !== 'ready') {
      throw new CardlineError('invalid-state', `cannot capture in state ${this.#state}`);
    }
    this.#transition('capturing');
    this.#trailingTerminator = null;
    slot.attempts = 0;
    slot.errorCode = null;
    slot.locked = false;
    this.#errorCode = null;
    this.#startField(field);
  }

  /** Amount, currency, description, reference: set by the agent or IVR any time before submit. */
  setDetails(d: SessionDetails): void {
    if (this.#state !== 'created' && this.#state !== 'capturing' && this.#state !== 'ready') {
      throw new CardlineError('invalid-state', `details cannot change in state ${this.#state}`);
    }
    const v = validateDetails(d);
    if (v.amountMinor !== undefined) this.#amountMinor = v.amountMinor;
    if (v.currency !== undefined) this.#currency = v.currency;
    if (v.description !== undefined) this.#description = v.description;
    if (v.reference !== undefined) this.#reference = v.reference;
    this.#emit('session.updated');
  }

  /**
   * One keypad key. Digits go to the vault; `*` clears the field; the field's terminator ends it; other keys
   * are ignored. Throws `invalid-state` when no field is being captured (the session is left as it was).
   */
  feedDigit(key: DtmfDigit): void {
    // "enter your card number followed by #": when the number already completed at its fixed length, the '#'
    // that follows belongs to it, not to the next field (where it would count as an empty, failed attempt)
    // — if it comes at once; after a pause (the next prompt has played) it is the caller's answer to the new field
    const trailing = this.#trailingTerminator;
    this.#trailingTerminator = null;
    if (trailing !== null && key === trailing && this.#clock.now() <= this.#trailingUntil) {
      const active = this.#current === null ? undefined : this.#slots.get(this.#current);
      if (this.#state === 'ready' || (this.#state === 'capturing' && (active === undefined || active.digitCount === 0))) return;
    }
    if (this.#state !== 'capturing' || this.#current === null) {
      throw new CardlineError('invalid-state', `no field is being captured (state ${this.#state})`);
    }
    const slot = this.#slot(this.#current);
    if (slot.locked) throw new CardlineError('invalid-state', `${slot.cfg.field} reached its attempt limit; the agent must re-capture it`);
    const field = slot.cfg.field;
    if (slot.discarding) {
      if (key === '*' || key === slot.cfg.terminator) {
        slot.discarding = false;
        this.#cancelInterTimer();
      } else if (key >= '0' && key <= '9') {
        this.#armDiscardTimer(slot);
      }
      return;
    }
    if (key === '*') {
      this.#vault.clear(this.id, field);
      slot.digitCount = 0;
      slot.state = 'waiting';
      if (field === 'card-number') this.#resetBrand();
      this.#cancelInterTimer();
      this.#emit('field.progress');
      return;
    }
    if (key === slot.cfg.terminator) {
      this.#endAttempt(slot);
      return;
    }
    const code = key.charCodeAt(0);
    if (key.length !== 1 || code < ASCII_0 || code > ASCII_0 + 9) return; // A-D that are not the terminator
    slot.digitCount = this.#vault.append(this.id, field, code);
    slot.state = 'entering';
    if (field === 'card-number' && slot.digitCount <= 6) {
      const prefix = this.#vault.inspect(this.id, field, (d) => brandFromPrefix(d));
      this.#brand = prefix.match ? prefix.match.brand : null;
      // reject a brand the merchant does not take as soon as the first digits decide it, instead of after 16
      if (prefix.match && !isBrandAccepted(prefix.match, this.config.acceptedBrands)) {
        this.#attemptFailed(slot, 'invalid-card-type');
        if (this.#state === 'capturing' && !slot.locked && this.#current === field) {
          slot.discarding = true;
          this.#armDiscardTimer(slot);
        }
        return;
      }
    }
    if (slot.digitCount >= this.#fixedLength(slot)) {
      this.#endAttempt(slot);
      this.#trailingTerminator = slot.cfg.terminator;
      this.#trailingUntil = this.#clock.now() + Math.min(TRAILING_TERMINATOR_WINDOW_MS, slot.cfg.interDigitTimeoutMs);
      return;
    }
    this.#armInterTimer(slot);
    this.#emit('field.progress');
  }

  /** ready → submitting. Throws `invalid-state` unless ready, `amount-required` for a charge without amount. */
  beginSubmit(): { attempt: number } {
    if (this.#state !== 'ready') throw new CardlineError('invalid-state', `cannot submit in state ${this.#state}`);
    if (this.intent === 'charge' && (this.#amountMinor === null || this.#currency === null)) {
      throw new CardlineError('amount-required');
    }
    this.#transition('submitting');
    this.#submitAttempts++;
    this.#errorCode = null;
    this.#emit('session.submitting');
    return { attempt: this.#submitAttempts };
  }

  /** submitting → succeeded; the card data is wiped. */
  completeSubmit(result: PaymentResult): void {
    this.#transition('succeeded');
    this.#result = { ...result, status: 'succeeded' };
    this.#errorCode = null;
    this.#finish('session.succeeded');
  }

  /**
   * submitting → failed, or back to ready when the failure is retryable (connector unreachable, timed out,
   * crashed) and attempts remain: the card stays in the vault and the next submit reuses the idempotency key.
   */
  failSubmit(result: PaymentResult, retryable: boolean): 'ready' | 'failed' | 'expired' {
    const code = (result.errorCode ?? 'connector-error') as ErrorCode;
    if (retryable && this.#submitAttempts < this.config.maxSubmitAttempts) {
      this.#transition('ready');
      this.#errorCode = code;
      this.#emit('session.ready');
      if (this.#expireWhenSettled) {
        this.expire();
        return 'expired';
      }
      return 'ready';
    }
    this.#transition('failed');
    this.#result = { ...result, status: 'failed' };
    this.#errorCode = code;
    this.#finish('session.failed');
    return 'failed';
  }

  cancel(): void {
    if (this.#state === 'submitting') throw new CardlineError('invalid-state', 'a connector call is in flight; wait for its result');
    this.#transition('cancelled');
    this.#finish('session.cancelled');
  }

  /** Ends the session as expired (TTL, shutdown). While submitting, expiry waits for the connector's answer. */
  expire(): void {
    if (this.terminal) return;
    if (this.#state === 'submitting') {
      this.#expireWhenSettled = true;
      return;
    }
    this.#transition('expired');
    this.#errorCode = 'session-expired';
    this.#finish('session.expired');
  }

  /** Stops timers and wipes the card data without an event (used when the owner shuts down). */
  dispose(): void {
    this.#cancelFieldTimers();
    this.#ttlTimer?.cancel();
    this.#ttlTimer = null;
    this.#vault.wipe(this.id);
  }

  // --- internals -------------------------------------------------------------------------------------

  #transition(to: SessionState): void {
    assertTransition(this.#state, to);
    this.#state = to;
  }

  #slot(field: CardField): FieldSlot {
    const s = this.#slots.get(field);
    if (!s) throw new CardlineError('invalid-field', `${field} is not captured in this session`);
    return s;
  }

  #nextPendingField(): CardField | null {
    for (const slot of this.#slots.values()) if (slot.state !== 'valid' && slot.state !== 'skipped') return slot.cfg.field;
    return null;
  }

  #startField(field: CardField): void {
    const slot = this.#slot(field);
    this.#cancelFieldTimers();
    this.#vault.clear(this.id, field);
    slot.digitCount = 0;
    slot.state = 'waiting';
    slot.discarding = false;
    if (field === 'card-number') this.#resetBrand();
    this.#current = field;
    this.#armTotalTimer(slot);
    this.#emit('field.started');
  }

  #resetBrand(): void {
    this.#brand = null;
    this.#panLength = 0;
    this.#last4 = null;
  }

  /** Length at which a field completes without its terminator. */
  #fixedLength(slot: FieldSlot): number {
    switch (slot.cfg.field) {
      case 'card-number': return maxPanLength(this.#brand);
      case 'expiry': return 4;
      case 'security-code': return securityCodeLength(this.#brand) ?? 4;
      case 'postal-code': return slot.cfg.postal.maxLength;
    }
  }

  /** The caller ended the field (terminator, fixed length, or inter-digit pause): validate what is there. */
  #endAttempt(slot: FieldSlot): void {
    const field = slot.cfg.field;
    if (slot.digitCount === 0) {
      if (field === 'postal-code' && !slot.cfg.required) {
        this.#cancelFieldTimers();
        slot.state = 'skipped';
        slot.errorCode = null;
        this.#emit('field.completed');
        this.#advance();
        return;
      }
      this.#attemptFailed(slot, emptyFieldCode(field));
      return;
    }
    const check = this.#vault.inspect(this.id, field, (d): Check<unknown> => {
      switch (field) {
        case 'card-number': {
          const r = validateCardNumber(d, this.config.acceptedBrands);
          if (r.ok) {
            this.#brand = r.value.brand;
            this.#panLength = r.value.length;
            this.#last4 = r.value.last4;
          }
          return r;
        }
        case 'expiry': return validateExpiry(d, this.#clock.now(), this.config.expiry);
        case 'security-code': return validateSecurityCode(d, this.#brand);
        case 'postal-code': return validatePostalCode(d, slot.cfg.postal);
      }
    });
    if (!check.ok) {
      this.#attemptFailed(slot, check.code);
      return;
    }
    this.#cancelFieldTimers();
    slot.state = 'valid';
    slot.errorCode = null;
    if (field === 'card-number') this.#reconcileSecurityCode();
    this.#emit('field.completed');
    this.#advance();
  }

  /** A new card number can change the expected security-code length (Amex 4 vs 3): drop a code that no longer fits. */
  #reconcileSecurityCode(): void {
    const sc = this.#slots.get('security-code');
    const expected = securityCodeLength(this.#brand);
    if (!sc || expected === null || sc.digitCount === 0 || sc.digitCount === expected) return;
    this.#vault.clear(this.id, 'security-code');
    sc.digitCount = 0;
    sc.state = 'waiting';
    sc.errorCode = null;
  }

  #advance(): void {
    const next = this.#nextPendingField();
    if (next === null) {
      this.#current = null;
      this.#transition('ready');
      this.#emit('session.ready');
      return;
    }
    if (this.config.autoAdvance) {
      this.#transition('capturing');
      this.#startField(next);
    } else {
      this.#current = null;
      this.#emit('session.updated');
    }
  }

  /** A bad value or a timeout: count it, clear the digits, re-prompt or give up per policy. */
  #attemptFailed(slot: FieldSlot, code: ErrorCode): void {
    const field = slot.cfg.field;
    this.#cancelFieldTimers();
    this.#vault.clear(this.id, field);
    slot.digitCount = 0;
    slot.attempts++;
    slot.state = 'invalid';
    slot.errorCode = code;
    if (field === 'card-number') this.#resetBrand();
    this.#emit('field.invalid');
    if (slot.attempts < slot.cfg.maxAttempts) {
      this.#armTotalTimer(slot);
      return;
    }
    if (this.config.onMaxAttempts === 'fail') {
      this.#transition('failed');
      this.#errorCode = 'max-attempts';
      this.#finish('session.failed');
    } else {
      slot.locked = true;
      this.#errorCode = 'max-attempts';
      this.#emit('session.updated');
    }
  }

  #armTotalTimer(slot: FieldSlot): void {
    this.#totalTimer?.cancel();
    this.#totalTimer = this.#clock.setTimer(slot.cfg.totalTimeoutMs, () => {
      this.#totalTimer = null;
      if (this.#state === 'capturing' && this.#current === slot.cfg.field && !slot.locked) this.#attemptFailed(slot, 'timeout');
    });
  }

  #armInterTimer(slot: FieldSlot): void {
    this.#cancelInterTimer();
    this.#interTimer = this.#clock.setTimer(slot.cfg.interDigitTimeoutMs, () => {
      this.#interTimer = null;
      // a pause after some digits ends the field the way the terminator would (the caller may not know about '#')
      if (this.#state === 'capturing' && this.#current === slot.cfg.field && slot.digitCount > 0) this.#endAttempt(slot);
    });
  }

  /** While discarding, a pause (the inter-digit timeout) also ends the discarded entry. */
  #armDiscardTimer(slot: FieldSlot): void {
    this.#cancelInterTimer();
    this.#interTimer = this.#clock.setTimer(slot.cfg.interDigitTimeoutMs, () => {
      this.#interTimer = null;
      slot.discarding = false;
    });
  }

  #cancelInterTimer(): void {
    this.#interTimer?.cancel();
    this.#interTimer = null;
  }

  #cancelFieldTimers(): void {
    this.#cancelInterTimer();
    this.#totalTimer?.cancel();
    this.#totalTimer = null;
  }

  #onTtl(): void {
    this.#ttlTimer = null;
    this.expire();
  }

  /** Terminal: stop every timer, wipe the card data, announce. */
  #finish(type: SessionEvent['type']): void {
    this.#current = null;
    this.#cancelFieldTimers();
    this.#ttlTimer?.cancel();
    this.#ttlTimer = null;
    this.#vault.wipe(this.id);
    this.#emit(type);
  }

  #emit(type: SessionEvent['type']): void {
    this.#updatedAt = new Date(this.#clock.now()).toISOString();
    const event: SessionEvent = { type, sessionId: this.id, sequence: ++this.#sequence, at: this.#updatedAt, session: this.snapshot() };
    try {
      this.#onEvent(event);
    } catch {
      // the owner isolates and logs listener failures; a throwing sink must not corrupt the state machine
    }
  }
}

function emptyFieldCode(field: CardField): ErrorCode {
  switch (field) {
    case 'card-number': return 'invalid-card-number';
    case 'expiry': return 'invalid-expiry';
    case 'security-code': return 'invalid-security-code';
    case 'postal-code': return 'invalid-postal-code';
  }
}
