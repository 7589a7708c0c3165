import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { buildServer, type ApiServer, type BuildServerOptions } from '../api/index.ts';
import { ensureCallbackSecret, type CardlineConfig } from '../config/index.ts';
import { bootstrapApiKeys, openSecurity, securityOptionsFromConfig, type Security } from '../auth/index.ts';
import { CardlineError } from '../errors/index.ts';
import { createLogger, type Logger } from '../log/index.ts';
import { createConnectorRegistry, type ConnectorRegistryConfig } from '../connectors/index.ts';
import { isTerminal, PaymentSessionService, type PaymentStore } from '../payments/index.ts';
import { openStore, sqlitePathIn } from '../store/index.ts';
import { PaymentDigitBinder, registerCallRoutes, startGateway, type RunningGateway } from '../gateway/index.ts';
import { recordingFromConfig, registerRecordingRoutes, type CallRecording } from '../recording/index.ts';
import { applyConnectorSettings, settingsDefaultsFromConfig, SettingsStore, type SettingsDatabase } from '../settings/index.ts';
import type { Kysely } from 'kysely';
import { securityCallAccess } from './call-access.ts';

/**
 * Composition root: data directory → first-start secrets → store (migrated) → identity, audit and billing
 * (API keys migrated from the interim setup) → connectors → payment-session service (closing sessions a previous
 * run left open) → HTTP API → listening. `close()` stops the service first (open sessions expire and their last
 * events still reach streams and callbacks), then the API, connectors, the audit trail (its tail sealed), store.
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
  /** identity, audit trail, billing */
  security: Security;
  /** the admin's settings: masking policy (`settings.policySource` for the gateway), connectors per merchant */
  settings: SettingsStore;
  url: string;
  dbPath: string;
  /** set only on the start that generated it: print once, never log */
  generatedApiKey: string | null;
  apiKeySource: 'config' | 'data-dir' | 'generated';
  generatedCallbackSecret: boolean;
  /** the media gateway (SIP B2BUA + RTP relay) when `config.gateway` is set */
  gateway: RunningGateway | null;
  /** the built-in recorder and external-recorder webhooks (`gateway.recording`, `gateway.recorderWebhooks`) */
  recording: CallRecording | null;
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
  const callbackSecret = ensureCallbackSecret(config.dataDir, config.callbacks.secret);
  const dbPath = sqlitePathIn(config.dataDir);
  const store = await openStore({ kind: 'sqlite', path: dbPath });
  let security: Security | undefined;
  let keys: Awaited<ReturnType<typeof bootstrapApiKeys>>;
  let settings: SettingsStore;
  try {
    security = await openSecurity({ ...securityOptionsFromConfig(config, dbPath), logger });
    keys = await bootstrapApiKeys(security, config);
    // the configured values are the defaults until an admin saves settings
    settings = await SettingsStore.open({
      db: security.db as unknown as Kysely<SettingsDatabase>, audit: security.audit, dataDir: config.dataDir, defaults: settingsDefaultsFromConfig(config),
    });
  } catch (err) {
    await security?.close();
    await store.close();
    throw err;
  }
  let app: ApiServer | undefined;
  let payments: PaymentSessionService | undefined;
  let connectors: ReturnType<typeof createConnectorRegistry> | undefined;
  let gateway: RunningGateway | null = null;
  let recording: CallRecording | null = null;
  try {
    // a bad connector entry fails here, at startup, not at the first payment
    connectors = createConnectorRegistry((config.connectors ?? {}) as ConnectorRegistryConfig);
    // saved connector settings replace the configured ones now and whenever an admin changes them
    applyConnectorSettings(settings, connectors, (config.connectors ?? null) as ConnectorRegistryConfig | null);
    payments = new PaymentSessionService({ store, connectors, logger });
    const interrupted = await payments.recoverInterrupted();
    if (interrupted > 0) logger.warn({ count: interrupted }, 'sessions left open by the previous run were closed');
    app = await buildServer({
      config,
      store,
      logger,
      callbackSecret: callbackSecret.secret,
      payments,
      security,
      settings,
      console: true,
      ...opts.build,
    });
    if (config.gateway) {
      // A call's secure digits go only to the payment session bound by POST /v1/calls/:id/secure.
      const binder = new PaymentDigitBinder(payments, { onError: (callId, code) => logger.warn({ callId, code }, 'secure digit not accepted by the bound session') });
      // Built-in recorder and external-recorder webhooks (both optional): hooks on every new call. The masking policy
      // is the admin's settings (config values are their defaults), read once per new call.
      recording = recordingFromConfig(config.gateway, { dataDir: config.dataDir, logger, allowHttp: config.callbacks.allowHttp });
      gateway = await startGateway(config.gateway, {
        logger, onSecureDigit: binder.sink, tapFor: recording.tapFor, onCallStarted: recording.onCallStarted, policy: settings.policySource,
      });
      registerCallRoutes(app, gateway.b2bua.registry, payments, securityCallAccess(security.auth, payments));
      if (recording.recorder) registerRecordingRoutes(app, recording.recorder);
      // The bound payment session ended (succeeded, failed, cancelled, expired): unbind it, secure mode off.
      const calls = gateway.b2bua.registry;
      payments.onEvent((e) => {
        if (isTerminal(e.session.state)) calls.paymentSessionEnded(e.sessionId);
      });
    }
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await gateway?.close();
    await recording?.close();
    await app?.close();
    await payments?.close();
    await connectors?.close();
    await security.close();
    await store.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CardlineError('io-error', `${config.host}:${config.port} is already in use`, { cause: err });
    }
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  logger.info({ host: addr.address, port: addr.port, apiKeySource: keys.source, apiKeysImported: keys.imported }, 'cardline started');
  if ((await security.auth.users.count()) === 0) {
    logger.warn('no console users yet: create the first admin with "cardline admin create --username <name>"');
  }
  await security.audit.record({
    actor: { kind: 'system', id: 'cardline', name: 'server' }, action: 'system.start', outcome: 'success',
    detail: { host: addr.address, port: addr.port, credentialSource: keys.source, credentialsImported: keys.imported, trustProxy: config.trustProxy, secureTransportOnlySessions: config.auth.cookieSecure },
  });
  const sec = security;
  const service = payments;
  const registry = connectors;
  // safety net for clocks that jumped (suspend/resume); session timers normally expire sessions themselves
  const sweep = setInterval(() => {
    service.expireStale().catch((err: unknown) => logger.error({ err }, 'expiry sweep failed'));
  }, EXPIRY_SWEEP_MS);
  sweep.unref();
  // identity housekeeping: expired login sessions and stale lockout counters
  const purge = () => { sec.auth.purge().catch((err: unknown) => logger.error({ err }, 'auth housekeeping failed')); };
  purge();
  const housekeeping = setInterval(purge, 3600_000);
  housekeeping.unref();
  let closed = false;
  const gw = gateway;
  const rec = recording;
  return {
    app,
    store,
    payments: service,
    security: sec,
    settings,
    url: `http://${host}:${addr.port}`,
    dbPath,
    generatedApiKey: keys.generatedKey,
    apiKeySource: keys.source,
    generatedCallbackSecret: callbackSecret.generated,
    gateway: gw,
    recording: rec,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      clearInterval(housekeeping);
      await gw?.close();
      await rec?.close(); // the hung-up calls' recordings complete, pending recorder webhooks get a grace period
      await service.close();
      await app.close();
      await registry.close();
      await sec.audit.record({ actor: { kind: 'system', id: 'cardline', name: 'server' }, action: 'system.stop', outcome: 'success' });
      await sec.close();
      await store.close();
    },
  };
}
