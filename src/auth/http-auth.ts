import type {} from '@fastify/cookie'; // request.cookies
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator, Authorizer, Principal, SessionReader } from '../api/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { MaskedSession, MerchantId, SessionListFilter } from '../payments/index.ts';
import type { ApiKeyService } from './api-keys.ts';
import type { AuthService } from './auth-service.ts';
import type { LoginSessionRow } from './login-sessions.ts';
import { permissionsFor, type Permission } from './permissions.ts';
import { SESSION_TOKEN_PREFIX } from './tokens.ts';
import type { User } from './users.ts';

/**
 * HTTP side of identity: which credential a request carries, what it may do, and whose sessions it may see.
 *
 * Credentials, in order: `Authorization: Bearer cls_…` (login token), `Authorization: Bearer cl_…` or
 * `X-Api-Key: cl_…` (API key), then the `cardline_session` cookie. A cookie is sent by the browser on its own,
 * so every state-changing request authenticated by cookie must also carry `X-CSRF-Token` equal to the session's
 * CSRF token (bound to the session server-side, not a bare double submit; OWASP CSRF Prevention Cheat Sheet);
 * SameSite=Strict on the cookie is the second layer.
 */
export const SESSION_COOKIE = 'cardline_session';
export const CSRF_COOKIE = 'cardline_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** the login session behind the principal (users only) */
    loginSession: LoginSessionRow | null;
    loginUser: User | null;
  }
}

function bearer(request: FastifyRequest): string | null {
  const auth = request.headers.authorization;
  if (typeof auth !== 'string') return null;
  const m = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(auth);
  return m?.[1] ?? null;
}

function sha(v: string): Buffer {
  return createHash('sha256').update(v, 'utf8').digest();
}

export function userPrincipal(user: User, session: LoginSessionRow, via: 'cookie' | 'bearer'): Principal {
  const stage = session.stage as 'full' | 'mfa-pending' | 'enrolment';
  return {
    kind: 'user', id: user.id, permissions: permissionsFor(user.role, stage), merchantId: user.merchantId, role: user.role, teamId: user.teamId,
    name: user.username, via, stage, authSessionId: session.id,
  };
}

export class SecurityAuthenticator implements Authenticator {
  readonly #auth: AuthService;
  readonly #keys: ApiKeyService;

  constructor(auth: AuthService, keys: ApiKeyService) {
    this.#auth = auth;
    this.#keys = keys;
  }

  async authenticate(request: FastifyRequest): Promise<Principal | null> {
    const token = bearer(request);
    if (request.headers.authorization !== undefined) {
      if (token === null) return null;
      if (token.startsWith(SESSION_TOKEN_PREFIX)) return this.#session(request, token, 'bearer');
      return this.#apiKey(token);
    }
    const x = request.headers['x-api-key'];
    if (typeof x === 'string') return x.length > 0 && x.length <= 512 ? this.#apiKey(x.trim()) : null;
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (typeof cookie === 'string' && cookie !== '') return this.#session(request, cookie, 'cookie');
    return null;
  }

  async #apiKey(key: string): Promise<Principal | null> {
    const k = await this.#keys.authenticate(key);
    if (k === null) return null;
    return { kind: 'api-key', id: `key:${k.id}`, permissions: k.permissions, merchantId: k.merchantId, role: 'service', name: k.name, via: 'api-key' };
  }

  async #session(request: FastifyRequest, token: string, via: 'cookie' | 'bearer'): Promise<Principal | null> {
    const found = await this.#auth.resolveToken(token);
    if (found === null) return null;
    if (via === 'cookie' && !SAFE_METHODS.has(request.method)) {
      const header = request.headers[CSRF_HEADER];
      const expected = found.session.csrf_hash;
      if (typeof header !== 'string' || expected === null || header.length > 256
        || !timingSafeEqual(sha(header), Buffer.from(expected, 'hex'))) {
        throw new CardlineError('csrf-failed');
      }
    }
    request.loginSession = found.session;
    request.loginUser = found.user;
    return userPrincipal(found.user, found.session, via);
  }
}

/** Which users' sessions a principal may see (null = no restriction beyond its merchant scope). */
export type OwnerScope = (p: Principal) => Promise<ReadonlySet<string> | null>;

export function ownerScope(auth: AuthService): OwnerScope {
  return async (p) => {
    if (p.role === 'agent') return new Set([p.id]);
    if (p.role === 'supervisor') return new Set(p.teamId ? await auth.teamMemberIds(p.teamId) : []);
    return null;
  };
}

/**
 * The role matrix plus ownership: an agent reaches only the sessions it created, a supervisor only its team's
 * (PCI DSS 4.0 req. 7.2.2: access by job function). A session outside the scope answers 404, exactly like one
 * that does not exist, so ids are not confirmed to outsiders.
 */
export class RoleAuthorizer implements Authorizer {
  readonly #reader: SessionReader;
  readonly #scope: OwnerScope;

  constructor(reader: SessionReader, scope: OwnerScope) {
    this.#reader = reader;
    this.#scope = scope;
  }

  async authorize(principal: Principal, permission: Permission, request: FastifyRequest): Promise<boolean> {
    if (!(principal.permissions === 'all' || principal.permissions.has(permission))) return false;
    const url = request.routeOptions.url ?? '';
    if (url.startsWith('/v1/sessions/:id')) {
      const owners = await this.#scope(principal);
      if (owners !== null) {
        const id = (request.params as { id?: unknown }).id;
        const s = typeof id === 'string' ? await this.#reader.get(id as MaskedSession['id']) : null;
        if (s === null || s.createdBy === null || !owners.has(s.createdBy)) throw new CardlineError('session-not-found');
      }
    }
    return true;
  }
}

interface ListQuery {
  merchantId?: string; callId?: string; state?: SessionListFilter['state']; createdBy?: string; from?: string; to?: string; limit?: number;
}

/**
 * `GET /v1/sessions` for owner-scoped principals: the list is the newest `limit` sessions across the owners in
 * scope (one indexed query per owner, merged), so paging stays exact. Runs as a preHandler (after validation)
 * and answers directly; other principals fall through to the route's own handler.
 */
export function installSessionListScope(app: FastifyInstance, reader: SessionReader, scope: OwnerScope): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'GET' || request.routeOptions.url !== '/v1/sessions' || request.principal === null) return;
    const owners = await scope(request.principal);
    if (owners === null) return;
    const q = request.query as ListQuery;
    const limit = q.limit ?? 100;
    const base: SessionListFilter = { limit };
    if (q.callId !== undefined) base.callId = q.callId as SessionListFilter['callId'];
    if (q.state !== undefined) base.state = q.state;
    if (q.from !== undefined) base.from = q.from;
    if (q.to !== undefined) base.to = q.to;
    if (q.merchantId !== undefined) base.merchantId = q.merchantId as MerchantId;
    const merchant = request.principal.merchantId;
    if (merchant !== null) {
      if (base.merchantId !== undefined && base.merchantId !== merchant) throw new CardlineError('forbidden', 'other merchant');
      base.merchantId = merchant as MerchantId;
    }
    let wanted = [...owners];
    if (q.createdBy !== undefined) {
      if (!owners.has(q.createdBy)) throw new CardlineError('forbidden', 'sessions of a user outside your scope');
      wanted = [q.createdBy];
    }
    const lists = await Promise.all(wanted.map((createdBy) => reader.list({ ...base, createdBy })));
    const merged = lists.flat().sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1)).slice(0, limit);
    return reply.send({ sessions: merged });
  });
}
