import { sql, type Kysely } from 'kysely';
import { csvLine } from '../audit/index.ts';
import { CardlineError } from '../errors/index.ts';
import { DEFAULT_PLAN_ID, PricePlans, transactionFee, type PricePlan } from './price-plan.ts';
import type { BillingDatabase } from './schema.ts';

/**
 * Invoice-style monthly billing summary per merchant (UTC calendar month):
 *
 *   transaction lines   one per (channel, outcome): count × the plan's fee
 *   secure-audio line   total masked-audio minutes × per-minute fee, rounded half-up once on the month's total
 *                       (amount = round(total_ms × fee / 60 000); integer arithmetic, no float drift)
 *   subtotal            sum of lines
 *   minimum top-up      max(0, monthly minimum − subtotal)
 *   total               subtotal + top-up
 *
 * Every amount is an integer in the plan's minor units. Merchants appear when they had usage that month or
 * have a plan of their own (a minimum is owed even by a quiet month).
 */
export interface InvoiceLine {
  kind: 'transaction' | 'secure-audio';
  description: string;
  channel: string | null;
  outcome: string | null;
  /** transactions: a count; secure audio: minutes with 3 decimals (display only; the amount uses exact ms) */
  quantity: number;
  unit: 'transaction' | 'minute';
  unitPriceMinor: number;
  amountMinor: number;
}

export interface Invoice {
  merchantId: string;
  month: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  plan: string;
  lines: InvoiceLine[];
  transactions: number;
  secureAudioMs: number;
  subtotalMinor: number;
  minimumMinor: number;
  minimumTopUpMinor: number;
  totalMinor: number;
}

export interface BillingReport {
  month: string;
  generatedAt: string;
  invoices: Invoice[];
  /** per currency: sum of the invoices' totals */
  totals: Record<string, number>;
}

export interface DailyTransactions {
  from: string;
  to: string;
  days: { date: string; succeeded: number; failed: number }[];
  totals: { succeeded: number; failed: number };
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` → its UTC midnight (ms); a day that does not exist (2026-02-30) is a usage error. */
function dayStart(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const t = m === null ? Number.NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== day) throw new CardlineError('usage', 'days must be real calendar days, YYYY-MM-DD');
  return t;
}

/** One CSV row per day: date, succeeded, failed. */
export function dailyTransactionsCsv(d: DailyTransactions): string {
  let out = csvLine(['date', 'succeeded', 'failed']);
  for (const r of d.days) out += csvLine([r.date, r.succeeded, r.failed]);
  return out;
}

type UsageDb = BillingDatabase & {
  usage_records: { merchant_id: string; channel: string; kind: string; outcome: string; quantity: number; occurred_at: string };
};

/** `2026-11` → [2026-11-01T00:00:00.000Z, 2026-12-01T00:00:00.000Z) */
export function monthRange(month: string): { start: string; end: string } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (m === null) throw new CardlineError('usage', 'month must be YYYY-MM');
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return { start: new Date(Date.UTC(y, mo - 1, 1)).toISOString(), end: new Date(Date.UTC(y, mo, 1)).toISOString() };
}

/** round(ms × feePerMinute / 60000), half away from zero, exact (BigInt). */
export function minuteCharge(ms: number, perMinuteMinor: number): number {
  const num = BigInt(Math.round(ms)) * BigInt(perMinuteMinor);
  const q = (num * 2n + 60_000n) / 120_000n;
  return Number(q);
}

function safeSum(a: number, b: number): number {
  const s = a + b;
  if (!Number.isSafeInteger(s)) throw new CardlineError('internal', 'billing amount overflow');
  return s;
}

export class BillingReporter {
  readonly #db: Kysely<UsageDb>;
  readonly #plans: PricePlans;
  readonly #now: () => number;

  constructor(db: Kysely<UsageDb>, now: () => number = () => Date.now()) {
    this.#db = db;
    this.#plans = new PricePlans(db as unknown as Kysely<BillingDatabase>, now);
    this.#now = now;
  }

  async report(month: string, merchantId?: string): Promise<BillingReport> {
    const { start, end } = monthRange(month);
    let tq = this.#db.selectFrom('usage_records')
      .select(['merchant_id', 'channel', 'outcome', sql<number>`sum(quantity)`.as('n')])
      .where('kind', '=', 'transaction').where('occurred_at', '>=', start).where('occurred_at', '<', end);
    if (merchantId !== undefined) tq = tq.where('merchant_id', '=', merchantId);
    const tx = await tq.groupBy(['merchant_id', 'channel', 'outcome']).execute();
    let aq = this.#db.selectFrom('secure_audio_usage')
      .select(['merchant_id', sql<number>`sum(duration_ms)`.as('ms')])
      .where('occurred_at', '>=', start).where('occurred_at', '<', end);
    if (merchantId !== undefined) aq = aq.where('merchant_id', '=', merchantId);
    const audio = await aq.groupBy('merchant_id').execute();

    const plans = await this.#plans.list();
    const merchants = new Set<string>([...tx.map((r) => r.merchant_id), ...audio.map((r) => r.merchant_id)]);
    for (const p of plans) if (p.merchantId !== DEFAULT_PLAN_ID && (merchantId === undefined || p.merchantId === merchantId)) merchants.add(p.merchantId);
    if (merchantId !== undefined) merchants.add(merchantId);

    const byId = new Map(plans.map((p) => [p.merchantId, p]));
    const invoices: Invoice[] = [];
    for (const m of [...merchants].sort()) {
      const plan = byId.get(m) ?? byId.get(DEFAULT_PLAN_ID);
      if (plan === undefined) throw new CardlineError('price-plan-missing', `merchant ${m} has no plan and there is no default (*) plan`);
      invoices.push(this.#invoice(m, month, start, end, plan, tx.filter((r) => r.merchant_id === m), Number(audio.find((r) => r.merchant_id === m)?.ms ?? 0)));
    }
    const totals: Record<string, number> = {};
    for (const i of invoices) totals[i.currency] = safeSum(totals[i.currency] ?? 0, i.totalMinor);
    return { month, generatedAt: new Date(this.#now()).toISOString(), invoices, totals };
  }

  /**
   * Transactions (tokenize/charge attempts) per UTC day and outcome over an inclusive day range, every day present
   * (zeros included) so a chart needs no gap filling. At most 366 days.
   */
  async daily(from: string, to: string, merchantId?: string): Promise<DailyTransactions> {
    const start = dayStart(from);
    const last = dayStart(to);
    const days = Math.round((last - start) / DAY_MS) + 1;
    if (days < 1 || days > 366) throw new CardlineError('usage', 'the day range must run forwards and cover at most 366 days');
    let q = this.#db.selectFrom('usage_records')
      .select([sql<string>`substr(occurred_at, 1, 10)`.as('day'), 'outcome', sql<number>`sum(quantity)`.as('n')])
      .where('kind', '=', 'transaction')
      .where('occurred_at', '>=', new Date(start).toISOString()).where('occurred_at', '<', new Date(last + DAY_MS).toISOString());
    if (merchantId !== undefined) q = q.where('merchant_id', '=', merchantId);
    const rows = await q.groupBy([sql`substr(occurred_at, 1, 10)`, 'outcome']).execute();
    const out: DailyTransactions = { from, to, days: [], totals: { succeeded: 0, failed: 0 } };
    const byDay = new Map<string, { date: string; succeeded: number; failed: number }>();
    for (let i = 0; i < days; i++) {
      const d = { date: new Date(start + i * DAY_MS).toISOString().slice(0, 10), succeeded: 0, failed: 0 };
      byDay.set(d.date, d);
      out.days.push(d);
    }
    for (const r of rows) {
      const d = byDay.get(r.day);
      const n = Number(r.n);
      if (d === undefined || (r.outcome !== 'succeeded' && r.outcome !== 'failed')) continue;
      if (!Number.isSafeInteger(n)) throw new CardlineError('store-error', 'transaction usage quantities must be whole numbers');
      d[r.outcome] += n;
      out.totals[r.outcome] += n;
    }
    return out;
  }

  #invoice(merchantId: string, month: string, start: string, end: string, plan: PricePlan, tx: { channel: string; outcome: string; n: number }[], audioMs: number): Invoice {
    const lines: InvoiceLine[] = [];
    let transactions = 0;
    const sorted = [...tx].sort((a, b) => a.channel.localeCompare(b.channel) || a.outcome.localeCompare(b.outcome));
    for (const r of sorted) {
      const count = Number(r.n);
      if (!Number.isSafeInteger(count)) throw new CardlineError('store-error', 'transaction usage quantities must be whole numbers');
      const fee = transactionFee(plan, r.channel, r.outcome);
      transactions += count;
      lines.push({ kind: 'transaction', description: `${r.channel} transactions, ${r.outcome}`, channel: r.channel, outcome: r.outcome, quantity: count, unit: 'transaction', unitPriceMinor: fee, amountMinor: count * fee });
    }
    if (audioMs > 0) {
      lines.push({
        kind: 'secure-audio', description: 'secure-mode audio (masked keypad entry)', channel: null, outcome: null,
        quantity: Math.round(audioMs / 60) / 1000, unit: 'minute', unitPriceMinor: plan.perMinuteMinor, amountMinor: minuteCharge(audioMs, plan.perMinuteMinor),
      });
    }
    const subtotal = lines.reduce((s, l) => safeSum(s, l.amountMinor), 0);
    const topUp = Math.max(0, plan.monthlyMinimumMinor - subtotal);
    return {
      merchantId, month, periodStart: start, periodEnd: end, currency: plan.currency, plan: plan.merchantId, lines, transactions, secureAudioMs: audioMs,
      subtotalMinor: subtotal, minimumMinor: plan.monthlyMinimumMinor, minimumTopUpMinor: topUp, totalMinor: safeSum(subtotal, topUp),
    };
  }
}

/** One CSV for the whole report: a row per line, then subtotal / minimum top-up / total rows per invoice. */
export function billingReportCsv(r: BillingReport): string {
  let out = csvLine(['merchant', 'month', 'currency', 'row', 'description', 'channel', 'outcome', 'quantity', 'unit', 'unit_price_minor', 'amount_minor']);
  for (const i of r.invoices) {
    for (const l of i.lines) out += csvLine([i.merchantId, i.month, i.currency, 'line', l.description, l.channel, l.outcome, l.quantity, l.unit, l.unitPriceMinor, l.amountMinor]);
    out += csvLine([i.merchantId, i.month, i.currency, 'subtotal', 'subtotal', null, null, null, null, null, i.subtotalMinor]);
    out += csvLine([i.merchantId, i.month, i.currency, 'minimum-top-up', `monthly minimum ${i.minimumMinor}`, null, null, null, null, null, i.minimumTopUpMinor]);
    out += csvLine([i.merchantId, i.month, i.currency, 'total', 'total', null, null, null, null, null, i.totalMinor]);
  }
  return out;
}
