import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SqlitePaymentStore, sqlitePathIn } from '../../src/store/index.ts';
import type { MerchantId } from '../../src/payments/types.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import { session, tempDir, transaction } from './helpers/fixtures.ts';

const WRITER = fileURLToPath(new URL('./helpers/concurrent-writer.ts', import.meta.url));

function runWriter(path: string, prefix: string, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, prefix, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer ${prefix} exited ${code}: ${err.slice(0, 2000)}`))));
  });
}

test('many concurrent writes through one store are all persisted', async () => {
  const t = tempDir();
  try {
    const store = await SqlitePaymentStore.open({ path: sqlitePathIn(t.dir) });
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.saveSession(session({ id: `p-${i}`, merchantId: 'mP' as MerchantId }))));
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.insertTransaction(transaction({ id: `t-${i}`, sessionId: `p-${i}`, merchantId: 'mP' as MerchantId }))));
    assert.equal((await store.listSessions({ merchantId: 'mP' as MerchantId, limit: 1000 })).length, 200);
    assert.equal((await store.listTransactions({ merchantId: 'mP' as MerchantId, limit: 1000 })).length, 200);
    await store.close();
  } finally { t.cleanup(); }
});

test('racing inserts of one idempotency key: exactly one wins, the others get idempotency-conflict', async () => {
  const t = tempDir();
  try {
    const path = sqlitePathIn(t.dir);
    const a = await SqlitePaymentStore.open({ path });
    const b = await SqlitePaymentStore.open({ path });
    for (let i = 0; i < 10; i++) await a.saveSession(session({ id: `r-${i}` }));
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) =>
      (i % 2 === 0 ? a : b).insertTransaction(transaction({ id: `rt-${i}`, sessionId: `r-${i}`, idempotencyKey: 'same-key' }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.ok(isCardlineError(r.reason) && r.reason.code === 'idempotency-conflict');
    }
    await a.close();
    await b.close();
  } finally { t.cleanup(); }
});

test('three processes and this one writing the same file at once (WAL + busy timeout): nothing lost, no error', async () => {
  const t = tempDir();
  try {
    const path = sqlitePathIn(t.dir);
    // migrate once first so the children race on data, not on schema creation
    const store = await SqlitePaymentStore.open({ path });
    const perWriter = 60;
    const local = (async () => {
      for (let i = 0; i < perWriter; i++) {
        await store.saveSession(session({ id: `local-${i}` }));
        await new Promise((r) => setImmediate(r));
      }
    })();
    const outs = await Promise.all([runWriter(path, 'w1', perWriter), runWriter(path, 'w2', perWriter), runWriter(path, 'w3', perWriter), local]);
    assert.deepEqual(outs.slice(0, 3), [`ok ${perWriter}\n`, `ok ${perWriter}\n`, `ok ${perWriter}\n`]);
    const all = await store.listSessions({ limit: 1000 });
    assert.equal(all.length, perWriter * 4);
    for (const w of ['w1', 'w2', 'w3']) {
      assert.equal(all.filter((s) => s.id.startsWith(`${w}-`) && s.state === 'succeeded').length, perWriter, `${w} sessions all final`);
    }
    assert.equal((await store.listTransactions({ limit: 1000 })).length, perWriter * 3);
    assert.equal((await store.listUsage({})).length, perWriter * 3);
    await store.close();
  } finally { t.cleanup(); }
});
