import type { Kysely, Selectable } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { Ctx } from './auth-service.ts';
import { DEFAULT_SERVICE_PERMISSIONS, isPermission, SERVICE_GRANTABLE, type Permission } from './permissions.ts';
import type { ApiKeysTable, AuthDatabase } from './schema.ts';
import { randomToken, sha256Hex } from './tokens.ts';
import { randomBytes } from 'node:crypto';

/**
 * API keys for machine clients (media nodes, IVR, the Amazon Connect Lambda): the `service` role.
 *
 * - Random (256 bits, `cl_` + base64url), shown once at creation or rotation, stored as SHA-256 only
 *   (PCI DSS 4.0 req. 8.3.2, 8.6.3: application and system account credentials protected).
 * - Scoped: an explicit subset of the service permissions, and optionally one merchant.
 * - Rotatable: the new key is live at once; the old one keeps working for a grace period (so a fleet can be
 *   re-configured without downtime), then expires.
 * - Revocable at once; `last_used_at` kept to spot dormant keys (PCI DSS 4.0 req. 8.6.2/8.2.6).
 */
export const API_KEY_PREFIX = 'cl_';

export interface ApiKeyInfo {
  id: string;
  name: string;
  /** first characters, to recognise the key in a list */
  prefix: string;
  permissions: Permission[];
  merchantId: string | null;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  rotatedFrom: string | null;
  replacedBy: string | null;
  status: 'active' | 'expiring' | 'expired' | 'revoked';
}

export interface IssuedApiKey {
  info: ApiKeyInfo;
  /** the key itself: returned here only */
  key: string;
}

export interface AuthenticatedKey {
  id: string;
  name: string;
  permissions: ReadonlySet<Permission>;
  merchantId: string | null;
}

type Row = Selectable<ApiKeysTable>;
const NAME = /^[\p{L}\p{N} _.:@+()/-]{1,100}$/u;
const LAST_USED_GRANULARITY_MS = 60_000;

function parsePermissions(json: string): Permission[] {
  const v = JSON.parse(json) as unknown;
  if (!Array.isArray(v)) return [];
  return v.filter((p): p is Permission => typeof p === 'string' && isPermission(p) && SERVICE_GRANTABLE.has(p));
}

export class ApiKeyService {
  readonly #db: Kysely<AuthDatabase>;
  readonly #audit: AuditLog;
  readonly #now: () => number;
  readonly #graceMs: number;

  constructor(o: { db: Kysely<AuthDatabase>; audit: AuditLog; now?: () => number; rotationGraceMs?: number }) {
    this.#db = o.db;
    this.#audit = o.audit;
    this.#now = o.now ?? (() => Date.now());
    this.#graceMs = o.rotationGraceMs ?? 24 * 3600_000;
  }

  #iso(ms = this.#now()): string {
    return new Date(ms).toISOString();
  }

  #info(r: Row): ApiKeyInfo {
    const now = this.#now();
    const status = r.revoked_at !== null ? 'revoked' : r.expires_at === null ? 'active' : Date.parse(r.expires_at) <= now ? 'expired' : 'expiring';
    return {
      id: r.id, name: r.name, prefix: r.prefix, permissions: parsePermissions(r.permissions_json), merchantId: r.merchant_id,
      createdBy: r.created_by, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at,
      rotatedFrom: r.rotated_from, replacedBy: r.replaced_by, status,
    };
  }

  static checkPermissions(perms: readonly string[] | undefined): Permission[] {
    const list = perms === undefined ? [...DEFAULT_SERVICE_PERMISSIONS] : [...new Set(perms)];
    if (list.length === 0) throw new CardlineError('usage', 'an API key needs at least one permission');
    for (const p of list) {
      if (!isPermission(p) || !SERVICE_GRANTABLE.has(p)) throw new CardlineError('usage', `an API key cannot be granted ${p.slice(0, 40)} (allowed: ${[...SERVICE_GRANTABLE].join(', ')})`);
    }
    return list as Permission[];
  }

  async create(input: { name: string; permissions?: readonly string[]; merchantId?: string | null }, ctx: Ctx, rotatedFrom: string | null = null): Promise<IssuedApiKey> {
    if (!NAME.test(input.name)) throw new CardlineError('usage', 'name must be 1-100 letters, digits, spaces or _.:@+()/-');
    const permissions = ApiKeyService.checkPermissions(input.permissions);
    const merchantId = input.merchantId ?? null;
    if (merchantId !== null && !/^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$/.test(merchantId)) throw new CardlineError('usage', 'merchantId must be 1-128 characters [A-Za-z0-9_.:@+-]');
    const key = randomToken(API_KEY_PREFIX);
    const row: ApiKeysTable = {
      id: randomBytes(6).toString('hex'),
      name: input.name,
      key_hash: sha256Hex(key),
      prefix: key.slice(0, API_KEY_PREFIX.length + 4),
      permissions_json: JSON.stringify(permissions),
      merchant_id: merchantId,
      created_by: ctx.actor.id,
      created_at: this.#iso(),
      expires_at: null,
      revoked_at: null,
      last_used_at: null,
      rotated_from: rotatedFrom,
      replaced_by: null,
    };
    await this.#db.insertInto('api_keys').values(row).execute();
    if (rotatedFrom === null) {
      await this.#audit.append({ actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'apikey.create', outcome: 'success', target: { kind: 'api-key', id: row.id }, merchantId, detail: { name: row.name, permissions: permissions.join(' ') } });
    }
    return { info: this.#info(row), key };
  }

  /**
   * Imports a key known only by its SHA-256 (the interim single key of the first API release, or
   * `CARDLINE_API_KEY[_SHA256]`), as a service key with the payment-session permissions. Idempotent.
   * Its id is the first 12 hex characters of the hash: the principal id the interim authenticator used,
   * so `createdBy` of existing sessions still names it.
   */
  async importHash(sha256: string, name: string, ctx: Ctx): Promise<{ id: string; imported: boolean }> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new CardlineError('invalid-config', 'API key hashes must be SHA-256 hex');
    const existing = await this.#db.selectFrom('api_keys').select('id').where('key_hash', '=', sha256).executeTakeFirst();
    if (existing !== undefined) return { id: existing.id, imported: false };
    const id = sha256.slice(0, 12);
    await this.#db.insertInto('api_keys').values({
      id, name, key_hash: sha256, prefix: `${API_KEY_PREFIX}…`, permissions_json: JSON.stringify(DEFAULT_SERVICE_PERMISSIONS), merchant_id: null,
      created_by: ctx.actor.id, created_at: this.#iso(), expires_at: null, revoked_at: null, last_used_at: null, rotated_from: null, replaced_by: null,
    }).onConflict((oc) => oc.doNothing()).execute();
    await this.#audit.append({ actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'apikey.import', outcome: 'success', target: { kind: 'api-key', id }, detail: { name, permissions: DEFAULT_SERVICE_PERMISSIONS.join(' ') } });
    return { id, imported: true };
  }

  async list(filter: { merchantId?: string | null; includeRevoked?: boolean } = {}): Promise<ApiKeyInfo[]> {
    let q = this.#db.selectFrom('api_keys').selectAll();
    if (filter.merchantId !== undefined && filter.merchantId !== null) q = q.where('merchant_id', '=', filter.merchantId);
    if (filter.includeRevoked !== true) q = q.where('revoked_at', 'is', null);
    return (await q.orderBy('created_at', 'asc').orderBy('id', 'asc').execute()).map((r) => this.#info(r));
  }

  async get(id: string): Promise<ApiKeyInfo> {
    return this.#info(await this.#must(id));
  }

  /** A new key with the same scope; the old one expires after the grace period (0 = at once). */
  async rotate(id: string, ctx: Ctx, graceMs: number = this.#graceMs): Promise<IssuedApiKey> {
    const old = await this.#must(id);
    if (old.revoked_at !== null || (old.expires_at !== null && Date.parse(old.expires_at) <= this.#now())) throw new CardlineError('api-key-not-found', 'the key is revoked or expired');
    if (old.replaced_by !== null) throw new CardlineError('usage', 'the key was already rotated; rotate its replacement');
    const grace = Math.max(0, Math.min(graceMs, 30 * 24 * 3600_000));
    const issued = await this.create({ name: old.name, permissions: parsePermissions(old.permissions_json), merchantId: old.merchant_id }, ctx, old.id);
    const expiresAt = this.#iso(this.#now() + grace);
    await this.#db.updateTable('api_keys').set({ replaced_by: issued.info.id, expires_at: expiresAt }).where('id', '=', old.id).execute();
    await this.#audit.append({ actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'apikey.rotate', outcome: 'success', target: { kind: 'api-key', id: old.id }, merchantId: old.merchant_id, detail: { newKeyId: issued.info.id, oldKeyExpiresAt: expiresAt } });
    return issued;
  }

  async revoke(id: string, ctx: Ctx): Promise<ApiKeyInfo> {
    const row = await this.#must(id);
    if (row.revoked_at === null) {
      await this.#db.updateTable('api_keys').set({ revoked_at: this.#iso() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
      await this.#audit.append({ actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'apikey.revoke', outcome: 'success', target: { kind: 'api-key', id }, merchantId: row.merchant_id, detail: { name: row.name } });
    }
    return this.get(id);
  }

  /**
   * The live key a presented secret belongs to, or null. Found by SHA-256 through the unique index: the probe
   * compares hashes of 256-bit secrets, so its timing says nothing usable about any key.
   */
  async authenticate(presented: string): Promise<AuthenticatedKey | null> {
    if (!presented.startsWith(API_KEY_PREFIX) || presented.length > 256) return null;
    const row = await this.#db.selectFrom('api_keys').selectAll().where('key_hash', '=', sha256Hex(presented)).executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) return null;
    const now = this.#now();
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now) return null;
    if (row.last_used_at === null || now - Date.parse(row.last_used_at) >= LAST_USED_GRANULARITY_MS) {
      await this.#db.updateTable('api_keys').set({ last_used_at: this.#iso(now) }).where('id', '=', row.id).execute();
    }
    return { id: row.id, name: row.name, permissions: new Set(parsePermissions(row.permissions_json)), merchantId: row.merchant_id };
  }

  async #must(id: string): Promise<Row> {
    const row = await this.#db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new CardlineError('api-key-not-found');
    return row;
  }
}
