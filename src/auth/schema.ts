/**
 * Row shapes of the identity tables (migration `0002-auth-audit-billing` in src/store/migrations.ts).
 * No column holds a usable secret: see the migration's comment for what each hash or seal is.
 */
type Iso = string;

export interface UsersTable {
  id: string;
  /** normalised: trimmed, lower case (NFKC) */
  username: string;
  display_name: string | null;
  email: string | null;
  role: string;
  merchant_id: string | null;
  team_id: string | null;
  /** `scrypt$…` PHC-like string (password-hash.ts) */
  password_hash: string;
  password_changed_at: Iso;
  mfa_required: number;
  /** AES-256-GCM sealed TOTP seed (secret-box.ts); null until enrolment is confirmed */
  totp_secret_enc: string | null;
  /** sealed seed of an enrolment not yet confirmed by a first valid code */
  totp_pending_enc: string | null;
  totp_enrolled_at: Iso | null;
  /** last accepted RFC 6238 time step: a code for this step or earlier is a replay */
  totp_last_step: number | null;
  disabled: number;
  last_login_at: Iso | null;
  created_at: Iso;
  updated_at: Iso;
  /** the agent's SIP identity, canonical `sip:user@host` (migration 0004); null = none */
  sip_uri: string | null;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  /** HMAC-SHA256(pepper, normalised code), hex */
  code_hash: string;
  used_at: Iso | null;
  created_at: Iso;
}

export interface AuthSessionsTable {
  id: string;
  /** SHA-256 of the session token, hex */
  token_hash: string;
  user_id: string;
  kind: string;
  stage: string;
  /** SHA-256 of the CSRF token (cookie sessions) */
  csrf_hash: string | null;
  created_at: Iso;
  last_seen_at: Iso;
  idle_expires_at: Iso;
  absolute_expires_at: Iso;
  revoked_at: Iso | null;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** SHA-256 of the key, hex */
  key_hash: string;
  /** the key's first characters (`cl_` + 4), to recognise it in a list; not enough to guess the rest */
  prefix: string;
  permissions_json: string;
  merchant_id: string | null;
  created_by: string | null;
  created_at: Iso;
  /** set when rotated: the old key keeps working until then (grace period) */
  expires_at: Iso | null;
  revoked_at: Iso | null;
  last_used_at: Iso | null;
  rotated_from: string | null;
  replaced_by: string | null;
}

export interface AuthThrottleTable {
  /** `acct:<normalised username>` or `ip:<address>` */
  subject: string;
  failures: number;
  last_failure_at: Iso;
  locked_until: Iso | null;
}

/** One-time tokens that open the embedded agent panel (migration 0004). */
export interface EmbedTokensTable {
  id: string;
  /** SHA-256 of the token, hex */
  token_hash: string;
  user_id: string;
  /** who minted it: `usr_…` or `key:…` */
  created_by: string | null;
  created_at: Iso;
  expires_at: Iso;
  /** set by the one exchange that succeeds */
  used_at: Iso | null;
}

export interface AuthDatabase {
  users: UsersTable;
  recovery_codes: RecoveryCodesTable;
  auth_sessions: AuthSessionsTable;
  api_keys: ApiKeysTable;
  auth_throttle: AuthThrottleTable;
  embed_tokens: EmbedTokensTable;
}
