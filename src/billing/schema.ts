/** Row shapes of billing (migration `0002-auth-audit-billing`) plus the payments' usage table it reads. */
/** BIGINT columns: numbers in SQLite; the PostgreSQL adapter must parse int8 to number (safe below 2^53). */
type Bigint = number;

export interface PricePlansTable {
  /** a merchant id, or `*` for the default plan */
  merchant_id: string;
  currency: string;
  per_minute_minor: Bigint;
  monthly_minimum_minor: Bigint;
  /** JSON: `{ "<channel>/<outcome>": minor units }`, keys may use `*` (price-plan.ts) */
  transaction_fees_json: string;
  updated_at: string;
  updated_by: string | null;
}

export interface SecureAudioUsageTable {
  id: string;
  merchant_id: string;
  call_id: string;
  channel: string;
  /** exact milliseconds of masked audio; minutes are derived when billing (no float accumulates) */
  duration_ms: Bigint;
  occurred_at: string;
}

export interface BillingDatabase {
  price_plans: PricePlansTable;
  secure_audio_usage: SecureAudioUsageTable;
}
