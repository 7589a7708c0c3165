import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CardlineError } from '../errors/index.ts';
import { CHANNELS } from './price-plan.ts';
import type { BillingDatabase } from './schema.ts';

/**
 * Metering of secure-mode audio: the media layer calls `recordSecureAudio` once per masked span (or per call)
 * with the exact milliseconds during which the caller's keypad audio was masked. Stored as integer ms per
 * record with the call id (evidence for a disputed invoice line); minutes are derived only when billing.
 * Transaction attempts are metered by the payments service itself (`usage_records`).
 */
export type Channel = (typeof CHANNELS)[number];
const ID_TEXT = /^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$/;
/** One span longer than a day is a bug upstream, not a call. */
const MAX_SPAN_MS = 24 * 3600_000;

export class SecureAudioMeter {
  readonly #db: Kysely<BillingDatabase>;
  readonly #now: () => number;

  constructor(db: Kysely<BillingDatabase>, now: () => number = () => Date.now()) {
    this.#db = db;
    this.#now = now;
  }

  async recordSecureAudio(merchantId: string, callId: string, ms: number, channel: Channel = 'agent-assisted', at?: string): Promise<void> {
    if (!ID_TEXT.test(merchantId)) throw new CardlineError('usage', 'merchantId must be 1-128 characters [A-Za-z0-9_.:@+-]');
    if (!ID_TEXT.test(callId)) throw new CardlineError('usage', 'callId must be 1-128 characters [A-Za-z0-9_.:@+-]');
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_SPAN_MS) throw new CardlineError('usage', `secure audio duration must be 0-${MAX_SPAN_MS} ms`);
    if (!(CHANNELS as readonly string[]).includes(channel)) throw new CardlineError('usage', `channel must be one of ${CHANNELS.join(', ')}`);
    const occurredAt = at === undefined ? new Date(this.#now()).toISOString() : new Date(Date.parse(at)).toISOString();
    await this.#db.insertInto('secure_audio_usage').values({
      id: `sa_${randomBytes(10).toString('hex')}`, merchant_id: merchantId, call_id: callId, channel, duration_ms: Math.round(ms), occurred_at: occurredAt,
    }).execute();
  }
}
