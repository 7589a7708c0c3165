import type { Kysely, Selectable } from 'kysely';
import { CardlineError } from '../errors/index.ts';
import { formatSipIdentity, parseSipIdentity } from '../sip/index.ts';
import { isUserRole, MFA_MANDATORY_ROLES, type UserRole } from './permissions.ts';
import type { AuthDatabase, UsersTable } from './schema.ts';

/** A user as the rest of the system sees it: no hash, no seed. */
export interface User {
  id: string;
  username: string;
  displayName: string | null;
  email: string | null;
  role: UserRole;
  merchantId: string | null;
  teamId: string | null;
  /** the agent's SIP identity (`sip:user@host`) matched against the gateway's calls ("my current call"); null = none */
  sipUri: string | null;
  /** MFA demanded at login: always for admin and supervisor, per user (default on) for agents and auditors */
  mfaRequired: boolean;
  mfaEnrolled: boolean;
  disabled: boolean;
  lastLoginAt: string | null;
  passwordChangedAt: string;
  createdAt: string;
  updatedAt: string;
}

export type UserRow = Selectable<UsersTable>;

const USERNAME = /^[a-z0-9][a-z0-9._@+-]{1,63}$/;
const ID_TEXT = /^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$/;

/** Trimmed, NFKC, lower case; 2-64 of `a-z 0-9 . _ @ + -`. */
export function normalizeUsername(raw: string): string {
  const u = raw.normalize('NFKC').trim().toLowerCase();
  if (!USERNAME.test(u)) throw new CardlineError('usage', 'username must be 2-64 characters: a-z 0-9 . _ @ + -');
  return u;
}

/** Like normalizeUsername, but never throws (login must treat a malformed name like an unknown one). */
export function loginSubjectName(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase().slice(0, 128);
}

export function checkScopeId(v: string | null | undefined, what: string): string | null {
  if (v === null || v === undefined) return null;
  if (!ID_TEXT.test(v)) throw new CardlineError('usage', `${what} must be 1-128 characters [A-Za-z0-9_.:@+-]`);
  return v;
}

/**
 * A SIP identity as stored: canonical `sip:user@host` (scheme, port and parameters dropped; see
 * src/sip/messages/sip-identity.ts for why). null/undefined/'' clear it; anything unparseable is a `usage` error.
 */
export function checkSipIdentity(v: string | null | undefined): string | null {
  if (v === null || v === undefined || v.trim() === '') return null;
  try {
    return formatSipIdentity(parseSipIdentity(v));
  } catch {
    throw new CardlineError('usage', 'sipUri must be a SIP URI with a user part, e.g. sip:alice@pbx.example.com');
  }
}

/** MFA is never optional for the roles that can change who may do what or see a team's activity. */
export function effectiveMfaRequired(role: UserRole, flag: boolean): boolean {
  return MFA_MANDATORY_ROLES.has(role) || flag;
}

export function rowToUser(r: UserRow): User {
  if (!isUserRole(r.role)) throw new CardlineError('store-error', `user ${r.id} has an unknown role`);
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    email: r.email,
    role: r.role,
    merchantId: r.merchant_id,
    teamId: r.team_id,
    sipUri: r.sip_uri ?? null,
    mfaRequired: effectiveMfaRequired(r.role, r.mfa_required === 1),
    mfaEnrolled: r.totp_secret_enc !== null,
    disabled: r.disabled === 1,
    lastLoginAt: r.last_login_at,
    passwordChangedAt: r.password_changed_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface UserFilter {
  merchantId?: string | null;
  teamId?: string;
  role?: UserRole;
  limit?: number;
}

/** Queries over `users` (Kysely builder only: portable). */
export class UserRepository {
  readonly #db: Kysely<AuthDatabase>;

  constructor(db: Kysely<AuthDatabase>) {
    this.#db = db;
  }

  async byId(id: string): Promise<UserRow | null> {
    return (await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  async byUsername(username: string): Promise<UserRow | null> {
    return (await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst()) ?? null;
  }

  async list(f: UserFilter = {}): Promise<UserRow[]> {
    let q = this.#db.selectFrom('users').selectAll();
    if (f.merchantId !== undefined && f.merchantId !== null) q = q.where('merchant_id', '=', f.merchantId);
    if (f.teamId !== undefined) q = q.where('team_id', '=', f.teamId);
    if (f.role !== undefined) q = q.where('role', '=', f.role);
    return q.orderBy('username', 'asc').limit(Math.min(f.limit ?? 1000, 10_000)).execute();
  }

  /** Users who have a SIP identity (to find whose call a call leg is). */
  async withSipIdentity(): Promise<UserRow[]> {
    return this.#db.selectFrom('users').selectAll().where('sip_uri', 'is not', null).execute();
  }

  async count(): Promise<number> {
    const r = await this.#db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async insert(row: UsersTable): Promise<void> {
    try {
      await this.#db.insertInto('users').values(row).execute();
    } catch (err) {
      const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505') throw new CardlineError('user-exists', undefined, { cause: err });
      throw new CardlineError('store-error', 'insert user failed', { cause: err });
    }
  }

  async update(id: string, patch: Partial<Omit<UsersTable, 'id' | 'created_at'>>): Promise<boolean> {
    const r = await this.#db.updateTable('users').set(patch).where('id', '=', id).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** RFC 6238 §5.2 replay guard: succeeds for one caller only, and only for a step later than any accepted before. */
  async claimTotpStep(id: string, step: number, updatedAt: string): Promise<boolean> {
    const r = await this.#db.updateTable('users').set({ totp_last_step: step, updated_at: updatedAt })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async teamMemberIds(teamId: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('users').select('id').where('team_id', '=', teamId).execute();
    return rows.map((r) => r.id);
  }

  async replaceRecoveryCodes(userId: string, rows: { id: string; code_hash: string; created_at: string }[]): Promise<void> {
    await this.#db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    if (rows.length > 0) await this.#db.insertInto('recovery_codes').values(rows.map((r) => ({ ...r, user_id: userId, used_at: null }))).execute();
  }

  /** Single use: marks the code used in the same statement that finds it. */
  async consumeRecoveryCode(userId: string, codeHash: string, usedAt: string): Promise<boolean> {
    const r = await this.#db.updateTable('recovery_codes').set({ used_at: usedAt })
      .where('user_id', '=', userId).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async unusedRecoveryCodes(userId: string): Promise<number> {
    const r = await this.#db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
