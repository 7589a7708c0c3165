import { createHmac, randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../payments/clock.ts';
import type { Token } from '../payments/types.ts';
import {
  ConnectorError, type ChargeRequest, type ConnectorCapabilities, type ConnectorOutcome, type PaymentConnector,
  type RefundOutcome, type RefundRequest, type TokenizeRequest,
} from './types.ts';

/**
 * The built-in sandbox processor: the default connector, so Cardline runs end to end with no account anywhere.
 * It moves no money. Any card that passed Cardline's own validation is approved, except these documented test
 * cards (numbers follow the common processor conventions):
 *
 * | card number          | outcome                                                                          |
 * |----------------------|----------------------------------------------------------------------------------|
 * | 4111111111111111     | approved (Visa)                                                                  |
 * | 5555555555554444     | approved (Mastercard)                                                            |
 * | 378282246310005      | approved (Amex, security code 4 digits)                                          |
 * | 6011111111111117     | approved (Discover)                                                              |
 * | 4000000000000002     | declined: `card-declined`                                                        |
 * | 4000000000009995     | declined: `insufficient-funds`                                                   |
 * | 4000000000000127     | declined: `invalid-security-code`                                                |
 * | 4000000000000069     | declined: `invalid-expiry` (processor says expired)                              |
 * | 4000000000000119     | processor unreachable: `connector-error`, retryable, every attempt               |
 * | 4000000000000259     | lost answer: the first attempt per idempotency key IS processed but answers       |
 * |                      | `connector-error` (retryable); a retry with the same key returns the first result |
 * | 4000000000000077     | slow: answers after `slowDelayMs` (default 60 s); honours the abort signal        |
 *
 * Idempotency: results are remembered per key (approvals and declines, like real processors; unreachable-type
 * errors are not, since nothing was processed). The same key with a different request is `idempotency-conflict`.
 * Tokens and references are HMACs of the idempotency key under the instance seed: deterministic for a fixed
 * `seed`, and never derived from the card number.
 */
export const SANDBOX_TEST_CARDS = {
  visa: '4111111111111111',
  mastercard: '5555555555554444',
  amex: '378282246310005',
  discover: '6011111111111117',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  incorrectSecurityCode: '4000000000000127',
  expired: '4000000000000069',
  networkError: '4000000000000119',
  lostResponse: '4000000000000259',
  slow: '4000000000000077',
} as const;

export interface SandboxOptions {
  /** makes tokens/references reproducible; default random per instance */
  seed?: string;
  /** delay of the slow test card; default 60 000 ms */
  slowDelayMs?: number;
  clock?: Clock;
}

export interface SandboxCharge {
  reference: string;
  idempotencyKey: string;
  amountMinor: number;
  currency: string;
  refundedMinor: number;
  last4: string;
}

type Memo = { fingerprint: string; result: ConnectorOutcome | RefundOutcome | null; error: ConnectorError | null };

const NAME = 'sandbox';

export class SandboxConnector implements PaymentConnector {
  readonly name = NAME;
  readonly capabilities: ConnectorCapabilities = { tokenize: true, charge: true, refund: true };
  readonly #seed: Buffer;
  readonly #slowDelayMs: number;
  readonly #clock: Clock;
  readonly #memo = new Map<string, Memo>();
  readonly #charges = new Map<string, SandboxCharge>();
  /** keys whose first answer the lost-response card already dropped */
  readonly #lost = new Set<string>();
  #processed = { charges: 0, tokenizations: 0, refunds: 0 };

  constructor(opts: SandboxOptions = {}) {
    this.#seed = opts.seed !== undefined ? Buffer.from(opts.seed, 'utf8') : randomBytes(32);
    this.#slowDelayMs = opts.slowDelayMs ?? 60_000;
    this.#clock = opts.clock ?? systemClock;
  }

  /** How many operations were actually processed (a replayed idempotent request is not counted). */
  get processed(): Readonly<{ charges: number; tokenizations: number; refunds: number }> {
    return { ...this.#processed };
  }

  /** The sandbox ledger: one entry per processed charge. */
  get charges(): SandboxCharge[] {
    return [...this.#charges.values()].map((c) => ({ ...c }));
  }

  async tokenize(req: TokenizeRequest): Promise<ConnectorOutcome> {
    return this.#process('tokenize', req, undefined, () => {
      this.#processed.tokenizations++;
      return {
        token: `tok_sandbox_${this.#mac('token', req.idempotencyKey, 24)}` as Token,
        connectorReference: `pm_sandbox_${this.#mac('pm', req.idempotencyKey, 24)}`,
        authorizationCode: null,
        message: 'sandbox: card tokenized',
      };
    });
  }

  async charge(req: ChargeRequest): Promise<ConnectorOutcome> {
    if (!Number.isSafeInteger(req.amountMinor) || req.amountMinor <= 0) throw new ConnectorError('invalid-amount', NAME);
    if (!/^[A-Z]{3}$/.test(req.currency)) throw new ConnectorError('invalid-amount', NAME, { detail: 'currency' });
    return this.#process('charge', req, `${req.amountMinor}|${req.currency}`, () => {
      this.#processed.charges++;
      const reference = `ch_sandbox_${this.#mac('charge', req.idempotencyKey, 24)}`;
      this.#charges.set(reference, {
        reference, idempotencyKey: req.idempotencyKey, amountMinor: req.amountMinor, currency: req.currency, refundedMinor: 0,
        last4: req.card.number.subarray(req.card.number.length - 4).toString('ascii'),
      });
      return {
        token: null,
        connectorReference: reference,
        authorizationCode: this.#mac('auth', req.idempotencyKey, 6).toUpperCase(),
        message: 'sandbox: approved',
      };
    });
  }

  async refund(req: RefundRequest): Promise<RefundOutcome> {
    const fingerprint = `refund|${req.connectorReference}|${req.amountMinor ?? 'full'}`;
    const memo = this.#memo.get(req.idempotencyKey);
    if (memo) return this.#replay(memo, fingerprint) as RefundOutcome;
    const charge = this.#charges.get(req.connectorReference);
    if (!charge) throw new ConnectorError('connector-error', NAME, { retryable: false, detail: 'no such charge' });
    const remaining = charge.amountMinor - charge.refundedMinor;
    const amount = req.amountMinor ?? remaining;
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > remaining) {
      throw new ConnectorError('invalid-amount', NAME, { detail: 'refund exceeds the remaining charge amount' });
    }
    charge.refundedMinor += amount;
    this.#processed.refunds++;
    const result: RefundOutcome = { connectorReference: `re_sandbox_${this.#mac('refund', req.idempotencyKey, 24)}`, amountMinor: amount, message: 'sandbox: refunded' };
    this.#memo.set(req.idempotencyKey, { fingerprint, result, error: null });
    return { ...result };
  }

  async close(): Promise<void> {}

  /** Test-card behaviour, idempotency memory, then `approve`. */
  async #process(op: 'tokenize' | 'charge', req: TokenizeRequest, extra: string | undefined, approve: () => ConnectorOutcome): Promise<ConnectorOutcome> {
    const card = req.card.number;
    // fingerprint binds the key to this exact request; keyed so the memo never holds a plain card hash
    const fingerprint = createHmac('sha256', this.#seed).update(`${op}|${extra ?? ''}|`).update(card).digest('hex');
    const memo = this.#memo.get(req.idempotencyKey);
    if (memo) return this.#replay(memo, fingerprint) as ConnectorOutcome;
    const is = (n: string): boolean => card.length === n.length && card.equals(Buffer.from(n, 'ascii'));

    if (is(SANDBOX_TEST_CARDS.slow)) await this.#sleep(this.#slowDelayMs, req.signal);
    if (is(SANDBOX_TEST_CARDS.networkError)) {
      throw new ConnectorError('connector-error', NAME, { retryable: true, detail: 'sandbox: processor unreachable' });
    }
    const decline = is(SANDBOX_TEST_CARDS.declined) ? ['card-declined', 'generic_decline'] as const
      : is(SANDBOX_TEST_CARDS.insufficientFunds) ? ['insufficient-funds', 'insufficient_funds'] as const
        : is(SANDBOX_TEST_CARDS.incorrectSecurityCode) ? ['invalid-security-code', 'incorrect_cvc'] as const
          : is(SANDBOX_TEST_CARDS.expired) ? ['invalid-expiry', 'expired_card'] as const
            : null;
    if (decline) {
      const error = new ConnectorError(decline[0], NAME, { retryable: false, processorCode: decline[1], detail: `sandbox: ${decline[1].replace('_', ' ')}` });
      this.#memo.set(req.idempotencyKey, { fingerprint, result: null, error });
      throw error;
    }
    const result = approve();
    this.#memo.set(req.idempotencyKey, { fingerprint, result, error: null });
    if (is(SANDBOX_TEST_CARDS.lostResponse) && !this.#lost.has(req.idempotencyKey)) {
      this.#lost.add(req.idempotencyKey);
      throw new ConnectorError('connector-error', NAME, { retryable: true, detail: 'sandbox: connection reset before the answer arrived' });
    }
    return { ...result };
  }

  #replay(memo: Memo, fingerprint: string): ConnectorOutcome | RefundOutcome {
    if (memo.fingerprint !== fingerprint) {
      throw new ConnectorError('idempotency-conflict', NAME, { retryable: false, detail: 'the key was used for a different request' });
    }
    if (memo.error) throw memo.error;
    return { ...(memo.result as ConnectorOutcome | RefundOutcome) };
  }

  #mac(purpose: string, key: string, chars: number): string {
    return createHmac('sha256', this.#seed).update(`${purpose}|${key}`).digest('hex').slice(0, chars);
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new ConnectorError('connector-timeout', NAME, { detail: 'aborted' }));
        return;
      }
      const onAbort = (): void => {
        timer.cancel();
        reject(new ConnectorError('connector-timeout', NAME, { detail: 'aborted' }));
      };
      const timer = this.#clock.setTimer(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
