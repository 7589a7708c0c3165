import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SqlitePaymentStore, openStore, sqlitePathIn, MIGRATIONS, MAX_LIST_LIMIT } from '../../src/store/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import type { CallId, MerchantId, SessionId } from '../../src/payments/types.ts';
import { session, succeededSession, tempDir, transaction, usage } from './helpers/fixtures.ts';

function rejectsWithCode(code: string) {
  return (err: unknown) => {
    assert.ok(isCardlineError(err), `expected a CardlineError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

describe('migrations', () => {
  test('from an empty directory: creates the file, applies every migration, sets WAL/foreign keys/busy timeout', async () => {
    const t = tempDir();
    try {
      const path = sqlitePathIn(join(t.dir, 'nested', 'data'));
      assert.equal(existsSync(path), false);
      const store = await SqlitePaymentStore.open({ path, busyTimeoutMs: 1234 });
      assert.equal(existsSync(path), true);
      assert.deepEqual(store.migrations.applied, Object.keys(MIGRATIONS));
      assert.deepEqual(store.migrations.current, Object.keys(MIGRATIONS));
      assert.equal(await store.pragma('journal_mode'), 'wal');
      assert.equal(await store.pragma('foreign_keys'), 1);
      assert.equal(await store.pragma('busy_timeout'), 1234);
      await store.close();
      const raw = new BetterSqlite3(path, { readonly: true });
      const tables = raw.prepare("select name from sqlite_master where type = 'table' order by name").all() as { name: string }[];
      raw.close();
      assert.deepEqual(tables.map((r) => r.name).filter((n) => !n.startsWith('sqlite_')),
        ['api_keys', 'audit_checkpoints', 'audit_events', 'auth_sessions', 'auth_throttle', 'cardline_migration', 'cardline_migration_lock',
          'embed_tokens', 'payment_sessions', 'price_plans', 'recovery_codes', 'secure_audio_usage', 'settings', 'transactions', 'usage_records', 'users']);
    } finally { t.cleanup(); }
  });

  test('re-opening is idempotent and keeps data', async () => {
    const t = tempDir();
    try {
      const path = sqlitePathIn(t.dir);
      const a = await SqlitePaymentStore.open({ path });
      await a.saveSession(session({ id: 's-1' }));
      await a.close();
      await a.close(); // idempotent close
      const b = await SqlitePaymentStore.open({ path });
      assert.deepEqual(b.migrations.applied, []);
      assert.deepEqual(b.migrations.current, Object.keys(MIGRATIONS));
      assert.equal((await b.getSession('s-1' as SessionId))?.id, 's-1');
      await b.close();
    } finally { t.cleanup(); }
  });

  test('an unopenable path is a store-error', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'file'), 'x');
      await assert.rejects(openStore({ kind: 'sqlite', path: join(t.dir, 'file', 'cardline.db') }), rejectsWithCode('store-error'));
    } finally { t.cleanup(); }
  });

  test('a closed store refuses work with store-error', async () => {
    const t = tempDir();
    try {
      const store = await openStore({ kind: 'sqlite', path: sqlitePathIn(t.dir) });
      await store.close();
      await assert.rejects(store.getSession('x' as SessionId), rejectsWithCode('store-error'));
    } finally { t.cleanup(); }
  });
});

describe('sessions', () => {
  const t = tempDir();
  let store: SqlitePaymentStore;
  before(async () => { store = await SqlitePaymentStore.open({ path: sqlitePathIn(t.dir) }); });
  after(async () => { await store.close(); t.cleanup(); });

  test('save then get returns the masked outcome; digit counts are not persisted', async () => {
    const s = succeededSession('s-ok');
    await store.saveSession(s);
    const got = await store.getSession('s-ok' as SessionId);
    assert.ok(got);
    assert.deepEqual(got, {
      ...s,
      fields: s.fields.map((f) => ({ ...f, digitCount: 0 })),
    });
    assert.equal(got.fields[0]?.display, '•••• •••• •••• 1111', 'display rebuilt from last4 only');
    assert.equal(await store.getSession('nope' as SessionId), null);
  });

  test('saving again updates the snapshot but never created_at', async () => {
    const s = session({ id: 's-up', state: 'capturing', currentField: 'card-number' });
    await store.saveSession(s);
    await store.saveSession({ ...s, state: 'cancelled', currentField: null, errorCode: 'timeout', createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2026-01-01T10:09:00.000Z' });
    const got = await store.getSession('s-up' as SessionId);
    assert.equal(got?.state, 'cancelled');
    assert.equal(got?.currentField, null);
    assert.equal(got?.errorCode, 'timeout');
    assert.equal(got?.createdAt, s.createdAt);
    assert.equal(got?.updatedAt, '2026-01-01T10:09:00.000Z');
  });

  test('a last4 that is not exactly four digits is refused, and the error does not echo it', async () => {
    const pan = '4111111111111111';
    await assert.rejects(store.saveSession(succeededSession('s-bad', { last4: pan })), (err: unknown) => {
      assert.ok(isCardlineError(err));
      assert.equal(err.code, 'store-error');
      assert.ok(!err.message.includes(pan) && !err.message.includes('1111'));
      return true;
    });
    assert.equal(await store.getSession('s-bad' as SessionId), null);
  });

  test('list filters: merchant, call, state, creator, time range, limit, newest first', async (tc) => {
    const own = tempDir();
    const store = await SqlitePaymentStore.open({ path: sqlitePathIn(own.dir) });
    tc.after(async () => { await store.close(); own.cleanup(); });
    const mk = (i: number, o: Parameters<typeof session>[0]) => store.saveSession(session({
      ...o, createdAt: `2026-02-0${i}T00:00:00.000Z`, updatedAt: `2026-02-0${i}T00:00:00.000Z`,
    }));
    await mk(1, { id: 'f-1', merchantId: 'mA' as MerchantId, callId: 'cA' as CallId, state: 'created', createdBy: 'u1' });
    await mk(2, { id: 'f-2', merchantId: 'mA' as MerchantId, callId: 'cB' as CallId, state: 'succeeded', createdBy: 'u2' });
    await mk(3, { id: 'f-3', merchantId: 'mB' as MerchantId, callId: 'cA' as CallId, state: 'succeeded', createdBy: 'u1' });
    await mk(4, { id: 'f-4', merchantId: 'mA' as MerchantId, callId: 'cA' as CallId, state: 'failed', createdBy: null });
    const ids = async (f: Parameters<SqlitePaymentStore['listSessions']>[0]) => (await store.listSessions(f)).map((s) => s.id);
    assert.deepEqual(await ids({ merchantId: 'mA' as MerchantId }), ['f-4', 'f-2', 'f-1']);
    assert.deepEqual(await ids({ callId: 'cA' as CallId }), ['f-4', 'f-3', 'f-1']);
    assert.deepEqual(await ids({ state: 'succeeded' }), ['f-3', 'f-2']);
    assert.deepEqual(await ids({ createdBy: 'u1' }), ['f-3', 'f-1']);
    assert.deepEqual(await ids({ merchantId: 'mA' as MerchantId, state: 'succeeded' }), ['f-2']);
    assert.deepEqual(await ids({ from: '2026-02-02T00:00:00Z', to: '2026-02-04T00:00:00.000Z' }), ['f-3', 'f-2'], 'from inclusive, to exclusive');
    assert.deepEqual(await ids({ from: '2026-02-02T01:00:00+01:00' }), ['f-4', 'f-3', 'f-2'], 'bounds are normalised to UTC');
    assert.deepEqual(await ids({ merchantId: 'mA' as MerchantId, limit: 2 }), ['f-4', 'f-2']);
    await assert.rejects(store.listSessions({ limit: 0 }), rejectsWithCode('usage'));
    await assert.rejects(store.listSessions({ from: 'yesterday' }), rejectsWithCode('usage'));
  });

  test('list limit is capped', async () => {
    for (let i = 0; i < 5; i++) await store.saveSession(session({ id: `cap-${i}`, merchantId: 'mCap' as MerchantId }));
    assert.equal((await store.listSessions({ merchantId: 'mCap' as MerchantId, limit: MAX_LIST_LIMIT * 10 })).length, 5);
  });
});

describe('transactions and usage', () => {
  const t = tempDir();
  let store: SqlitePaymentStore;
  before(async () => {
    store = await SqlitePaymentStore.open({ path: sqlitePathIn(t.dir) });
    await store.saveSession(succeededSession('s-a'));
    await store.saveSession(succeededSession('s-b'));
  });
  after(async () => { await store.close(); t.cleanup(); });

  test('insert, find by idempotency key, update, list', async () => {
    const tx = transaction({ id: 'tx-1', sessionId: 's-a', idempotencyKey: 'k-1' });
    await store.insertTransaction(tx);
    assert.deepEqual(await store.findTransactionByIdempotencyKey('m-1' as MerchantId, 'k-1'), tx);
    assert.equal(await store.findTransactionByIdempotencyKey('m-2' as MerchantId, 'k-1'), null);
    const done = { ...tx, status: 'succeeded' as const, token: null, connectorReference: 'sbx_ch_9', authorizationCode: 'OK1', updatedAt: '2026-01-01T10:04:02.000Z' };
    await store.updateTransaction(done);
    assert.deepEqual(await store.findTransactionByIdempotencyKey('m-1' as MerchantId, 'k-1'), done);
    assert.deepEqual((await store.listTransactions({ sessionId: 's-a' as SessionId })).map((x) => x.id), ['tx-1']);
    assert.deepEqual(await store.listTransactions({ sessionId: 's-b' as SessionId }), []);
  });

  test('the same idempotency key for another session is an idempotency-conflict', async () => {
    await store.insertTransaction(transaction({ id: 'tx-2', sessionId: 's-a', idempotencyKey: 'k-2' }));
    await assert.rejects(store.insertTransaction(transaction({ id: 'tx-3', sessionId: 's-b', idempotencyKey: 'k-2' })), rejectsWithCode('idempotency-conflict'));
    // and for another attempt of the same session too: one key, one attempt
    await assert.rejects(store.insertTransaction(transaction({ id: 'tx-4', sessionId: 's-a', idempotencyKey: 'k-2' })), rejectsWithCode('idempotency-conflict'));
    // the key is scoped per merchant
    await store.insertTransaction(transaction({ id: 'tx-5', sessionId: 's-b', idempotencyKey: 'k-2', merchantId: 'm-other' as MerchantId }));
    assert.equal((await store.listTransactions({ merchantId: 'm-other' as MerchantId })).length, 1);
    // nothing was overwritten
    assert.equal((await store.findTransactionByIdempotencyKey('m-1' as MerchantId, 'k-2'))?.id, 'tx-2');
  });

  test('a duplicate transaction id, an unknown session, an unknown update are store-errors', async () => {
    await assert.rejects(store.insertTransaction(transaction({ id: 'tx-1', sessionId: 's-a', idempotencyKey: 'k-new' })), rejectsWithCode('store-error'));
    await assert.rejects(store.insertTransaction(transaction({ id: 'tx-orphan', sessionId: 'nope' })), rejectsWithCode('store-error'));
    await assert.rejects(store.updateTransaction(transaction({ id: 'tx-missing', sessionId: 's-a' })), rejectsWithCode('store-error'));
  });

  test('transaction list by merchant and time range', async () => {
    await store.insertTransaction(transaction({ id: 'tr-1', sessionId: 's-b', merchantId: 'mT' as MerchantId, createdAt: '2026-03-01T00:00:00.000Z' }));
    await store.insertTransaction(transaction({ id: 'tr-2', sessionId: 's-b', merchantId: 'mT' as MerchantId, createdAt: '2026-03-02T00:00:00.000Z' }));
    await store.insertTransaction(transaction({ id: 'tr-3', sessionId: 's-b', merchantId: 'mT' as MerchantId, createdAt: '2026-03-03T00:00:00.000Z' }));
    const ids = async (f: Parameters<SqlitePaymentStore['listTransactions']>[0]) => (await store.listTransactions(f)).map((x) => x.id);
    assert.deepEqual(await ids({ merchantId: 'mT' as MerchantId }), ['tr-1', 'tr-2', 'tr-3']);
    assert.deepEqual(await ids({ merchantId: 'mT' as MerchantId, from: '2026-03-02T00:00:00.000Z' }), ['tr-2', 'tr-3']);
    assert.deepEqual(await ids({ merchantId: 'mT' as MerchantId, to: '2026-03-02T00:00:00.000Z' }), ['tr-1']);
    assert.deepEqual(await ids({ merchantId: 'mT' as MerchantId, limit: 1 }), ['tr-1']);
  });

  test('usage records: insert and list per merchant and month, fractional minutes, money-free', async () => {
    await store.insertTransaction(transaction({ id: 'tx-u', sessionId: 's-a', idempotencyKey: 'k-u' }));
    await store.insertUsage(usage({ id: 'u-1', merchantId: 'mU' as MerchantId, sessionId: 's-a' as SessionId, transactionId: 'tx-u', occurredAt: '2026-11-01T00:00:00.000Z' }));
    await store.insertUsage(usage({ id: 'u-2', merchantId: 'mU' as MerchantId, kind: 'secure-minute', outcome: 'n/a', connector: null, quantity: 2.5, occurredAt: '2026-11-15T12:00:00.000Z' }));
    await store.insertUsage(usage({ id: 'u-3', merchantId: 'mU' as MerchantId, outcome: 'failed', channel: 'ivr', occurredAt: '2026-12-01T00:00:00.000Z' }));
    await store.insertUsage(usage({ id: 'u-4', merchantId: 'mOther' as MerchantId, occurredAt: '2026-11-02T00:00:00.000Z' }));
    const nov = await store.listUsage({ merchantId: 'mU' as MerchantId, from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' });
    assert.deepEqual(nov.map((u) => u.id), ['u-1', 'u-2']);
    assert.equal(nov[1]?.quantity, 2.5);
    assert.equal(nov[0]?.transactionId, 'tx-u');
    assert.equal((await store.listUsage({})).length, 4);
    await assert.rejects(store.insertUsage(usage({ id: 'u-neg', quantity: -1 })), rejectsWithCode('store-error'));
    await assert.rejects(store.insertUsage(usage({ id: 'u-fk', transactionId: 'tx-nope' })), rejectsWithCode('store-error'));
  });
});
