import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SqlitePaymentStore, sqlitePathIn, TABLES } from '../../src/store/index.ts';
import type { SessionId } from '../../src/payments/types.ts';
import { session, succeededSession, tempDir, TEST_PANS, TEST_SECURITY_CODES, transaction, usage } from './helpers/fixtures.ts';

/**
 * PCI DSS 4.0 req. 3.2.1 / 3.3.1.2: the schema has no place for a PAN, security code, expiry or keypad digits.
 * The exact column list is frozen here on purpose: adding a column means updating this list in review.
 */
const EXPECTED_COLUMNS: Record<string, string[]> = {
  payment_sessions: [
    'id', 'call_id', 'merchant_id', 'channel', 'intent', 'state', 'current_field', 'fields_json', 'brand', 'last4',
    'amount_minor', 'currency', 'description', 'reference', 'error_code', 'result_status', 'result_token',
    'result_authorization_code', 'result_connector', 'result_connector_reference', 'result_error_code',
    'result_message', 'created_by', 'created_at', 'updated_at',
  ],
  transactions: [
    'id', 'session_id', 'merchant_id', 'kind', 'connector', 'idempotency_key', 'status', 'token', 'brand', 'last4',
    'amount_minor', 'currency', 'connector_reference', 'authorization_code', 'error_code', 'created_at', 'updated_at',
  ],
  usage_records: ['id', 'merchant_id', 'session_id', 'transaction_id', 'channel', 'kind', 'outcome', 'connector', 'quantity', 'occurred_at'],
};
const FORBIDDEN_COLUMN = /pan|card_?num|cvv|cvc|cid$|security|expir|exp_?(month|year|date)|digit|track|pin|magstripe/i;

test('schema: no column can hold card data, and the column list is exactly the reviewed one', async () => {
  const t = tempDir();
  try {
    const path = sqlitePathIn(t.dir);
    await (await SqlitePaymentStore.open({ path })).close();
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      for (const table of TABLES) {
        const cols = (raw.prepare(`select name from pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name);
        assert.deepEqual(cols, EXPECTED_COLUMNS[table], `columns of ${table}`);
        for (const c of cols) assert.doesNotMatch(c, FORBIDDEN_COLUMN, `${table}.${c}`);
      }
      // the CHECK on last4 stops a PAN even if code bypassed the store's own guard
      assert.throws(() => raw.prepare("insert into payment_sessions (id, call_id, merchant_id, channel, intent, state, fields_json, last4, created_at, updated_at) values ('x','c','m','ivr','charge','created','[]','4111111111111111','t','t')").run());
    } finally {
      raw.close();
    }
  } finally { t.cleanup(); }
});

test('row and file scan: after a full set of writes no test PAN or security code is anywhere in the database files', async () => {
  const t = tempDir();
  try {
    const path = sqlitePathIn(t.dir);
    const store = await SqlitePaymentStore.open({ path });
    // A session as the domain snapshots it while capturing and after success (it knows the digit counts).
    await store.saveSession(session({ id: 's-1', state: 'capturing', currentField: 'security-code' }));
    await store.saveSession(succeededSession('s-1'));
    await store.saveSession(succeededSession('s-2', { brand: 'amex', last4: '0005', result: null, state: 'failed', errorCode: 'card-declined' }));
    await store.insertTransaction(transaction({ id: 'tx-1', sessionId: 's-1', status: 'succeeded', token: null, connectorReference: 'sbx_1' }));
    await store.insertUsage(usage({ id: 'u-1', sessionId: 's-1' as SessionId, transactionId: 'tx-1' }));
    // and a refused attempt to smuggle a PAN into last4
    await assert.rejects(store.saveSession(succeededSession('s-3', { last4: TEST_PANS[0] ?? '' })));

    // 1) row scan through SQL, every column of every table
    const raw = new BetterSqlite3(path, { readonly: true });
    const needles = [...TEST_PANS, ...TEST_SECURITY_CODES.filter((c) => c.length >= 4)];
    let rows = 0;
    for (const table of TABLES) {
      for (const row of raw.prepare(`select * from ${table}`).all() as Record<string, unknown>[]) {
        rows++;
        const text = JSON.stringify(row);
        for (const n of needles) assert.ok(!text.includes(n), `${table} row contains a test card value`);
        // fields_json carries outcome only
        if (table === 'payment_sessions') assert.doesNotMatch(String(row.fields_json), /digitCount|display/);
      }
    }
    raw.close();
    assert.equal(rows, 4);
    await store.close();

    // 2) byte scan of every file SQLite wrote (db, -wal, -shm): catches freed pages and journals too
    for (const f of readdirSync(t.dir)) {
      const bytes = readFileSync(join(t.dir, f)).toString('latin1');
      for (const n of needles) assert.ok(!bytes.includes(n), `${f} contains a test card value`);
    }
  } finally { t.cleanup(); }
});
