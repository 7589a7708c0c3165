import type { Kysely } from 'kysely';
import type { AuthDatabase } from './schema.ts';
import { randomId, randomToken, sha256Hex } from './tokens.ts';

/**
 * One-time embed tokens (issue 7): an integration (a CRM back end holding an admin session or an API key) mints
 * one for an agent; the agent panel inside the CRM's iframe exchanges it, once, for a login session held in
 * memory as a bearer token. Short-lived (at most 5 minutes: it travels in a URL fragment to the browser), single
 * use (the exchange marks it used in the same statement that finds it), and only SHA-256 of it is stored.
 */
export const EMBED_TOKEN_PREFIX = 'cle_';
export const EMBED_TOKEN_MAX_TTL_S = 300;

export interface MintedEmbedToken { id: string; token: string; expiresAt: string }

export class EmbedTokenRepository {
  readonly #db: Kysely<AuthDatabase>;
  readonly #now: () => number;

  constructor(db: Kysely<AuthDatabase>, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async create(userId: string, ttlS: number, createdBy: string | null): Promise<MintedEmbedToken> {
    const now = this.#now();
    const token = randomToken(EMBED_TOKEN_PREFIX);
    const row = {
      id: randomId('emb'), token_hash: sha256Hex(token), user_id: userId, created_by: createdBy,
      created_at: new Date(now).toISOString(), expires_at: new Date(now + ttlS * 1000).toISOString(), used_at: null,
    };
    await this.#db.insertInto('embed_tokens').values(row).execute();
    return { id: row.id, token, expiresAt: row.expires_at };
  }

  /**
   * Claims a token: succeeds for exactly one caller, before expiry. The answer says why not otherwise (for the
   * audit trail only; the API answers the same error for every reason).
   */
  async claim(token: string): Promise<{ ok: true; id: string; userId: string } | { ok: false; id: string | null; reason: 'unknown' | 'expired' | 'used' }> {
    if (!token.startsWith(EMBED_TOKEN_PREFIX) || token.length > 128) return { ok: false, id: null, reason: 'unknown' };
    const hash = sha256Hex(token);
    const nowIso = new Date(this.#now()).toISOString();
    const r = await this.#db.updateTable('embed_tokens').set({ used_at: nowIso })
      .where('token_hash', '=', hash).where('used_at', 'is', null).where('expires_at', '>', nowIso)
      .executeTakeFirst();
    const row = await this.#db.selectFrom('embed_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    if (row === undefined) return { ok: false, id: null, reason: 'unknown' };
    if (r.numUpdatedRows > 0n) return { ok: true, id: row.id, userId: row.user_id };
    return { ok: false, id: row.id, reason: row.used_at !== null ? 'used' : 'expired' };
  }

  /** Housekeeping: rows past expiry for more than a day. */
  async purgeExpired(): Promise<number> {
    const cutoff = new Date(this.#now() - 24 * 3600_000).toISOString();
    const r = await this.#db.deleteFrom('embed_tokens').where('expires_at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
