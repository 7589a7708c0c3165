import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_TEST_CARDS } from '../../src/connectors/index.ts';
import { openStore, sqlitePathIn } from '../../src/store/index.ts';
import type { SessionId } from '../../src/payments/index.ts';
import { makeService } from './service-helpers.ts';

/**
 * The service against the real embedded store (SQLite file): same contract as the in-memory adapter
 * (one transaction row per idempotency key, updated across attempts). The security code is checked for in
 * every row and event by masked-hygiene.test.ts; here the raw database files are scanned for PANs.
 */
test('service over SQLite: charge, retry with one transaction row, decline, refund; no card data in the files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardline-pay-'));
  const store = await openStore({ kind: 'sqlite', path: sqlitePathIn(dir) });
  const h = makeService({ store });
  const svc = h.service;
  try {
    const run = async (pan: string) => {
      const s = await svc.create({ callId: 'CA-1', merchantId: 'm-1', intent: 'charge', amountMinor: 4200, currency: 'USD' });
      await svc.startCapture(s.id);
      await svc.feedDigits(s.id, `${pan}#1231737`);
      return s.id;
    };
    const ok = await run(SANDBOX_TEST_CARDS.visa);
    assert.equal((await svc.submit(ok)).state, 'succeeded');

    const lost = await run(SANDBOX_TEST_CARDS.lostResponse);
    assert.equal((await svc.submit(lost)).state, 'ready');
    assert.equal((await svc.submit(lost)).state, 'succeeded');
    const lostTx = await store.listTransactions({ sessionId: lost as SessionId });
    assert.equal(lostTx.length, 1);
    assert.equal(lostTx[0]?.status, 'succeeded');
    assert.equal(h.sandbox.processed.charges, 2, 'one charge per session, none doubled');

    const declined = await run(SANDBOX_TEST_CARDS.declined);
    assert.deepEqual([(await svc.submit(declined)).state, (await svc.get(declined)).errorCode], ['failed', 'card-declined']);

    const refund = await svc.refund(ok, { amountMinor: 200 });
    assert.equal(refund.status, 'succeeded');
    assert.equal((await svc.refund(ok, { amountMinor: 200 })).id, refund.id);

    assert.equal((await store.listUsage({})).length, 5, '1 + 2 + 1 connector attempts, 1 refund');
    assert.equal((await svc.list({ state: 'succeeded' })).length, 2);
    await svc.close();
    await store.close();

    const pans = Object.values(SANDBOX_TEST_CARDS);
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f)).toString('latin1');
      for (const pan of pans) assert.ok(!bytes.includes(pan) && !bytes.includes(pan.slice(0, 12)), `${f} holds a PAN`);
    }
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
