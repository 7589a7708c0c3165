import type { Kysely, Selectable } from 'kysely';
import { CardlineError } from '../errors/index.ts';
import type { LoginStage } from './permissions.ts';
import type { AuthDatabase, AuthSessionsTable } from './schema.ts';
import { CSRF_TOKEN_PREFIX, randomId, randomToken, SESSION_TOKEN_PREFIX, sha256Hex } from './tokens.ts';

/**
 * Server-side login sessions: web-console cookies and bearer tokens for programs, in one table.
 *
 * A session dies at the first of: idle timeout (PCI DSS 4.0 req. 8.2.8: 15 minutes of inactivity requires
 * re-authentication), absolute lifetime, logout/revocation. Only SHA-256 of the token is stored; the token is
 * returned once, at creation. A stage change (password → MFA → full) always issues a NEW session and revokes
 * the old one (OWASP Session Management: renew the id on any privilege change; no session fixation).
 */
export type SessionKind = 'cookie' | 'bearer';
export type LoginSessionRow = Selectable<AuthSessionsTable>;

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

export interface CreatedSession {
  id: string;
  token: string;
  /** cookie sessions only */
  csrfToken: string | null;
  kind: SessionKind;
  stage: LoginStage;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
}

/** Don't write `last_seen_at` on every request; the idle deadline moves at most this late. */
const TOUCH_GRANULARITY_MS = 15_000;

export class LoginSessions {
  readonly #db: Kysely<AuthDatabase>;
  readonly #now: () => number;

  constructor(db: Kysely<AuthDatabase>, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async create(userId: string, kind: SessionKind, stage: LoginStage, t: SessionTimeouts, from: { ip: string | null; userAgent: string | null }): Promise<CreatedSession> {
    if (!(t.idleMs > 0) || !(t.absoluteMs > 0)) throw new CardlineError('internal', 'session timeouts must be positive');
    const now = this.#now();
    const token = randomToken(SESSION_TOKEN_PREFIX);
    const csrfToken = kind === 'cookie' ? randomToken(CSRF_TOKEN_PREFIX) : null;
    const absolute = now + t.absoluteMs;
    const idle = Math.min(now + t.idleMs, absolute);
    const row: AuthSessionsTable = {
      id: randomId('as'),
      token_hash: sha256Hex(token),
      user_id: userId,
      kind,
      stage,
      csrf_hash: csrfToken === null ? null : sha256Hex(csrfToken),
      created_at: new Date(now).toISOString(),
      last_seen_at: new Date(now).toISOString(),
      idle_expires_at: new Date(idle).toISOString(),
      absolute_expires_at: new Date(absolute).toISOString(),
      revoked_at: null,
      ip: from.ip?.slice(0, 64) ?? null,
      user_agent: from.userAgent?.slice(0, 256) ?? null,
    };
    await this.#db.insertInto('auth_sessions').values(row).execute();
    return { id: row.id, token, csrfToken, kind, stage, idleExpiresAt: row.idle_expires_at, absoluteExpiresAt: row.absolute_expires_at };
  }

  /**
   * The live session a token belongs to, with its idle deadline moved forward; null when unknown, revoked or
   * expired. Lookup is by SHA-256 of the token (an index probe on a hash of 256 random bits reveals nothing usable).
   */
  async resolve(token: string, idleFor: (row: LoginSessionRow) => number): Promise<LoginSessionRow | null> {
    if (!token.startsWith(SESSION_TOKEN_PREFIX) || token.length > 128) return null;
    const row = await this.#db.selectFrom('auth_sessions').selectAll().where('token_hash', '=', sha256Hex(token)).executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) return null;
    const now = this.#now();
    if (now >= Date.parse(row.idle_expires_at) || now >= Date.parse(row.absolute_expires_at)) return null;
    if (now - Date.parse(row.last_seen_at) >= TOUCH_GRANULARITY_MS) {
      const idle = new Date(Math.min(now + idleFor(row), Date.parse(row.absolute_expires_at))).toISOString();
      const seen = new Date(now).toISOString();
      await this.#db.updateTable('auth_sessions').set({ last_seen_at: seen, idle_expires_at: idle }).where('id', '=', row.id).execute();
      return { ...row, last_seen_at: seen, idle_expires_at: idle };
    }
    return row;
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.#db.updateTable('auth_sessions').set({ revoked_at: new Date(this.#now()).toISOString() })
      .where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Every live session of a user (password change, MFA reset, disable), optionally sparing one. */
  async revokeAllForUser(userId: string, exceptId: string | null = null): Promise<number> {
    let q = this.#db.updateTable('auth_sessions').set({ revoked_at: new Date(this.#now()).toISOString() })
      .where('user_id', '=', userId).where('revoked_at', 'is', null);
    if (exceptId !== null) q = q.where('id', '!=', exceptId);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Removes rows that expired more than `olderThanMs` ago (housekeeping; the audit trail keeps the history). */
  async purgeExpired(olderThanMs = 7 * 24 * 3600_000): Promise<number> {
    const cutoff = new Date(this.#now() - olderThanMs).toISOString();
    const r = await this.#db.deleteFrom('auth_sessions').where('absolute_expires_at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
