/** Persistence: the `PaymentStore` port's adapters (SQLite embedded default; PostgreSQL later). */
export { openStore, sqlitePathIn, SQLITE_FILE_NAME, type StoreConfig } from './open-store.ts';
export { SqlitePaymentStore, classifySqliteError, type SqliteStoreOptions } from './sqlite-payment-store.ts';
export { KyselyPaymentStore, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, type DbErrorKind, type DbErrorClassifier } from './kysely-payment-store.ts';
export { MIGRATIONS, migrateToLatest, type MigrationReport } from './migrations.ts';
export { TABLES, type Database, type TableName } from './schema.ts';
