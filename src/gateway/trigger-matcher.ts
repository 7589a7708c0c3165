/**
 * Matches the agent's key presses against the legacy in-band trigger sequences (issue 6 "Secure mode": e.g. `#388*`
 * turns secure mode on, `#388#` turns it off). Pure: no I/O, no timers — the caller passes the clock in.
 *
 * Every agent key is HELD while the keys typed so far are a prefix of a trigger (so trigger digits never reach the
 * caller), and RELEASED — handed back, in order, to be passed on — as soon as they cannot be the start of a trigger
 * any more. Mismatch recovery is by the longest held suffix that is still a prefix of a trigger (as in KMP string
 * matching): `##388*` releases the first `#` and fires `start`; `#38#388*` releases `#38` and fires `start`.
 * Keys of a completed trigger are consumed (never released).
 *
 * An inter-digit timeout (default 3 s, like the "digit timeout" of a PBX feature code) releases the held keys when
 * the agent stops half-way: a lone `#` pressed to end an IVR entry reaches the caller after at most that delay.
 *
 * State machine (house style 4): `idle` (nothing held) ⇄ `collecting` (a proper prefix of a trigger is held).
 *
 * Digits never appear in an error message; the tag `T` lets the caller remember how each key arrived (in-band,
 * RFC 4733, SIP INFO) so it can pass a released key on the same way.
 */
import { type DtmfDigit, isDtmfDigit } from '../dsp/index.ts';
import { CardlineError } from '../errors/index.ts';
import { type TriggerSequences, validateTriggers } from './policy.ts';

export enum TriggerMatcherState {
  /** No key held: the next key either starts a trigger prefix or is released at once. */
  Idle = 'idle',
  /** The held keys are a proper prefix of a trigger; waiting for the next key or the inter-digit timeout. */
  Collecting = 'collecting',
}

export const TRIGGER_MATCHER_TRANSITIONS: Readonly<Record<TriggerMatcherState, readonly TriggerMatcherState[]>> = {
  [TriggerMatcherState.Idle]: [TriggerMatcherState.Collecting],
  [TriggerMatcherState.Collecting]: [TriggerMatcherState.Idle, TriggerMatcherState.Collecting],
};

/** Default inter-digit timeout, ms. */
export const DEFAULT_TRIGGER_TIMEOUT_MS = 3000;

export interface HeldKey<T> {
  digit: DtmfDigit;
  tag: T;
}

/** What one step produced: keys to pass on (oldest first) and whether a trigger completed. */
export interface TriggerStep<T> {
  released: HeldKey<T>[];
  matched: 'start' | 'end' | null;
}

export interface TriggerMatcherOptions extends TriggerSequences {
  /** Held keys are released when no key follows within this time. Default 3000 ms. */
  interDigitTimeoutMs?: number;
}

export class TriggerMatcher<T = undefined> {
  readonly start: string;
  readonly end: string;
  readonly interDigitTimeoutMs: number;
  #state = TriggerMatcherState.Idle;
  #held: HeldKey<T>[] = [];
  #lastKeyMs = 0;

  constructor(o: TriggerMatcherOptions) {
    const t = validateTriggers(o);
    this.start = t.start;
    this.end = t.end;
    this.interDigitTimeoutMs = o.interDigitTimeoutMs ?? DEFAULT_TRIGGER_TIMEOUT_MS;
    if (!Number.isFinite(this.interDigitTimeoutMs) || this.interDigitTimeoutMs <= 0) {
      throw new CardlineError('invalid-config', 'trigger inter-digit timeout must be a positive number of ms');
    }
  }

  get state(): TriggerMatcherState {
    return this.#state;
  }

  /** How many keys are held (waiting to be matched or released). */
  get heldCount(): number {
    return this.#held.length;
  }

  /** Feeds one agent key at `nowMs`. A timeout that ran out before it is applied first. */
  push(digit: DtmfDigit, tag: T, nowMs: number): TriggerStep<T> {
    if (!isDtmfDigit(digit)) throw new CardlineError('dtmf-invalid-digit');
    const released = this.poll(nowMs).released;
    this.#held.push({ digit, tag });
    this.#lastKeyMs = nowMs;
    const typed = this.#held.map((k) => k.digit).join('');
    // Smallest i such that typed[i..] is still a prefix of a trigger (i = length: nothing is).
    let i = 0;
    while (i < typed.length && !this.#isPrefix(typed.slice(i))) i++;
    released.push(...this.#held.slice(0, i));
    this.#held = this.#held.slice(i);
    const rest = typed.slice(i);
    let matched: TriggerStep<T>['matched'] = null;
    if (rest === this.start) matched = 'start';
    else if (rest === this.end) matched = 'end';
    if (matched !== null) this.#held = []; // trigger keys are consumed
    this.#transition(this.#held.length > 0 ? TriggerMatcherState.Collecting : TriggerMatcherState.Idle);
    return { released, matched };
  }

  /** Releases the held keys if the inter-digit timeout ran out by `nowMs`. */
  poll(nowMs: number): TriggerStep<T> {
    if (this.#state === TriggerMatcherState.Collecting && nowMs - this.#lastKeyMs >= this.interDigitTimeoutMs) {
      return { released: this.flush(), matched: null };
    }
    return { released: [], matched: null };
  }

  /** Releases whatever is held now (call teardown). */
  flush(): HeldKey<T>[] {
    const out = this.#held;
    this.#held = [];
    if (this.#state !== TriggerMatcherState.Idle) this.#transition(TriggerMatcherState.Idle);
    return out;
  }

  #isPrefix(s: string): boolean {
    return this.start.startsWith(s) || this.end.startsWith(s);
  }

  #transition(to: TriggerMatcherState): void {
    if (to === this.#state && to === TriggerMatcherState.Idle) return; // idle stays idle: no move
    if (!TRIGGER_MATCHER_TRANSITIONS[this.#state].includes(to)) {
      throw new CardlineError('internal', `trigger matcher cannot move from ${this.#state} to ${to}`);
    }
    this.#state = to;
  }
}
