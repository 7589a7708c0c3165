import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildServer, type ApiServer, type BuildServerOptions } from '../../../src/api/index.ts';
import { defaultConfig, generateApiKey, hashApiKey, type CardlineConfig } from '../../../src/config/index.ts';
import { createLogger } from '../../../src/log/index.ts';
import { openStore, sqlitePathIn } from '../../../src/store/index.ts';
import { openSecurity, type AuthSettings, type Security } from '../../../src/auth/index.ts';
import { PaymentSessionService, type PaymentStore } from '../../../src/payments/index.ts';
import { settingsDefaultsFromConfig, SettingsStore, type SettingsDatabase } from '../../../src/settings/index.ts';
import type { Kysely } from 'kysely';

export const CALLBACK_SECRET = 'whsec_test_secret_0123456789abcdef';

export interface TestServer {
  app: ApiServer;
  payments: PaymentSessionService | null;
  url: string;
  key: string;
  store: PaymentStore;
  /** identity, audit and billing over the same SQLite file (null with `security: false`) */
  security: Security | null;
  /** the admin settings store (with `settings: true`) */
  settings: SettingsStore | null;
  dir: string;
  /** every log line the server wrote (JSON text) */
  logs: string[];
  auth: Record<string, string>;
  close: () => Promise<void>;
}

export interface TestServerOptions {
  config?: (c: CardlineConfig) => void;
  build?: Partial<BuildServerOptions>;
  /** add routes before listening (e.g. test-only routes) */
  routes?: (app: ApiServer) => void;
  /** wire a real PaymentSessionService (sandbox connector) over the SQLite store */
  payments?: boolean;
  /**
   * default true: the production identity stack (src/auth) over the same SQLite file, with `key` a service API
   * key holding the three payment-session permissions (what the interim key could do). false: the interim
   * configured-key authenticator.
   */
  security?: boolean;
  /** clock for the security services (token expiry, lockout, TOTP) */
  now?: () => number;
  /** overrides of the identity settings (lockout thresholds, timeouts) */
  securitySettings?: Partial<AuthSettings>;
  /** open the admin settings store (needs security) and serve the /v1/settings routes */
  settings?: boolean;
}

/** scrypt cost for tests: the production default (2^17) would make every login take most of a second */
export const TEST_SCRYPT = { ln: 10, r: 8, p: 1 };

/** A real server on 127.0.0.1 port 0 over a real SQLite file in a temp dir, logs captured at debug level. */
export async function startTestServer(o: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cardline-api-'));
  const key = generateApiKey();
  const config = defaultConfig(dir);
  config.apiKeySha256 = [hashApiKey(key)];
  config.callbacks.secret = CALLBACK_SECRET;
  config.callbacks.allowHttp = true;
  config.callbacks.backoffMs = 10;
  config.callbacks.maxBackoffMs = 50;
  config.events.heartbeatMs = 200;
  o.config?.(config);
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => { logs.push(s); } } });
  const store = await openStore({ kind: 'sqlite', path: sqlitePathIn(dir) });
  let security: Security | null = null;
  let serviceKey = key;
  if (o.security !== false) {
    security = await openSecurity({ dbPath: sqlitePathIn(dir), dataDir: dir, settings: { scrypt: TEST_SCRYPT, ...o.securitySettings }, logger, ...(o.now ? { now: o.now } : {}) });
    serviceKey = (await security.apiKeys.create({ name: 'test service' }, { actor: { kind: 'system', id: 'test', name: null }, ip: null, userAgent: null })).key;
  }
  const payments = o.payments === true ? new PaymentSessionService({ store, logger }) : null;
  const settings = o.settings === true && security !== null
    ? await SettingsStore.open({ db: security.db as unknown as Kysely<SettingsDatabase>, audit: security.audit, dataDir: dir, defaults: settingsDefaultsFromConfig(config), ...(o.now ? { now: o.now } : {}) })
    : null;
  const app = await buildServer({
    config, store, logger, ...(payments !== null ? { payments } : {}), ...(security !== null ? { security } : {}), ...(settings !== null ? { settings } : {}), ...o.build,
  });
  o.routes?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    app, payments, url: `http://127.0.0.1:${port}`, key: serviceKey, store, security, settings, dir, logs,
    auth: { authorization: `Bearer ${serviceKey}` },
    close: async () => {
      await payments?.close();
      await app.close();
      await security?.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
