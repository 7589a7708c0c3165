import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import QRCode from 'qrcode';
import type { AuditLog, ActorKind } from '../audit/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { LoginSessions, type CreatedSession, type LoginSessionRow, type SessionKind, type SessionTimeouts } from './login-sessions.ts';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './password-hash.ts';
import { assertPasswordPolicy } from './password-policy.ts';
import { isUserRole, type LoginStage, type UserRole } from './permissions.ts';
import type { AuthDatabase, UsersTable } from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import { ACCOUNT_THROTTLE, accountSubject, IP_THROTTLE, ipSubject, LoginThrottle, type ThrottlePolicy } from './throttle.ts';
import { EMBED_TOKEN_MAX_TTL_S, EmbedTokenRepository, type MintedEmbedToken } from './embed-tokens.ts';
import { randomId } from './tokens.ts';
import { base32Encode, generateTotpSecret, otpauthUri, verifyTotp } from './totp.ts';
import {
  checkScopeId, checkSipIdentity, effectiveMfaRequired, loginSubjectName, normalizeUsername, rowToUser, UserRepository, type User, type UserFilter, type UserRow,
} from './users.ts';

/**
 * Identity: users, password login with throttling, TOTP MFA (enrolment, verification, recovery codes),
 * login sessions, and the audit record of each of these (PCI DSS 4.0 req. 8 and 10.2.1.4-10.2.1.5).
 */
export interface AuthSettings {
  scrypt: ScryptParams;
  cookie: SessionTimeouts;
  /** bearer tokens: idle timeout, default and maximum absolute lifetime */
  tokenIdleMs: number;
  tokenDefaultTtlMs: number;
  tokenMaxTtlMs: number;
  /** password accepted, TOTP awaited */
  mfaPendingMs: number;
  /** MFA mandatory but not enrolled yet: the session can only enrol */
  enrolmentMs: number;
  accountThrottle: ThrottlePolicy;
  ipThrottle: ThrottlePolicy;
  /** MFA for new agents and auditors unless the admin says otherwise */
  mfaDefault: boolean;
  /** TOTP issuer label shown in authenticator apps */
  issuer: string;
}

export const DEFAULT_AUTH_SETTINGS: Readonly<AuthSettings> = Object.freeze({
  scrypt: DEFAULT_SCRYPT,
  cookie: { idleMs: 15 * 60_000, absoluteMs: 12 * 3600_000 },
  tokenIdleMs: 15 * 60_000,
  tokenDefaultTtlMs: 3600_000,
  tokenMaxTtlMs: 12 * 3600_000,
  mfaPendingMs: 5 * 60_000,
  enrolmentMs: 30 * 60_000,
  accountThrottle: ACCOUNT_THROTTLE,
  ipThrottle: IP_THROTTLE,
  mfaDefault: true,
  issuer: 'Cardline',
});

/** Who asks, and from where (for the audit record). */
export interface Ctx {
  actor: { kind: ActorKind; id: string | null; name: string | null };
  ip: string | null;
  userAgent: string | null;
}

export interface LoginResult {
  user: User;
  stage: LoginStage;
  session: CreatedSession;
}

export interface Enrolment {
  /** base32 seed, shown once for manual entry */
  secret: string;
  otpauthUri: string;
  /** `data:image/svg+xml;base64,…` QR code of the URI */
  qrSvgDataUrl: string;
}

export interface NewUser {
  username: string;
  password: string;
  role: UserRole;
  merchantId?: string | null;
  teamId?: string | null;
  displayName?: string | null;
  email?: string | null;
  /** the agent's SIP identity (`sip:user@host`) */
  sipUri?: string | null;
  /** default: settings.mfaDefault (forced on for admin and supervisor) */
  mfaRequired?: boolean;
}

export interface UserPatch {
  role?: UserRole;
  merchantId?: string | null;
  teamId?: string | null;
  displayName?: string | null;
  email?: string | null;
  sipUri?: string | null;
  mfaRequired?: boolean;
  disabled?: boolean;
}

export const RECOVERY_CODE_COUNT = 10;

/** 80 random bits as `xxxx-xxxx-xxxx-xxxx` (lower-case base32). */
function newRecoveryCode(): string {
  const s = base32Encode(randomBytes(10)).toLowerCase();
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}`;
}

function normalizeRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

export class AuthService {
  readonly users: UserRepository;
  readonly sessions: LoginSessions;
  readonly throttle: LoginThrottle;
  readonly embedTokens: EmbedTokenRepository;
  readonly settings: AuthSettings;
  readonly #box: SecretBox;
  readonly #audit: AuditLog;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  #dummyHash: Promise<string> | null = null;

  constructor(o: { db: Kysely<AuthDatabase>; box: SecretBox; audit: AuditLog; now?: () => number; settings?: Partial<AuthSettings>; logger?: Logger }) {
    this.#now = o.now ?? (() => Date.now());
    this.users = new UserRepository(o.db);
    this.sessions = new LoginSessions(o.db, this.#now);
    this.throttle = new LoginThrottle(o.db, this.#now);
    this.embedTokens = new EmbedTokenRepository(o.db, this.#now);
    this.settings = { ...DEFAULT_AUTH_SETTINGS, ...o.settings };
    this.#box = o.box;
    this.#audit = o.audit;
    this.#log = o.logger;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  /** Same cost as a real hash, so an unknown username takes as long as a wrong password (no user enumeration). */
  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword(randomBytes(24).toString('base64'), this.settings.scrypt);
    return this.#dummyHash;
  }

  // --- users ------------------------------------------------------------------------------------------

  async createUser(n: NewUser, ctx: Ctx): Promise<User> {
    const username = normalizeUsername(n.username);
    if (!isUserRole(n.role)) throw new CardlineError('usage', 'role must be agent, supervisor, admin or auditor');
    const email = n.email ?? null;
    if (email !== null && (email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email))) throw new CardlineError('usage', 'email is not valid');
    assertPasswordPolicy(n.password, { username, email, displayName: n.displayName ?? null });
    const now = this.#iso();
    const row: UsersTable = {
      id: randomId('usr', 8),
      username,
      display_name: n.displayName?.slice(0, 128) ?? null,
      email,
      role: n.role,
      merchant_id: checkScopeId(n.merchantId, 'merchantId'),
      team_id: checkScopeId(n.teamId, 'teamId'),
      password_hash: await hashPassword(n.password, this.settings.scrypt),
      password_changed_at: now,
      mfa_required: effectiveMfaRequired(n.role, n.mfaRequired ?? this.settings.mfaDefault) ? 1 : 0,
      totp_secret_enc: null,
      totp_pending_enc: null,
      totp_enrolled_at: null,
      totp_last_step: null,
      disabled: 0,
      last_login_at: null,
      created_at: now,
      updated_at: now,
      sip_uri: checkSipIdentity(n.sipUri),
    };
    await this.users.insert(row);
    const user = rowToUser(row);
    await this.#audit.append({
      ...this.#who(ctx), action: 'user.create', outcome: 'success', target: { kind: 'user', id: user.id }, merchantId: user.merchantId,
      detail: { username: user.username, role: user.role, teamId: user.teamId, mfaRequired: user.mfaRequired, sipUri: user.sipUri },
    });
    return user;
  }

  async getUser(id: string): Promise<User> {
    const row = await this.users.byId(id);
    if (row === null) throw new CardlineError('user-not-found');
    return rowToUser(row);
  }

  async findUserByUsername(username: string): Promise<User | null> {
    const row = await this.users.byUsername(loginSubjectName(username));
    return row === null ? null : rowToUser(row);
  }

  async listUsers(f: UserFilter = {}): Promise<User[]> {
    return (await this.users.list(f)).map(rowToUser);
  }

  async updateUser(id: string, p: UserPatch, ctx: Ctx): Promise<User> {
    const row = await this.#mustUser(id);
    const set: Partial<UsersTable> = { updated_at: this.#iso() };
    const changed: Record<string, string | boolean | null> = {};
    const role = p.role ?? (row.role as UserRole);
    if (p.role !== undefined) {
      if (!isUserRole(p.role)) throw new CardlineError('usage', 'role must be agent, supervisor, admin or auditor');
      set.role = p.role;
      changed.role = p.role;
    }
    if (p.merchantId !== undefined) { set.merchant_id = checkScopeId(p.merchantId, 'merchantId'); changed.merchantId = set.merchant_id; }
    if (p.teamId !== undefined) { set.team_id = checkScopeId(p.teamId, 'teamId'); changed.teamId = set.team_id; }
    if (p.displayName !== undefined) { set.display_name = p.displayName?.slice(0, 128) ?? null; changed.displayName = set.display_name; }
    if (p.email !== undefined) { set.email = p.email; changed.email = p.email; }
    if (p.sipUri !== undefined) { set.sip_uri = checkSipIdentity(p.sipUri); changed.sipUri = set.sip_uri; }
    if (p.mfaRequired !== undefined || p.role !== undefined) {
      const flag = p.mfaRequired ?? row.mfa_required === 1;
      set.mfa_required = effectiveMfaRequired(role, flag) ? 1 : 0;
      changed.mfaRequired = set.mfa_required === 1;
    }
    if (p.disabled !== undefined) { set.disabled = p.disabled ? 1 : 0; changed.disabled = p.disabled; }
    await this.users.update(id, set);
    // a role, scope or status change takes effect at once: live sessions carry the old grants
    if (p.role !== undefined || p.disabled === true || p.merchantId !== undefined || p.teamId !== undefined || (set.mfa_required === 1 && row.mfa_required === 0)) {
      await this.sessions.revokeAllForUser(id);
    }
    await this.#audit.append({ ...this.#who(ctx), action: 'user.update', outcome: 'success', target: { kind: 'user', id }, merchantId: row.merchant_id, detail: changed });
    return this.getUser(id);
  }

  /** Admin sets a new password (policy applies); every session of the user ends. */
  async setPassword(id: string, password: string, ctx: Ctx): Promise<void> {
    const row = await this.#mustUser(id);
    assertPasswordPolicy(password, { username: row.username, email: row.email, displayName: row.display_name });
    await this.users.update(id, { password_hash: await hashPassword(password, this.settings.scrypt), password_changed_at: this.#iso(), updated_at: this.#iso() });
    await this.sessions.revokeAllForUser(id);
    await this.throttle.reset(accountSubject(row.username));
    await this.#audit.append({ ...this.#who(ctx), action: 'user.password-reset', outcome: 'success', target: { kind: 'user', id }, merchantId: row.merchant_id });
  }

  async changeOwnPassword(userId: string, sessionId: string, current: string, next: string, ctx: Ctx): Promise<void> {
    const row = await this.#mustUser(userId);
    if (!(await verifyPassword(current, row.password_hash))) {
      await this.throttle.fail(accountSubject(row.username), this.settings.accountThrottle);
      await this.#audit.append({ ...this.#who(ctx), action: 'auth.password-change', outcome: 'failure', target: { kind: 'user', id: userId }, detail: { reason: 'wrong-current-password' } });
      throw new CardlineError('invalid-credentials');
    }
    assertPasswordPolicy(next, { username: row.username, email: row.email, displayName: row.display_name });
    if (await verifyPassword(next, row.password_hash)) throw new CardlineError('weak-password', 'the new password must differ from the current one');
    await this.users.update(userId, { password_hash: await hashPassword(next, this.settings.scrypt), password_changed_at: this.#iso(), updated_at: this.#iso() });
    await this.sessions.revokeAllForUser(userId, sessionId);
    await this.#audit.append({ ...this.#who(ctx), action: 'auth.password-change', outcome: 'success', target: { kind: 'user', id: userId } });
  }

  async unlock(id: string, ctx: Ctx): Promise<void> {
    const row = await this.#mustUser(id);
    await this.throttle.reset(accountSubject(row.username));
    await this.#audit.append({ ...this.#who(ctx), action: 'user.unlock', outcome: 'success', target: { kind: 'user', id }, merchantId: row.merchant_id });
  }

  /** Forgets the authenticator and recovery codes; the user enrols again at next login. */
  async resetMfa(id: string, ctx: Ctx): Promise<void> {
    const row = await this.#mustUser(id);
    await this.users.update(id, { totp_secret_enc: null, totp_pending_enc: null, totp_enrolled_at: null, totp_last_step: null, updated_at: this.#iso() });
    await this.users.replaceRecoveryCodes(id, []);
    await this.sessions.revokeAllForUser(id);
    await this.#audit.append({ ...this.#who(ctx), action: 'auth.mfa-reset', outcome: 'success', target: { kind: 'user', id }, merchantId: row.merchant_id });
  }

  /** Housekeeping: expired login sessions (a week after expiry) and idle throttle counters. */
  async purge(): Promise<{ sessions: number; throttle: number }> {
    const sessions = await this.sessions.purgeExpired();
    await this.embedTokens.purgeExpired();
    const throttle = await this.throttle.purgeStale(Math.max(this.settings.accountThrottle.decayMs, this.settings.ipThrottle.decayMs) * 2);
    return { sessions, throttle };
  }

  // --- embedding (issue 7) -------------------------------------------------------------------------------

  /**
   * Mints a one-time token that opens the embedded agent panel as `userId` (an enabled agent; the minter's
   * merchant scope is checked by the route). The integration that mints it vouches for the person at its desk:
   * it has signed them in itself, which is why the exchange asks for no password or TOTP — so only admins and
   * API keys granted `embed-tokens:write` can mint, tokens live at most 5 minutes and serve once.
   */
  async mintEmbedToken(userId: string, ttlS: number, ctx: Ctx): Promise<MintedEmbedToken & { user: User }> {
    const user = rowToUser(await this.#mustUser(userId));
    if (user.role !== 'agent') throw new CardlineError('forbidden', 'the embedded panel is for agents');
    if (user.disabled) throw new CardlineError('forbidden', 'the user is disabled');
    const ttl = Math.min(Math.max(1, Math.floor(ttlS)), EMBED_TOKEN_MAX_TTL_S);
    const minted = await this.embedTokens.create(userId, ttl, ctx.actor.id);
    await this.#audit.append({
      ...this.#who(ctx), action: 'auth.embed-token-mint', outcome: 'success', target: { kind: 'user', id: userId }, merchantId: user.merchantId,
      detail: { embedId: minted.id, ttlSeconds: ttl, expiresAt: minted.expiresAt },
    });
    return { ...minted, user };
  }

  /**
   * The embedded panel's sign-in: a valid, unused, unexpired token becomes a full bearer login session with the
   * console's timeouts (PCI DSS 4.0 req. 8.2.8 idle limit). Every refusal is the same `embed-token-invalid`.
   */
  async exchangeEmbedToken(token: string, ctx: Omit<Ctx, 'actor'>): Promise<{ user: User; session: CreatedSession }> {
    const claim = await this.embedTokens.claim(token);
    const anonymous = { kind: 'anonymous' as const, id: null, name: null };
    if (!claim.ok) {
      await this.#audit.append({ actor: anonymous, action: 'auth.embed-token-exchange', outcome: 'failure', ip: ctx.ip, userAgent: ctx.userAgent, target: { kind: 'embed-token', id: claim.id }, detail: { reason: claim.reason } });
      throw new CardlineError('embed-token-invalid');
    }
    const row = await this.users.byId(claim.userId);
    if (row === null || row.disabled === 1 || row.role !== 'agent') {
      await this.#audit.append({ actor: anonymous, action: 'auth.embed-token-exchange', outcome: 'failure', ip: ctx.ip, userAgent: ctx.userAgent, target: { kind: 'embed-token', id: claim.id }, detail: { reason: 'user-unavailable' } });
      throw new CardlineError('embed-token-invalid');
    }
    const user = rowToUser(row);
    const session = await this.sessions.create(user.id, 'bearer', 'full', this.settings.cookie, ctx);
    await this.users.update(user.id, { last_login_at: this.#iso() });
    await this.#audit.append({
      actor: { kind: 'user', id: user.id, name: user.username }, action: 'auth.embed-token-exchange', outcome: 'success', ip: ctx.ip, userAgent: ctx.userAgent,
      merchantId: user.merchantId, target: { kind: 'login-session', id: session.id }, detail: { embedId: claim.id, via: 'embed' },
    });
    return { user, session };
  }

  async teamMemberIds(teamId: string): Promise<string[]> {
    return this.users.teamMemberIds(teamId);
  }

  // --- login ------------------------------------------------------------------------------------------

  async login(username: string, password: string, kind: SessionKind, ctx: Omit<Ctx, 'actor'>, ttlMs?: number): Promise<LoginResult> {
    const name = loginSubjectName(username);
    const acct = accountSubject(name);
    const ip = ipSubject(ctx.ip ?? 'unknown');
    const locked = Math.max(await this.throttle.lockedFor(acct), await this.throttle.lockedFor(ip));
    const row = await this.users.byUsername(name);
    const actor = row === null ? { kind: 'anonymous' as const, id: null, name: null } : { kind: 'user' as const, id: row.id, name: row.username };
    if (locked > 0) {
      await this.#audit.append({ actor, action: 'auth.login', outcome: 'denied', ip: ctx.ip, userAgent: ctx.userAgent, merchantId: row?.merchant_id ?? null, detail: { reason: 'locked', retryAfterSeconds: Math.ceil(locked / 1000) } });
      throw throttled(locked);
    }
    const ok = await verifyPassword(password, row?.password_hash ?? await this.#dummy());
    if (row === null || !ok || row.disabled === 1) {
      const a = await this.throttle.fail(acct, this.settings.accountThrottle);
      const i = await this.throttle.fail(ip, this.settings.ipThrottle);
      const reason = row === null ? 'unknown-user' : !ok ? 'wrong-password' : 'disabled';
      await this.#audit.append({ actor, action: 'auth.login', outcome: 'failure', ip: ctx.ip, userAgent: ctx.userAgent, merchantId: row?.merchant_id ?? null, detail: { reason, failures: a.failures } });
      for (const [which, st] of [['account', a], ['address', i]] as const) {
        if (st.newlyLocked && st.lockedUntilMs !== null) {
          await this.#audit.append({ actor, action: 'auth.lockout', outcome: 'success', ip: ctx.ip, userAgent: ctx.userAgent, merchantId: row?.merchant_id ?? null, target: { kind: which, id: which === 'account' ? (row?.id ?? null) : ctx.ip }, detail: { failures: st.failures, lockedUntil: new Date(st.lockedUntilMs).toISOString() } });
          this.#log?.warn({ subject: which, failures: st.failures }, 'login locked after repeated failures');
        }
      }
      throw new CardlineError('invalid-credentials');
    }
    await this.throttle.reset(acct);
    if (needsRehash(row.password_hash, this.settings.scrypt)) {
      await this.users.update(row.id, { password_hash: await hashPassword(password, this.settings.scrypt), updated_at: this.#iso() });
    }
    const user = rowToUser(row);
    const stage: LoginStage = user.mfaEnrolled ? 'mfa-pending' : user.mfaRequired ? 'enrolment' : 'full';
    const session = await this.sessions.create(user.id, kind, stage, this.#timeouts(kind, stage, ttlMs), ctx);
    if (stage === 'full') await this.users.update(user.id, { last_login_at: this.#iso() });
    await this.#audit.append({ actor, action: 'auth.login', outcome: 'success', ip: ctx.ip, userAgent: ctx.userAgent, merchantId: user.merchantId, target: { kind: 'login-session', id: session.id }, detail: { stage, via: kind } });
    return { user, stage, session };
  }

  /** Second factor after a password: a TOTP code (replays refused) or a single-use recovery code. */
  async verifyMfa(pending: LoginSessionRow, proof: { code?: string; recoveryCode?: string }, ctx: Omit<Ctx, 'actor'>, ttlMs?: number): Promise<LoginResult> {
    if (pending.stage !== 'mfa-pending') throw new CardlineError('forbidden', 'no MFA step is pending');
    const row = await this.#mustUser(pending.user_id);
    const actor = { kind: 'user' as const, id: row.id, name: row.username };
    const acct = accountSubject(row.username);
    const locked = await this.throttle.lockedFor(acct);
    if (locked > 0) {
      await this.sessions.revoke(pending.id);
      await this.#audit.append({ actor, action: 'auth.mfa-verify', outcome: 'denied', ip: ctx.ip, userAgent: ctx.userAgent, merchantId: row.merchant_id, detail: { reason: 'locked' } });
      throw throttled(locked);
    }
    let method: 'totp' | 'recovery-code' | null = null;
    let failure = 'invalid-code';
    if (proof.code !== undefined && row.totp_secret_enc !== null) {
      const secret = this.#box.open(row.totp_secret_enc, `totp:${row.id}`);
      const step = verifyTotp(secret, proof.code, this.#now());
      secret.fill(0);
      if (step !== null) {
        if (await this.users.claimTotpStep(row.id, step, this.#iso())) method = 'totp';
        else failure = 'replayed-code';
      }
    } else if (proof.recoveryCode !== undefined) {
      const hash = this.#box.mac('recovery-code', normalizeRecoveryCode(proof.recoveryCode));
      if (await this.users.consumeRecoveryCode(row.id, hash, this.#iso())) method = 'recovery-code';
    }
    if (method === null) {
      const a = await this.throttle.fail(acct, this.settings.accountThrottle);
      await this.throttle.fail(ipSubject(ctx.ip ?? 'unknown'), this.settings.ipThrottle);
      await this.#audit.append({ actor, action: 'auth.mfa-verify', outcome: 'failure', ip: ctx.ip, userAgent: ctx.userAgent, merchantId: row.merchant_id, detail: { reason: failure, failures: a.failures } });
      if (a.newlyLocked) {
        await this.sessions.revoke(pending.id);
        await this.#audit.append({ actor, action: 'auth.lockout', outcome: 'success', ip: ctx.ip, userAgent: ctx.userAgent, merchantId: row.merchant_id, target: { kind: 'account', id: row.id }, detail: { failures: a.failures, lockedUntil: new Date(a.lockedUntilMs ?? 0).toISOString() } });
      }
      throw new CardlineError('invalid-mfa-code');
    }
    await this.throttle.reset(acct);
    await this.sessions.revoke(pending.id);
    const kind = pending.kind as SessionKind;
    const session = await this.sessions.create(row.id, kind, 'full', this.#timeouts(kind, 'full', ttlMs), ctx);
    await this.users.update(row.id, { last_login_at: this.#iso() });
    const remaining = method === 'recovery-code' ? await this.users.unusedRecoveryCodes(row.id) : null;
    await this.#audit.append({ actor, action: 'auth.mfa-verify', outcome: 'success', ip: ctx.ip, userAgent: ctx.userAgent, merchantId: row.merchant_id, target: { kind: 'login-session', id: session.id }, detail: { method, backupCodesLeft: remaining } });
    return { user: rowToUser(row), stage: 'full', session };
  }

  async beginEnrolment(userId: string, ctx: Ctx): Promise<Enrolment> {
    const row = await this.#mustUser(userId);
    if (row.totp_secret_enc !== null) throw new CardlineError('mfa-already-enrolled');
    const secret = generateTotpSecret();
    await this.users.update(userId, { totp_pending_enc: this.#box.seal(secret, `totp-pending:${userId}`), updated_at: this.#iso() });
    const uri = otpauthUri(secret, this.settings.issuer, row.username);
    secret.fill(0);
    const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    await this.#audit.append({ ...this.#who(ctx), action: 'auth.mfa-enrol-start', outcome: 'success', target: { kind: 'user', id: userId }, merchantId: row.merchant_id });
    return { secret: new URL(uri).searchParams.get('secret') ?? '', otpauthUri: uri, qrSvgDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  /**
   * The first valid code proves the authenticator works; only then does the seed become the user's factor.
   * Returns the recovery codes (shown once) and, for an enrolment-stage session, the full session replacing it.
   */
  async confirmEnrolment(userId: string, code: string, current: LoginSessionRow | null, ctx: Ctx, ttlMs?: number): Promise<{ recoveryCodes: string[]; session: CreatedSession | null; user: User }> {
    const row = await this.#mustUser(userId);
    if (row.totp_secret_enc !== null) throw new CardlineError('mfa-already-enrolled');
    if (row.totp_pending_enc === null) throw new CardlineError('mfa-not-pending');
    const secret = this.#box.open(row.totp_pending_enc, `totp-pending:${userId}`);
    const step = verifyTotp(secret, code, this.#now());
    if (step === null) {
      secret.fill(0);
      const a = await this.throttle.fail(accountSubject(row.username), this.settings.accountThrottle);
      await this.#audit.append({ ...this.#who(ctx), action: 'auth.mfa-enrol-confirm', outcome: 'failure', target: { kind: 'user', id: userId }, merchantId: row.merchant_id, detail: { failures: a.failures } });
      throw new CardlineError('invalid-mfa-code');
    }
    const now = this.#iso();
    // the confirming code's step counts as used: it cannot be replayed to log in
    await this.users.update(userId, { totp_secret_enc: this.#box.seal(secret, `totp:${userId}`), totp_pending_enc: null, totp_enrolled_at: now, totp_last_step: step, updated_at: now });
    secret.fill(0);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.users.replaceRecoveryCodes(userId, codes.map((c) => ({ id: randomId('rc', 8), code_hash: this.#box.mac('recovery-code', normalizeRecoveryCode(c)), created_at: now })));
    let session: CreatedSession | null = null;
    if (current !== null && current.stage === 'enrolment') {
      await this.sessions.revoke(current.id);
      const kind = current.kind as SessionKind;
      session = await this.sessions.create(userId, kind, 'full', this.#timeouts(kind, 'full', ttlMs), ctx);
      await this.users.update(userId, { last_login_at: now });
    }
    await this.#audit.append({ ...this.#who(ctx), action: 'auth.mfa-enrol-confirm', outcome: 'success', target: { kind: 'user', id: userId }, merchantId: row.merchant_id, detail: { backupCodesIssued: RECOVERY_CODE_COUNT } });
    return { recoveryCodes: codes, session, user: await this.getUser(userId) };
  }

  async logout(session: LoginSessionRow, ctx: Ctx): Promise<void> {
    await this.sessions.revoke(session.id);
    await this.#audit.append({ ...this.#who(ctx), action: 'auth.logout', outcome: 'success', target: { kind: 'login-session', id: session.id } });
  }

  /** The live session and user behind a token, or null (unknown, expired, revoked, disabled user). */
  async resolveToken(token: string): Promise<{ session: LoginSessionRow; user: User } | null> {
    const session = await this.sessions.resolve(token, (r) => this.#timeouts(r.kind as SessionKind, r.stage as LoginStage).idleMs);
    if (session === null) return null;
    const row = await this.users.byId(session.user_id);
    if (row === null || row.disabled === 1) return null;
    return { session, user: rowToUser(row) };
  }

  #timeouts(kind: SessionKind, stage: LoginStage, ttlMs?: number): SessionTimeouts {
    const s = this.settings;
    if (stage === 'mfa-pending') return { idleMs: s.mfaPendingMs, absoluteMs: s.mfaPendingMs };
    if (stage === 'enrolment') return { idleMs: Math.min(s.cookie.idleMs, s.enrolmentMs), absoluteMs: s.enrolmentMs };
    if (kind === 'cookie') return s.cookie;
    const ttl = Math.min(Math.max(60_000, ttlMs ?? s.tokenDefaultTtlMs), s.tokenMaxTtlMs);
    return { idleMs: Math.min(s.tokenIdleMs, ttl), absoluteMs: ttl };
  }

  async #mustUser(id: string): Promise<UserRow> {
    const row = await this.users.byId(id);
    if (row === null) throw new CardlineError('user-not-found');
    return row;
  }

  #who(ctx: Ctx) {
    return { actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent };
  }
}

function throttled(ms: number): CardlineError & { retryAfterSeconds: number } {
  const e = new CardlineError('login-throttled', `retry in ${Math.ceil(ms / 1000)} s`) as CardlineError & { retryAfterSeconds: number };
  e.retryAfterSeconds = Math.ceil(ms / 1000);
  return e;
}
