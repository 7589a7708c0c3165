/**
 * Binds a call's secure digits to its payment session (issue 6 ↔ issue 4): while secure mode is on and a session
 * is bound, every caller digit — in-band, RFC 4733 or SIP INFO — is fed to `PaymentSessionService.feedDigits`, one
 * at a time and in order (a per-call promise chain), and goes nowhere else. Without a bound session the digit is
 * dropped (counted). Feed failures (session ended, wrong state) are counted and reported by error CODE only: an
 * error message could name the digit, so none is passed on.
 */
import type { DtmfDigit } from '../dsp/index.ts';
import type { Call } from './call-registry.ts';

/** The slice of the payment-session service the binder needs (a port: tests use an in-memory one). */
export interface DigitFeeder {
  feedDigits(sessionId: string, keys: readonly DtmfDigit[]): Promise<unknown>;
}

export interface DigitBinderStats {
  delivered: number;
  /** Secure digits of calls with no bound session. */
  unbound: number;
  failed: number;
}

export class PaymentDigitBinder {
  readonly #feeder: DigitFeeder;
  readonly #onError: ((callId: string, code: string) => void) | undefined;
  readonly #chains = new Map<string, Promise<void>>();
  readonly #stats: DigitBinderStats = { delivered: 0, unbound: 0, failed: 0 };

  constructor(feeder: DigitFeeder, opts: { onError?: (callId: string, code: string) => void } = {}) {
    this.#feeder = feeder;
    this.#onError = opts.onError;
  }

  get stats(): DigitBinderStats {
    return { ...this.#stats };
  }

  /** The B2BUA's `onSecureDigit`. */
  readonly sink = (call: Call, digit: DtmfDigit): void => {
    const sessionId = call.paymentSessionId;
    if (sessionId === null) {
      this.#stats.unbound++;
      return;
    }
    const prev = this.#chains.get(call.id) ?? Promise.resolve();
    const next = prev.then(async () => {
      try {
        await this.#feeder.feedDigits(sessionId, [digit]);
        this.#stats.delivered++;
      } catch (err) {
        this.#stats.failed++;
        const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'error';
        try {
          this.#onError?.(call.id, code);
        } catch {
          // listener errors never break the chain
        }
      }
    });
    this.#chains.set(call.id, next);
    void next.then(() => {
      if (this.#chains.get(call.id) === next) this.#chains.delete(call.id);
    });
  };

  /** Resolves when every queued digit has been fed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }
}
