import { join } from 'node:path';
import { CardlineError } from '../errors/index.ts';
import type { PaymentStore } from '../payments/ports.ts';
import { SqlitePaymentStore } from './sqlite-payment-store.ts';

/** File name of the embedded database inside the data directory. */
export const SQLITE_FILE_NAME = 'cardline.db';

/**
 * Which store to open. The scale-out issue adds `{ kind: 'postgres', url }`: the same `KyselyPaymentStore`
 * queries behind Kysely's PostgreSQL dialect and a SQLSTATE classifier (23505 unique, 23503 foreign key).
 */
export type StoreConfig = { kind: 'sqlite'; path: string; busyTimeoutMs?: number };

/** Opens a store and brings its schema to the latest migration. */
export async function openStore(config: StoreConfig): Promise<PaymentStore> {
  if (config.kind !== 'sqlite') throw new CardlineError('invalid-config', 'unknown store kind');
  return SqlitePaymentStore.open({ path: config.path, ...(config.busyTimeoutMs !== undefined ? { busyTimeoutMs: config.busyTimeoutMs } : {}) });
}

/** `<dataDir>/cardline.db` */
export function sqlitePathIn(dataDir: string): string {
  return join(dataDir, SQLITE_FILE_NAME);
}
