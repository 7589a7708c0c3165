import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { CardlineError } from '../errors/index.ts';
import { isSha256Hex } from '../config/index.ts';

/**
 * Authentication and authorisation seam.
 *
 * Every route declares the one permission it needs in its route config (`config: { permission }`); a route
 * without one is refused at registration, so nothing can be added unprotected by accident (PCI DSS 4.0
 * req. 7.2.1: access by need to know). Until issue 5 (users, roles, MFA, scoped keys) lands, the only
 * credential is a configured API key that grants every permission. Issue 5 plugs in by passing its own
 * `Authenticator` (cookie sessions, expiring bearer tokens, scoped keys) and `Authorizer` (role matrix,
 * ownership of sessions) to `buildServer`; routes do not change.
 */
export const PERMISSIONS = [
  'sessions:read', // read masked sessions, list them, subscribe to their events
  'sessions:write', // create, set amount, start/re-capture a field, submit, cancel
  'sessions:digits', // feed keypad digits (media layer, tests)
] as const;
export type Permission = (typeof PERMISSIONS)[number];
/** `public` is for `/health` and `/openapi.json` only. */
export type RoutePermission = Permission | 'public';

export interface Principal {
  kind: 'api-key' | 'user' | 'service';
  /** stable, non-secret identifier (for an API key: a short fingerprint of its hash) */
  id: string;
  /** granted permissions; `all` until issue 5 introduces roles */
  permissions: ReadonlySet<Permission> | 'all';
  /** tenancy scope when the credential is bound to one merchant */
  merchantId: string | null;
}

export interface Authenticator {
  /** null = no valid credential presented (→ 401). Must not throw for bad credentials. */
  authenticate(request: FastifyRequest): Promise<Principal | null>;
}

export interface Authorizer {
  /** false → 403. Resource-level checks (ownership) belong in handlers or in issue 5's implementation. */
  authorize(principal: Principal, permission: Permission, request: FastifyRequest): Promise<boolean> | boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RoutePermission;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const MAX_KEY_LENGTH = 512;

/** Reads `Authorization: Bearer <key>` or `X-Api-Key: <key>`; never logs or echoes it. */
export function presentedApiKey(request: FastifyRequest): string | null {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m?.[1] !== undefined && m[1].length <= MAX_KEY_LENGTH) return m[1];
    return null;
  }
  const x = request.headers['x-api-key'];
  if (typeof x === 'string' && x.length > 0 && x.length <= MAX_KEY_LENGTH) return x.trim();
  return null;
}

/**
 * Accepts any of the configured API keys, held as SHA-256 hashes. The presented key is hashed and compared
 * with `timingSafeEqual` against every configured hash, without stopping at the first match, so response
 * time reveals neither which key matched nor how much of it (house style 11; PCI DSS 4.0 req. 8.3.2).
 */
export class ApiKeyAuthenticator implements Authenticator {
  readonly #hashes: Buffer[];

  constructor(sha256Hex: readonly string[]) {
    for (const h of sha256Hex) if (!isSha256Hex(h)) throw new CardlineError('invalid-config', 'API key hashes must be SHA-256 hex');
    this.#hashes = sha256Hex.map((h) => Buffer.from(h, 'hex'));
  }

  async authenticate(request: FastifyRequest): Promise<Principal | null> {
    const key = presentedApiKey(request);
    if (key === null) return null;
    const presented = createHash('sha256').update(key, 'utf8').digest();
    let match: Buffer | null = null;
    for (const h of this.#hashes) {
      if (timingSafeEqual(presented, h)) match = h;
    }
    if (match === null) return null;
    return { kind: 'api-key', id: `key:${match.subarray(0, 6).toString('hex')}`, permissions: 'all', merchantId: null };
  }
}

/** Grants what the principal's permission set holds. */
export const permissionSetAuthorizer: Authorizer = {
  authorize(principal, permission) {
    return principal.permissions === 'all' || principal.permissions.has(permission);
  },
};

/**
 * Registers the route-permission rule and the authentication hook on the root instance; must be called
 * before any route is added. Authentication runs `onRequest`, before the body is read or validated, so an
 * unauthenticated caller learns nothing from validation errors and costs no parsing.
 */
export interface RouteRecord {
  method: string;
  url: string;
  permission: RoutePermission;
  websocket: boolean;
}

export function installAuth(app: FastifyInstance, authenticator: Authenticator, authorizer: Authorizer): RouteRecord[] {
  const routes: RouteRecord[] = [];
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route: RouteOptions) => {
    const permission = route.config?.permission;
    if (permission === undefined) {
      throw new CardlineError('internal', `route ${String(route.method)} ${route.url} declares no permission`);
    }
    if (permission !== 'public' && !(PERMISSIONS as readonly string[]).includes(permission)) {
      throw new CardlineError('internal', `route ${String(route.method)} ${route.url} declares an unknown permission`);
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const websocket = 'wsHandler' in route && typeof (route as { wsHandler?: unknown }).wsHandler === 'function';
    for (const m of methods) routes.push({ method: String(m), url: route.url, permission, websocket });
  });
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission;
    // undefined only for the not-found handler, which answers 404 without touching anything
    if (permission === undefined || permission === 'public') return;
    const principal = await authenticator.authenticate(request);
    if (principal === null) throw new CardlineError('unauthenticated');
    request.principal = principal;
    if (!(await authorizer.authorize(principal, permission, request))) {
      throw new CardlineError('forbidden', `requires ${permission}`);
    }
  });
  return routes;
}
