/**
 * Child-process writer for the concurrency test: opens its own store on the shared file and writes
 * `count` sessions, each with a transaction and a usage record. argv: <db path> <prefix> <count>
 */
import { SqlitePaymentStore } from '../../../src/store/index.ts';
import type { SessionId } from '../../../src/payments/types.ts';
import { session, transaction, usage } from './fixtures.ts';

const [path, prefix, countArg] = process.argv.slice(2);
if (path === undefined || prefix === undefined || countArg === undefined) throw new Error('usage: concurrent-writer <path> <prefix> <count>');
const count = Number(countArg);
const store = await SqlitePaymentStore.open({ path, busyTimeoutMs: 10_000 });
for (let i = 0; i < count; i++) {
  const id = `${prefix}-${i}`;
  await store.saveSession(session({ id }));
  await store.insertTransaction(transaction({ id: `tx-${id}`, sessionId: id, idempotencyKey: `k-${id}` }));
  await store.insertUsage(usage({ id: `u-${id}`, sessionId: id as SessionId, transactionId: `tx-${id}` }));
  await store.saveSession(session({ id, state: 'succeeded' }));
}
await store.close();
process.stdout.write(`ok ${count}\n`);
