import type { Kysely } from 'kysely';
import { CardlineError } from '../errors/index.ts';
import type { BillingDatabase, PricePlansTable } from './schema.ts';

/**
 * Price plans per merchant (the `*` plan applies to merchants without their own). All money is an integer in
 * minor units of the plan's currency (pence, cents); nothing is ever a float.
 *
 * Transaction fees are keyed `<channel>/<outcome>` with `*` wildcards, most specific first:
 * `ivr/succeeded` → `ivr/*` → `*\/succeeded` → `*\/*` → 0.
 */
export const CHANNELS = ['agent-assisted', 'ivr', 'pay-by-link'] as const;
export const OUTCOMES = ['succeeded', 'failed'] as const;
export const DEFAULT_PLAN_ID = '*';

export interface PricePlan {
  merchantId: string;
  currency: string;
  perMinuteMinor: number;
  monthlyMinimumMinor: number;
  transactionFees: Record<string, number>;
  updatedAt: string;
  updatedBy: string | null;
}

export type PricePlanInput = Omit<PricePlan, 'merchantId' | 'updatedAt' | 'updatedBy'>;

const FEE_KEY = new RegExp(`^(\\*|${CHANNELS.join('|')})/(\\*|${OUTCOMES.join('|')})$`);
const MAX_MINOR = 1e12;

function money(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_MINOR) throw new CardlineError('usage', `${what} must be a whole number of minor units, 0-${MAX_MINOR}`);
  return v;
}

export function validatePlan(p: PricePlanInput): PricePlanInput {
  if (typeof p.currency !== 'string' || !/^[A-Z]{3}$/.test(p.currency)) throw new CardlineError('usage', 'currency must be an ISO 4217 code in capitals');
  const fees: Record<string, number> = {};
  const entries = Object.entries(p.transactionFees ?? {});
  if (entries.length > 32) throw new CardlineError('usage', 'at most 32 transaction fee entries');
  for (const [k, v] of entries) {
    if (!FEE_KEY.test(k)) throw new CardlineError('usage', `transaction fee key "${k.slice(0, 40)}" must be <channel|*>/<succeeded|failed|*>`);
    fees[k] = money(v, `transactionFees.${k}`);
  }
  return { currency: p.currency, perMinuteMinor: money(p.perMinuteMinor, 'perMinuteMinor'), monthlyMinimumMinor: money(p.monthlyMinimumMinor, 'monthlyMinimumMinor'), transactionFees: fees };
}

export function transactionFee(plan: Pick<PricePlan, 'transactionFees'>, channel: string, outcome: string): number {
  const f = plan.transactionFees;
  return f[`${channel}/${outcome}`] ?? f[`${channel}/*`] ?? f[`*/${outcome}`] ?? f['*/*'] ?? 0;
}

function rowToPlan(r: PricePlansTable): PricePlan {
  return {
    merchantId: r.merchant_id, currency: r.currency, perMinuteMinor: Number(r.per_minute_minor), monthlyMinimumMinor: Number(r.monthly_minimum_minor),
    transactionFees: JSON.parse(r.transaction_fees_json) as Record<string, number>, updatedAt: r.updated_at, updatedBy: r.updated_by,
  };
}

export class PricePlans {
  readonly #db: Kysely<BillingDatabase>;
  readonly #now: () => number;

  constructor(db: Kysely<BillingDatabase>, now: () => number = () => Date.now()) {
    this.#db = db;
    this.#now = now;
  }

  async put(merchantId: string, input: PricePlanInput, by: string | null): Promise<PricePlan> {
    if (merchantId !== DEFAULT_PLAN_ID && !/^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$/.test(merchantId)) throw new CardlineError('usage', 'merchantId must be * or 1-128 characters [A-Za-z0-9_.:@+-]');
    const p = validatePlan(input);
    const row: PricePlansTable = {
      merchant_id: merchantId, currency: p.currency, per_minute_minor: p.perMinuteMinor, monthly_minimum_minor: p.monthlyMinimumMinor,
      transaction_fees_json: JSON.stringify(p.transactionFees), updated_at: new Date(this.#now()).toISOString(), updated_by: by,
    };
    const { merchant_id: _m, ...changes } = row;
    await this.#db.insertInto('price_plans').values(row).onConflict((oc) => oc.column('merchant_id').doUpdateSet(changes)).execute();
    return rowToPlan(row);
  }

  async get(merchantId: string): Promise<PricePlan | null> {
    const r = await this.#db.selectFrom('price_plans').selectAll().where('merchant_id', '=', merchantId).executeTakeFirst();
    return r === undefined ? null : rowToPlan(r);
  }

  /** The merchant's own plan, else the default plan, else null. */
  async effective(merchantId: string): Promise<PricePlan | null> {
    return (await this.get(merchantId)) ?? (await this.get(DEFAULT_PLAN_ID));
  }

  async list(): Promise<PricePlan[]> {
    return (await this.#db.selectFrom('price_plans').selectAll().orderBy('merchant_id', 'asc').execute()).map(rowToPlan);
  }

  async remove(merchantId: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('price_plans').where('merchant_id', '=', merchantId).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }
}
