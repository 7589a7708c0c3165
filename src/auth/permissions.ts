/**
 * Permissions and roles: least privilege by need to know (PCI DSS 4.0 req. 7.2.1, 7.2.2).
 *
 * Every HTTP route declares exactly one permission; a principal holds a set. Users get their role's set
 * (plus the few self-service permissions of their login stage); API keys get an explicit subset of
 * `SERVICE_GRANTABLE`. No permission anywhere lets anyone read card data: the API has no such route.
 */
export const PERMISSIONS = [
  'sessions:read', // read masked sessions, list them, subscribe to their events (ownership applies to agents/supervisors)
  'sessions:write', // create, set amount, start/re-capture a field, submit, cancel
  'sessions:digits', // feed keypad digits (media layer, IVR; never a person)
  'auth:session', // end one's own login session (every login stage)
  'auth:mfa-verify', // finish a password login with a TOTP or recovery code (the MFA-pending stage only)
  'self', // read one's own profile, change one's own password
  'self:mfa', // enrol a TOTP authenticator (the enrolment stage and full sessions)
  'users:read',
  'users:write',
  'apikeys:read',
  'apikeys:write',
  'audit:read', // query and verify the audit trail
  'reports:read', // billing report (JSON)
  'reports:export', // exports: audit trail and billing CSV/JSON lines (audited)
  'settings:read', // price plans and other settings
  'settings:write',
  'embed-tokens:write', // mint one-time tokens that open the embedded agent panel as an agent (CRM integrations)
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['agent', 'supervisor', 'admin', 'auditor', 'service'] as const;
export type Role = (typeof ROLES)[number];
/** Roles a person can hold (service is for API keys only). */
export const USER_ROLES = ['agent', 'supervisor', 'admin', 'auditor'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** What every fully signed-in user may do regardless of role. */
const SELF: readonly Permission[] = ['auth:session', 'self', 'self:mfa'];

/**
 * The role matrix. `service` lists the most an API key can be granted; each key holds its own subset.
 * - agent: works payment sessions it owns (created by it); never feeds digits (that would mean it heard them).
 * - supervisor: reads its team's sessions (masked like everything else); changes nothing.
 * - admin: users, API keys, settings; reads billing; cannot read the audit trail it could otherwise cover up
 *   (separation of duties, PCI DSS 4.0 req. 10.3.2) and has no session permission at all.
 * - auditor: audit trail and reports, and reads the (non-secret) settings it audits.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  agent: new Set<Permission>(['sessions:read', 'sessions:write', ...SELF]),
  supervisor: new Set<Permission>(['sessions:read', ...SELF]),
  admin: new Set<Permission>(['users:read', 'users:write', 'apikeys:read', 'apikeys:write', 'settings:read', 'settings:write', 'reports:read', 'embed-tokens:write', ...SELF]),
  auditor: new Set<Permission>(['audit:read', 'reports:read', 'reports:export', 'settings:read', ...SELF]),
  service: new Set<Permission>(['sessions:read', 'sessions:write', 'sessions:digits', 'reports:read', 'embed-tokens:write']),
};

/** What an API key may be granted. */
export const SERVICE_GRANTABLE: ReadonlySet<Permission> = ROLE_PERMISSIONS.service;
/** Default grant of a new or migrated API key: the payment-session API (what the interim key could do). */
export const DEFAULT_SERVICE_PERMISSIONS: readonly Permission[] = ['sessions:read', 'sessions:write', 'sessions:digits'];

/** Login stages short of a full session (PCI DSS 4.0 req. 8.4.2: MFA before any access for admin access). */
export type LoginStage = 'full' | 'mfa-pending' | 'enrolment';
export const STAGE_PERMISSIONS: Readonly<Record<Exclude<LoginStage, 'full'>, ReadonlySet<Permission>>> = {
  'mfa-pending': new Set<Permission>(['auth:session', 'auth:mfa-verify']),
  enrolment: new Set<Permission>(['auth:session', 'self', 'self:mfa']),
};

/** Roles for which MFA is mandatory: they cannot get a full session before enrolling. */
export const MFA_MANDATORY_ROLES: ReadonlySet<UserRole> = new Set<UserRole>(['admin', 'supervisor']);

export function isPermission(s: string): s is Permission {
  return (PERMISSIONS as readonly string[]).includes(s);
}

export function isUserRole(s: string): s is UserRole {
  return (USER_ROLES as readonly string[]).includes(s);
}

/** The permissions of a user session at a stage. */
export function permissionsFor(role: UserRole, stage: LoginStage): ReadonlySet<Permission> {
  return stage === 'full' ? ROLE_PERMISSIONS[role] : STAGE_PERMISSIONS[stage];
}
