import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import { Type } from '@sinclair/typebox';
import { Nullable } from '../back-office-schemas.ts';
import type { Ctx, CreatedSession, Security, User } from '../../auth/index.ts';
import { CSRF_COOKIE, SESSION_COOKIE } from '../../auth/index.ts';
import { isCardlineError } from '../../errors/index.ts';

/** Shared pieces of the identity, audit and billing routes. */
export function ctxOf(request: FastifyRequest): Ctx {
  const p = request.principal;
  const actor = p === null
    ? { kind: 'anonymous' as const, id: null, name: null }
    : { kind: p.kind === 'user' ? 'user' as const : 'api-key' as const, id: p.id, name: p.name ?? null };
  const ua = request.headers['user-agent'];
  return { actor, ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua : null };
}

function secure(request: FastifyRequest, security: Security): boolean {
  if (security.cookieSecure === 'always') return true;
  if (security.cookieSecure === 'never') return false;
  return request.protocol === 'https';
}

/**
 * `cardline_session`: HttpOnly (no script can read it), SameSite=Strict (never sent cross-site), Secure over
 * HTTPS (or always, when configured); `cardline_csrf`: readable by the console's script so it can echo it in
 * `X-CSRF-Token` (PCI DSS 4.0 req. 6.2.4: CSRF prevented).
 */
export function setSessionCookies(request: FastifyRequest, reply: FastifyReply, security: Security, s: CreatedSession): void {
  const base = { path: '/', sameSite: 'strict' as const, secure: secure(request, security), expires: new Date(s.absoluteExpiresAt) };
  void reply.setCookie(SESSION_COOKIE, s.token, { ...base, httpOnly: true });
  if (s.csrfToken !== null) void reply.setCookie(CSRF_COOKIE, s.csrfToken, { ...base, httpOnly: false });
}

export function clearSessionCookies(request: FastifyRequest, reply: FastifyReply, security: Security): void {
  const base = { path: '/', sameSite: 'strict' as const, secure: secure(request, security) };
  void reply.clearCookie(SESSION_COOKIE, { ...base, httpOnly: true });
  void reply.clearCookie(CSRF_COOKIE, base);
}

/** Adds `Retry-After` to a throttled refusal before the error handler answers. */
export async function withRetryAfter<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isCardlineError(err) && err.code === 'login-throttled') {
      const s = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
      if (typeof s === 'number') void reply.header('retry-after', String(s));
    }
    throw err;
  }
}

export { UserSchema } from '../back-office-schemas.ts';

export function userJson(u: User): User {
  return u;
}

export const OkBody = Type.Object({ ok: Type.Literal(true) }, { additionalProperties: false });
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:*-]+$' }) });
export { Nullable };
