import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { buildServer, type ApiServer, type BuildServerOptions } from '../api/index.ts';
import { ensureApiKey, ensureCallbackSecret, type CardlineConfig } from '../config/index.ts';
import { CardlineError } from '../errors/index.ts';
import { createLogger, type Logger } from '../log/index.ts';
import { createConnectorRegistry, type ConnectorRegistryConfig } from '../connectors/index.ts';
import { PaymentSessionService, type PaymentStore } from '../payments/index.ts';
import { openStore, sqlitePathIn } from '../store/index.ts';

/**
 * Composition root: data directory → first-start secrets → store (migrated) → connectors → payment-session
 * service (closing sessions a previous run left open) → HTTP API → listening. `close()` stops the service first
 * (open sessions expire and their last events still reach streams and callbacks), then the API, connectors, store.
 */
const EXPIRY_SWEEP_MS = 60_000;
export interface StartOptions {
  config: CardlineConfig;
  logger?: Logger;
  /** extra wiring for buildServer (e.g. the payment-session service once it is composed here) */
  build?: Partial<BuildServerOptions>;
}

export interface RunningCardline {
  app: ApiServer;
  store: PaymentStore;
  payments: PaymentSessionService;
  url: string;
  dbPath: string;
  /** set only on the start that generated it: print once, never log */
  generatedApiKey: string | null;
  apiKeySource: 'config' | 'data-dir' | 'generated';
  generatedCallbackSecret: boolean;
  close(): Promise<void>;
}

export async function startCardline(opts: StartOptions): Promise<RunningCardline> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new CardlineError('io-error', `cannot create the data directory ${config.dataDir}`, { cause: err });
  }
  const keys = ensureApiKey(config.dataDir, config.apiKeySha256);
  const callbackSecret = ensureCallbackSecret(config.dataDir, config.callbacks.secret);
  const dbPath = sqlitePathIn(config.dataDir);
  const store = await openStore({ kind: 'sqlite', path: dbPath });
  let app: ApiServer | undefined;
  let payments: PaymentSessionService | undefined;
  let connectors: ReturnType<typeof createConnectorRegistry> | undefined;
  try {
    // a bad connector entry fails here, at startup, not at the first payment
    connectors = createConnectorRegistry((config.connectors ?? {}) as ConnectorRegistryConfig);
    payments = new PaymentSessionService({ store, connectors, logger });
    const interrupted = await payments.recoverInterrupted();
    if (interrupted > 0) logger.warn({ count: interrupted }, 'sessions left open by the previous run were closed');
    app = await buildServer({
      config: { ...config, apiKeySha256: keys.hashes },
      store,
      logger,
      callbackSecret: callbackSecret.secret,
      payments,
      ...opts.build,
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app?.close();
    await payments?.close();
    await connectors?.close();
    await store.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CardlineError('io-error', `${config.host}:${config.port} is already in use`, { cause: err });
    }
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  logger.info({ host: addr.address, port: addr.port, apiKeySource: keys.source }, 'cardline started');
  const service = payments;
  const registry = connectors;
  // safety net for clocks that jumped (suspend/resume); session timers normally expire sessions themselves
  const sweep = setInterval(() => {
    service.expireStale().catch((err: unknown) => logger.error({ err }, 'expiry sweep failed'));
  }, EXPIRY_SWEEP_MS);
  sweep.unref();
  let closed = false;
  return {
    app,
    store,
    payments: service,
    url: `http://${host}:${addr.port}`,
    dbPath,
    generatedApiKey: keys.generatedKey,
    apiKeySource: keys.source,
    generatedCallbackSecret: callbackSecret.generated,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      await service.close();
      await app.close();
      await registry.close();
      await store.close();
    },
  };
}
