import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MerchantId, UsageRecord } from '../../src/payments/index.ts';
import { prng } from '../support/audio.ts';
import { call, createUser, enrol, loginToken, startSecureServer, type SecureServer } from '../auth/helpers.ts';

/**
 * Transactions per day and outcome (the auditor's chart): counted independently from generated usage, every day of
 * the range present, edges exclusive, secure-audio minutes not counted, merchant scope, CSV export audited.
 */
export async function seedDailyUsage(s: SecureServer, seed: number, days: readonly string[], merchants: readonly string[] = ['acme', 'globex']): Promise<Map<string, { succeeded: number; failed: number }>> {
  const rand = prng(seed);
  const expected = new Map<string, { succeeded: number; failed: number }>();
  let n = 0;
  for (const day of days) {
    const count = Math.floor(rand() * 6);
    for (let i = 0; i < count; i++) {
      const outcome = rand() < 0.7 ? 'succeeded' : 'failed';
      const merchantId = merchants[Math.floor(rand() * merchants.length)] ?? 'acme';
      const u: UsageRecord = {
        id: `us_${seed}_${n++}`, merchantId: merchantId as MerchantId, sessionId: null, transactionId: null, channel: 'agent-assisted', kind: 'transaction',
        outcome, connector: 'sandbox', quantity: 1, occurredAt: `${day}T${String(Math.floor(rand() * 24)).padStart(2, '0')}:30:00.000Z`,
      };
      await s.store.insertUsage(u);
      const e = expected.get(`${merchantId}/${day}`) ?? { succeeded: 0, failed: 0 };
      e[outcome]++;
      expected.set(`${merchantId}/${day}`, e);
    }
  }
  return expected;
}

describe('billing: transactions per day and outcome', { timeout: 60_000 }, () => {
  let s: SecureServer;
  let auditor: string;
  let agent: string;
  const DAYS = ['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02', '2026-11-03'];
  let expected: Map<string, { succeeded: number; failed: number }>;

  before(async () => {
    s = await startSecureServer();
    expected = await seedDailyUsage(s, 7, DAYS);
    // noise that must not count: secure-audio minutes on a day in range
    await s.store.insertUsage({ id: 'min_1', merchantId: 'acme' as MerchantId, sessionId: null, transactionId: null, channel: 'ivr', kind: 'secure-minute', outcome: 'n/a', connector: null, quantity: 3, occurredAt: '2026-11-01T10:00:00.000Z' });
    const a = await createUser(s, 'audit.ann', 'auditor');
    await enrol(s, a);
    auditor = await loginToken(s, a);
    agent = await loginToken(s, await createUser(s, 'agent.al', 'agent', { mfaRequired: false }));
  });
  after(async () => { await s?.close(); });

  const sum = (day: string, merchants: readonly string[]) => merchants.reduce((t, m) => {
    const e = expected.get(`${m}/${day}`);
    return { succeeded: t.succeeded + (e?.succeeded ?? 0), failed: t.failed + (e?.failed ?? 0) };
  }, { succeeded: 0, failed: 0 });

  test('counts per day match an independent count; range edges hold; zero days present', async () => {
    const r = await call<{ days: { date: string; succeeded: number; failed: number }[]; totals: { succeeded: number; failed: number } }>(s, 'GET', '/v1/billing/daily?from=2026-10-31&to=2026-11-02', { token: auditor });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.days.map((d) => d.date), ['2026-10-31', '2026-11-01', '2026-11-02']);
    for (const d of r.body.days) assert.deepEqual({ succeeded: d.succeeded, failed: d.failed }, sum(d.date, ['acme', 'globex']), d.date);
    assert.equal(r.body.totals.succeeded, r.body.days.reduce((t, d) => t + d.succeeded, 0));
    const empty = await call<{ days: { succeeded: number; failed: number }[] }>(s, 'GET', '/v1/billing/daily?from=2026-12-01&to=2026-12-03', { token: auditor });
    assert.deepEqual(empty.body.days.map((d) => d.succeeded + d.failed), [0, 0, 0]);
    const acme = await call<{ days: { date: string; succeeded: number; failed: number }[] }>(s, 'GET', '/v1/billing/daily?from=2026-11-01&merchantId=acme', { token: auditor });
    assert.deepEqual(acme.body.days.map((d) => ({ succeeded: d.succeeded, failed: d.failed })), [sum('2026-11-01', ['acme'])]);
  });

  test('bad ranges are typed errors; an agent is refused; the CSV export is audited', async () => {
    for (const q of ['from=2026-11-05&to=2026-11-01', 'from=2026-02-30', 'from=2025-01-01&to=2026-12-31', 'from=yesterday']) {
      const r = await call<{ error: { code: string } }>(s, 'GET', `/v1/billing/daily?${q}`, { token: auditor });
      assert.equal(r.status, 400, q);
      assert.ok(['usage', 'invalid-request'].includes(r.body.error.code), q);
    }
    assert.equal((await call(s, 'GET', '/v1/billing/daily?from=2026-11-01', { token: agent })).status, 403);
    const csv = await call<string>(s, 'GET', '/v1/billing/daily.csv?from=2026-11-01&to=2026-11-02', { token: auditor });
    assert.equal(csv.status, 200);
    const lines = csv.body.trim().split(/\r?\n/).map((l) => l.replaceAll('"', ''));
    assert.equal(lines[0], 'date,succeeded,failed');
    const first = sum('2026-11-01', ['acme', 'globex']);
    assert.equal(lines[1], `2026-11-01,${first.succeeded},${first.failed}`);
    const audit = await call<{ events: { detail: Record<string, unknown> }[] }>(s, 'GET', '/v1/audit/events?action=report.export', { token: auditor });
    assert.equal(audit.body.events.at(-1)?.detail.report, 'billing-daily');
  });
});
