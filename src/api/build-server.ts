import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CardlineConfig } from '../config/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { PaymentStore } from '../payments/ports.ts';
import type { SessionId } from '../payments/types.ts';
import { ApiKeyAuthenticator, installAuth, permissionSetAuthorizer, type Authenticator, type Authorizer, type RouteRecord } from './auth.ts';
import { CallbackDispatcher } from './callback-dispatcher.ts';
import { installErrorHandling } from './errors.ts';
import { EventHub } from './event-hub.ts';
import { registerEventRoutes } from './event-streams.ts';
import { installOpenApi } from './openapi.ts';
import { installRequestLog } from './request-log.ts';
import { registerHealthRoute } from './routes/health.ts';
import { registerSessionReadRoutes, type SessionReader } from './routes/session-reads.ts';
import { registerSessionCommandRoutes, serviceReader, type SessionService } from './routes/session-commands.ts';
import { ErrorBody, SessionEventSchema } from './schemas.ts';
import cookie from '@fastify/cookie';
import {
  installSessionListScope, ownerScope, RoleAuthorizer, SecurityAuthenticator, type Security,
} from '../auth/index.ts';
import { installHttpAudit } from '../audit/index.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerUserRoutes } from './routes/users.ts';
import { ApiKeySchema, registerApiKeyRoutes } from './routes/api-keys.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerEmbedRoutes } from './routes/embed.ts';
import { registerBillingRoutes } from './routes/billing.ts';
import { registerSettingsRoutes } from './routes/settings.ts';
import type { SettingsStore } from '../settings/index.ts';
import { UserSchema } from './routes/request-context.ts';
import { registerConsoleRoutes } from '../web/index.ts';

export type ApiConfig = Pick<CardlineConfig, 'apiKeySha256' | 'bodyLimitBytes' | 'events' | 'callbacks'> & Partial<Pick<CardlineConfig, 'trustProxy' | 'console'>>;

export interface BuildServerOptions {
  config: ApiConfig;
  store: PaymentStore;
  logger: Logger;
  /** signing key for status callbacks when `config.callbacks.secret` is null (e.g. generated in the data dir) */
  callbackSecret?: string;
  /**
   * Identity, audit and billing (src/auth `openSecurity`). With it: users' cookie sessions and bearer tokens,
   * scoped API keys, the role matrix with session ownership, CSRF checks, the auth/users/api-keys/audit/billing
   * routes and the HTTP audit records. Without it: the interim API-key authenticator over `config.apiKeySha256`.
   */
  security?: Security;
  /** overrides the authenticator (tests); default: from `security`, else the configured API keys */
  authenticator?: Authenticator;
  /** overrides the authorizer (tests); default: the role matrix with ownership (security), else the permission set */
  authorizer?: Authorizer;
  /** default: a new hub; the payment-session service publishes into it */
  hub?: EventHub;
  /**
   * The payment-session service (src/payments `PaymentSessionService`). With it: the command routes, reads
   * through the service (live sessions first), and its events published to the hub. Without it: read-only
   * routes over the store.
   */
  payments?: SessionService;
  /** read source when there is no `payments`; default: the store */
  sessions?: SessionReader;
  /** for callbacks (tests inject a recording fetch) */
  fetch?: typeof fetch;
  /**
   * Serve the agent console (web/, src/web) at `/console/`; needs `security` (it signs in through the auth
   * routes). The composition root turns it on; API-only test servers leave it off.
   */
  console?: boolean;
  /** admin settings (src/settings): the `/v1/settings/...` routes; needs `security` */
  settings?: SettingsStore;
}

/** What the composition root and tests reach through `app.cardline`. */
export interface CardlineServices {
  hub: EventHub;
  callbacks: CallbackDispatcher;
  store: PaymentStore;
  /** every registered route with its declared permission (for audits and the route-matrix tests) */
  routes: readonly RouteRecord[];
}

declare module 'fastify' {
  interface FastifyInstance {
    cardline: CardlineServices;
  }
}

export type ApiServer = FastifyInstance;

/**
 * Builds the HTTP API (fastify 5). Listening is the caller's job; routes may still be added until
 * `ready()`/`listen()`. Closing the server closes the event hub (ending live streams) and drains the
 * callback queue briefly; the store is the caller's to close.
 */
export async function buildServer(opts: BuildServerOptions): Promise<ApiServer> {
  const secret = opts.callbackSecret ?? opts.config.callbacks.secret;
  if (secret === null || secret === undefined) throw new CardlineError('invalid-config', 'a status callback signing secret is required');

  const app = Fastify({
    loggerInstance: opts.logger,
    // fastify's own request lines log the raw URL; request-log.ts writes a safer one
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: opts.config.bodyLimitBytes,
    // behind a TLS proxy: request.ip / request.protocol from X-Forwarded-* (audit source address, Secure cookies)
    trustProxy: opts.config.trustProxy ?? false,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;

  const hub = opts.hub ?? new EventHub({
    bufferSize: opts.config.events.bufferSize,
    onListenerError: (err) => opts.logger.error({ err }, 'event hub listener failed'),
  });
  const callbacks = new CallbackDispatcher({
    secret,
    logger: opts.logger.child({ component: 'callbacks' }),
    allowHttp: opts.config.callbacks.allowHttp,
    maxQueue: opts.config.callbacks.maxQueue,
    maxAttempts: opts.config.callbacks.maxAttempts,
    timeoutMs: opts.config.callbacks.timeoutMs,
    backoffMs: opts.config.callbacks.backoffMs,
    maxBackoffMs: opts.config.callbacks.maxBackoffMs,
    concurrency: opts.config.callbacks.concurrency,
    ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}),
  });
  callbacks.attach(hub);
  installErrorHandling(app);
  // registered before the auth hook on purpose: its onRequest hook marks upgrade requests so that a refused
  // upgrade (401/404 answered over the raw socket) gets that socket destroyed; if auth ran first and threw,
  // the mark would be skipped, the socket would linger half-open and app.close() would never finish
  await app.register(websocket, {
    options: { maxPayload: 4096 },
    // shutdown: end live streams first so each WebSocket gets 1001 "going away" (RFC 6455 §7.4.1), not a bare close
    preClose: async function (this: FastifyInstance) {
      hub.close();
      for (const client of this.websocketServer.clients) client.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => { this.websocketServer.close(() => resolve()); });
    },
  });
  const payments = opts.payments;
  const reader: SessionReader = payments !== undefined ? serviceReader(payments) : opts.sessions ?? {
    get: (id) => opts.store.getSession(id),
    list: (f) => opts.store.listSessions(f),
  };
  const security = opts.security;
  if (security !== undefined) {
    // cookies are parsed in an onRequest hook that must run before authentication
    await app.register(cookie, { hook: 'onRequest' });
    app.decorateRequest('loginSession', null);
    app.decorateRequest('loginUser', null);
  }
  const authenticator = opts.authenticator
    ?? (security !== undefined ? new SecurityAuthenticator(security.auth, security.apiKeys) : new ApiKeyAuthenticator(opts.config.apiKeySha256));
  const authorizer = opts.authorizer
    ?? (security !== undefined ? new RoleAuthorizer(reader, ownerScope(security.auth)) : permissionSetAuthorizer);
  const routes = installAuth(app, authenticator, authorizer);
  app.decorate('cardline', { hub, callbacks, store: opts.store, routes });
  if (security !== undefined) installHttpAudit(app, security.audit, (r) => r.principal);
  installRequestLog(app);
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-request-id', request.id);
    return payload;
  });

  app.addSchema(ErrorBody);
  app.addSchema({ ...SessionEventSchema, $id: 'SessionEvent' });
  // every documented route answers errors in the one shape
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ??= {}) as { response?: Record<string, unknown>; hide?: boolean };
    if (schema.hide === true) return;
    const response = (schema.response ??= {});
    for (const code of ['4xx', '5xx']) response[code] ??= { $ref: 'ErrorBody#' };
  });

  await installOpenApi(app);

  registerHealthRoute(app);
  if (security !== undefined) {
    app.addSchema(UserSchema);
    app.addSchema(ApiKeySchema);
    registerAuthRoutes(app, security);
    registerUserRoutes(app, security);
    registerApiKeyRoutes(app, security);
    registerAuditRoutes(app, security);
    registerBillingRoutes(app, security);
    registerEmbedRoutes(app, security);
    if (opts.settings !== undefined) registerSettingsRoutes(app, opts.settings);
    installSessionListScope(app, reader, ownerScope(security.auth));
    // the agent console (web/), built on first request; it signs in through the auth routes above
    if (opts.console === true) registerConsoleRoutes(app, { frameAncestors: opts.config.console?.frameAncestors ?? [] });
  }
  registerSessionReadRoutes(app, reader);
  if (payments !== undefined) {
    // every masked event, saved and in order per session, fans out to streams and status callbacks
    const off = payments.onEvent((ev) => hub.publish(ev));
    app.addHook('onClose', async () => { off(); });
    registerSessionCommandRoutes(app, { service: payments, hub, callbacks, allowHttpCallbacks: opts.config.callbacks.allowHttp });
  }
  registerEventRoutes(app, {
    hub,
    snapshot: (id: SessionId) => reader.get(id),
    heartbeatMs: opts.config.events.heartbeatMs,
    bufferSize: opts.config.events.bufferSize,
  });

  app.addHook('onClose', async () => { await callbacks.close(1_000); });
  return app;
}
