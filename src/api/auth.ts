import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { CardlineError } from '../errors/index.ts';
import { isSha256Hex } from '../config/index.ts';
import { PERMISSIONS, type LoginStage, type Permission, type Role } from '../auth/permissions.ts';

/**
 * Authentication and authorisation seam.
 *
 * Every route declares the one permission it needs in its route config (`config: { permission }`); a route
 * without one is refused at registration, so nothing can be added unprotected by accident (PCI DSS 4.0
 * req. 7.2.1: access by need to know). The production credentials (issue 5, src/auth) are users' cookie
 * sessions and bearer tokens and scoped API keys, with a role matrix and session ownership; `buildServer`
 * installs them when given `security`. `ApiKeyAuthenticator` below is the interim adapter (a fixed list of key
 * hashes granting everything), kept for embedding the API without the identity tables.
 */
export { PERMISSIONS, type Permission } from '../auth/permissions.ts';
/** `public` is for `/health`, `/openapi.json` and the login endpoint only. */
export type RoutePermission = Permission | 'public';

export interface Principal {
  kind: 'api-key' | 'user' | 'service';
  /** stable, non-secret identifier (user id, or `key:<id>` for an API key) */
  id: string;
  /** granted permissions (a user's role at its login stage; an API key's scope) */
  permissions: ReadonlySet<Permission> | 'all';
  /** tenancy scope when the credential is bound to one merchant */
  merchantId: string | null;
  /** issue 5: the role behind the grant (`service` for API keys) */
  role?: Role;
  /** issue 5: users only, for supervisors' team scope */
  teamId?: string | null;
  /** issue 5: username or key name, for the audit trail */
  name?: string | null;
  /** issue 5: how the credential arrived (cookie sessions need a CSRF token on state changes) */
  via?: 'cookie' | 'bearer' | 'api-key';
  /** issue 5: login stage of a user session */
  stage?: LoginStage;
  /** issue 5: the login session id (not the token) */
  authSessionId?: string | null;
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
