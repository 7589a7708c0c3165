import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { billingReportCsv, minuteCharge, monthRange, type BillingReport } from '../../src/billing/index.ts';
import { main } from '../../src/cli/main.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import type { MerchantId, UsageRecord } from '../../src/payments/index.ts';
import { prng } from '../support/audio.ts';
import { call, createUser, enrol, loginToken, startSecureServer, SYSTEM_CTX, type SecureServer } from '../auth/helpers.ts';

/** Deterministic PRNG (mulberry32, shared with the other tests) so a failure reproduces. */
const rng = prng;

const CHANNELS = ['agent-assisted', 'ivr', 'pay-by-link'] as const;
const PLANS = {
  '*': { currency: 'GBP', perMinuteMinor: 10, monthlyMinimumMinor: 0, transactionFees: { '*/*': 20 } },
  acme: { currency: 'GBP', perMinuteMinor: 7, monthlyMinimumMinor: 2_000, transactionFees: { 'agent-assisted/succeeded': 30, '*/failed': 5, 'ivr/*': 12, '*/*': 25 } },
  initech: { currency: 'EUR', perMinuteMinor: 3, monthlyMinimumMinor: 50_000, transactionFees: { '*/succeeded': 40 } },
} as const;

/** The test's own fee rule, written independently of src/billing. */
function feeOf(merchant: string, channel: string, outcome: string): number {
  const plans = PLANS as Record<string, { transactionFees: Record<string, number> }>;
  const f = (plans[merchant] ?? plans['*'])?.transactionFees ?? {};
  for (const k of [`${channel}/${outcome}`, `${channel}/*`, `*/${outcome}`, '*/*']) if (k in f) return f[k] ?? 0;
  return 0;
}

describe('billing: a generated month of transactions and secure audio', () => {
  let s: SecureServer;
  const expected: Record<string, { tx: number; txAmount: number; ms: number; lines: Map<string, number> }> = {};

  before(async () => {
    s = await startSecureServer();
    const sec = s.security;
    if (sec === null) throw new Error('security');
    for (const [m, p] of Object.entries(PLANS)) await sec.plans.put(m, p, 'test');
    const rand = rng(20261101);
    const { start, end } = monthRange('2026-11');
    const span = Date.parse(end) - Date.parse(start);
    const merchants = ['acme', 'globex', 'initech'];
    let n = 0;
    const add = async (merchant: string, at: number, counted: boolean) => {
      const channel = CHANNELS[Math.floor(rand() * 3)] ?? 'ivr';
      const outcome = rand() < 0.8 ? 'succeeded' : 'failed';
      const u: UsageRecord = {
        id: `us_${n++}`, merchantId: merchant as MerchantId, sessionId: null, transactionId: null, channel, kind: 'transaction',
        outcome, connector: 'sandbox', quantity: 1, occurredAt: new Date(at).toISOString(),
      };
      await s.store.insertUsage(u);
      if (!counted) return;
      const e = (expected[merchant] ??= { tx: 0, txAmount: 0, ms: 0, lines: new Map() });
      e.tx++;
      e.txAmount += feeOf(merchant, channel, outcome);
      e.lines.set(`${channel}/${outcome}`, (e.lines.get(`${channel}/${outcome}`) ?? 0) + 1);
    };
    for (let i = 0; i < 900; i++) {
      const merchant = rand() < 0.97 ? (merchants[Math.floor(rand() * 2)] ?? 'acme') : 'initech';
      await add(merchant, Date.parse(start) + Math.floor(rand() * span), true);
    }
    // the edges: first millisecond in, the last millisecond of October and the first of December out
    await add('acme', Date.parse(start), true);
    await add('acme', Date.parse(start) - 1, false);
    await add('globex', Date.parse(end), false);
    for (let i = 0; i < 300; i++) {
      const merchant = merchants[Math.floor(rand() * 3)] ?? 'acme';
      const ms = Math.floor(rand() * 180_000);
      const at = new Date(Date.parse(start) + Math.floor(rand() * span)).toISOString();
      await sec.meter.recordSecureAudio(merchant, `call-${i}`, ms, 'agent-assisted', at);
      (expected[merchant] ??= { tx: 0, txAmount: 0, ms: 0, lines: new Map() }).ms += ms;
    }
    await sec.meter.recordSecureAudio('acme', 'late-call', 99_999, 'ivr', end);
  });
  after(async () => { await s.close(); });

  const plan = (m: string) => (PLANS as Record<string, { perMinuteMinor: number; monthlyMinimumMinor: number; currency: string }>)[m] ?? PLANS['*'];

  test('invoice totals match an independent sum (integer minor units, minimum top-up, per-currency totals)', async () => {
    const r = await s.security?.billing.report('2026-11') as BillingReport;
    assert.deepEqual(r.invoices.map((i) => i.merchantId), ['acme', 'globex', 'initech']);
    const totals: Record<string, number> = {};
    for (const inv of r.invoices) {
      const e = expected[inv.merchantId];
      assert.ok(e);
      const p = plan(inv.merchantId);
      const audio = Math.round((e.ms * p.perMinuteMinor) / 60_000);
      const subtotal = e.txAmount + audio;
      const topUp = Math.max(0, p.monthlyMinimumMinor - subtotal);
      assert.equal(inv.transactions, e.tx, inv.merchantId);
      assert.equal(inv.secureAudioMs, e.ms, inv.merchantId);
      assert.equal(inv.subtotalMinor, subtotal, inv.merchantId);
      assert.equal(inv.minimumTopUpMinor, topUp, inv.merchantId);
      assert.equal(inv.totalMinor, subtotal + topUp, inv.merchantId);
      assert.equal(inv.currency, p.currency);
      assert.equal(inv.plan, inv.merchantId === 'globex' ? '*' : inv.merchantId);
      for (const l of inv.lines) {
        assert.ok(Number.isSafeInteger(l.amountMinor) && Number.isSafeInteger(l.unitPriceMinor));
        if (l.kind === 'transaction') assert.equal(l.quantity, e.lines.get(`${l.channel}/${l.outcome}`), `${inv.merchantId} ${l.channel}/${l.outcome}`);
      }
      assert.equal(inv.lines.filter((l) => l.kind === 'transaction').length, e.lines.size);
      totals[inv.currency] = (totals[inv.currency] ?? 0) + subtotal + topUp;
    }
    assert.deepEqual(r.totals, totals);
    const initech = r.invoices.find((i) => i.merchantId === 'initech');
    assert.ok(initech && initech.minimumTopUpMinor > 0, 'a quiet merchant is topped up to its minimum');
    const one = await s.security?.billing.report('2026-11', 'globex');
    assert.deepEqual(one?.invoices.map((i) => i.merchantId), ['globex']);
    assert.deepEqual(one?.invoices[0], r.invoices[1]);
    const empty = await s.security?.billing.report('2026-12', 'initech');
    assert.equal(empty?.invoices[0]?.totalMinor, 50_000, 'a month without usage still owes the minimum');
  });

  test('CSV: one row per line, then subtotal, minimum top-up and total per merchant', async () => {
    const r = await s.security?.billing.report('2026-11') as BillingReport;
    const rows = billingReportCsv(r).trim().split('\r\n').map((l) => l.slice(1, -1).split('","'));
    assert.deepEqual(rows[0], ['merchant', 'month', 'currency', 'row', 'description', 'channel', 'outcome', 'quantity', 'unit', 'unit_price_minor', 'amount_minor']);
    for (const inv of r.invoices) {
      const mine = rows.filter((x) => x[0] === inv.merchantId);
      assert.equal(mine.length, inv.lines.length + 3);
      assert.equal(Number(mine.find((x) => x[3] === 'total')?.[10]), inv.totalMinor);
      const lineSum = mine.filter((x) => x[3] === 'line').reduce((a, x) => a + Number(x[10]), 0);
      assert.equal(lineSum, Number(mine.find((x) => x[3] === 'subtotal')?.[10]));
    }
  });

  test('HTTP: auditors read and export (audited); admins set plans (audited) and read but cannot export; agents are refused', async () => {
    const auditor = await createUser(s, 'bill.auditor', 'auditor');
    await enrol(s, auditor);
    const at = await loginToken(s, auditor);
    const json = await call<BillingReport>(s, 'GET', '/v1/billing/report?month=2026-11', { token: at });
    assert.equal(json.status, 200);
    assert.deepEqual(json.body.invoices.map((i) => i.totalMinor), (await s.security?.billing.report('2026-11'))?.invoices.map((i) => i.totalMinor));
    const csv = await fetch(`${s.url}/v1/billing/report.csv?month=2026-11&merchantId=acme`, { headers: { authorization: `Bearer ${at}` } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(await csv.text(), /"acme","2026-11","GBP","total"/);
    assert.equal((await call(s, 'GET', '/v1/billing/report?month=2026-13', { token: at })).status, 400);
    const admin = await createUser(s, 'bill.admin', 'admin');
    await enrol(s, admin);
    const ad = await loginToken(s, admin);
    assert.equal((await call(s, 'GET', '/v1/billing/report?month=2026-11', { token: ad })).status, 200);
    assert.equal((await call(s, 'GET', '/v1/billing/report.csv?month=2026-11', { token: ad })).status, 403);
    const put = await call<{ merchantId: string; perMinuteMinor: number }>(s, 'PUT', '/v1/billing/plans/umbrella', { token: ad, body: { currency: 'USD', perMinuteMinor: 4, monthlyMinimumMinor: 0, transactionFees: { '*/*': 9 } } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((await call(s, 'PUT', '/v1/billing/plans/umbrella', { token: ad, body: { currency: 'USD', perMinuteMinor: 4, monthlyMinimumMinor: 0, transactionFees: { 'fax/*': 9 } } })).status, 400);
    assert.equal((await call<{ plans: unknown[] }>(s, 'GET', '/v1/billing/plans', { token: ad })).body.plans.length, 4);
    const agent = await createUser(s, 'bill.agent', 'agent', { mfaRequired: false });
    const ag = await loginToken(s, agent);
    assert.equal((await call(s, 'GET', '/v1/billing/report?month=2026-11', { token: ag })).status, 403);
    await new Promise((r) => setTimeout(r, 100));
    const ev = (await s.security?.audit.query({ limit: 100_000 })) ?? [];
    assert.ok(ev.some((e) => e.action === 'report.export' && e.actorId === auditor.user.id && e.detail.report === 'billing' && e.merchantId === 'acme'));
    assert.ok(ev.some((e) => e.action === 'config.price-plan' && e.actorId === admin.user.id && e.targetId === 'umbrella'));
  });

  test('secure-audio metering over HTTP is for media credentials (sessions:digits), merchant-scoped', async () => {
    const sec = s.security;
    assert.ok(sec);
    const media = await sec.apiKeys.create({ name: 'media', permissions: ['sessions:digits'], merchantId: 'acme' }, SYSTEM_CTX);
    assert.equal((await call(s, 'POST', '/v1/billing/secure-audio', { token: media.key, body: { merchantId: 'acme', callId: 'c-9', ms: 61_000 } })).status, 200);
    assert.equal((await call(s, 'POST', '/v1/billing/secure-audio', { token: media.key, body: { merchantId: 'globex', callId: 'c-9', ms: 1 } })).status, 403);
    assert.equal((await call(s, 'POST', '/v1/billing/secure-audio', { token: media.key, body: { merchantId: 'acme', callId: 'c-9', ms: -5 } })).status, 400);
  });
});

test('minute charges: exact integer rounding half-up on the month total', () => {
  assert.equal(minuteCharge(60_000, 7), 7);
  assert.equal(minuteCharge(30_000, 7), 4); // 3.5 → 4
  assert.equal(minuteCharge(29_999, 7), 3);
  assert.equal(minuteCharge(0, 7), 0);
  assert.equal(minuteCharge(1_000_000_000_000, 999_999), Math.round((1_000_000_000_000 * 999_999) / 60_000));
  assert.deepEqual(monthRange('2026-12'), { start: '2026-12-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z' });
  assert.throws(() => monthRange('2026-1'), (e) => isCardlineError(e) && e.code === 'usage');
});

test('recordSecureAudio validates its input', async () => {
  const s = await startSecureServer();
  try {
    const m = s.security?.meter;
    assert.ok(m);
    await m.recordSecureAudio('acme', 'call-1', 1234);
    for (const [merchant, callId, ms] of [['', 'c', 1], ['acme', 'bad id!', 1], ['acme', 'c', -1], ['acme', 'c', Number.NaN], ['acme', 'c', 25 * 3600_000]] as const) {
      await assert.rejects(m.recordSecureAudio(merchant, callId, ms), (e) => isCardlineError(e) && e.code === 'usage', `${merchant}/${callId}/${ms}`);
    }
    await assert.rejects(s.security?.billing.report('2026-11', 'nobody') ?? Promise.resolve(), (e) => isCardlineError(e) && e.code === 'price-plan-missing');
  } finally {
    await s.close();
  }
});

test('cardline billing plan set / billing report (text, --json, --csv audited)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardline-cli-billing-'));
  const io = () => { const o = { out: '', err: '' }; return { o, io: { stdout: (x: string) => { o.out += x; }, stderr: (x: string) => { o.err += x; } } }; };
  try {
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ auth: { scrypt: { ln: 14, r: 8, p: 1 } } }));
    const d = ['-c', cfg, '-d', join(dir, 'data')];
    const a = io();
    assert.equal(await main(['node', 'cardline', 'billing', 'plan', 'set', ...d, '--merchant', '*', '--currency', 'gbp', '--per-minute', '12', '--minimum', '5000', '--fee', '*/*=25', '--fee', 'ivr/failed=5'], a.io), 0, a.o.err);
    const b = io();
    assert.equal(await main(['node', 'cardline', 'billing', 'report', ...d, '--month', '2026-11', '--merchant', 'acme'], b.io), 0, b.o.err);
    assert.match(b.o.out, /Invoice acme — 2026-11 \(plan \*, GBP\)/);
    assert.match(b.o.out, /minimum top-up \(monthly minimum 50\.00 GBP\)\s+50\.00 GBP/);
    assert.match(b.o.out, /TOTAL\s+50\.00 GBP/);
    const c = io();
    assert.equal(await main(['node', 'cardline', 'billing', 'report', ...d, '--month', '2026-11', '--merchant', 'acme', '--json'], c.io), 0);
    assert.equal((JSON.parse(c.o.out) as BillingReport).invoices[0]?.totalMinor, 5000);
    const e = io();
    assert.equal(await main(['node', 'cardline', 'billing', 'report', ...d, '--month', '2026-11', '--merchant', 'acme', '--csv'], e.io), 0);
    assert.match(e.o.out, /"acme","2026-11","GBP","total","total","","","","","","5000"/);
    const f = io();
    assert.equal(await main(['node', 'cardline', 'audit', 'export', ...d, '--action', 'report.export'], f.io), 0);
    assert.match(f.o.out, /"report":"billing"/);
    const g = io();
    assert.equal(await main(['node', 'cardline', 'billing', 'report', ...d, '--month', 'nov'], g.io), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
