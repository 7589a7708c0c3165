/**
 * Identity and access (issue 5): users, passwords, TOTP MFA, login sessions, API keys, roles. Import from here only.
 *
 *   const security = await openSecurity({ dbPath, dataDir });
 *   const app = await buildServer({ ..., security });      // cookie + bearer sessions, API keys, role matrix
 */
export {
  PERMISSIONS, ROLES, USER_ROLES, ROLE_PERMISSIONS, SERVICE_GRANTABLE, DEFAULT_SERVICE_PERMISSIONS, STAGE_PERMISSIONS, MFA_MANDATORY_ROLES,
  isPermission, isUserRole, permissionsFor,
  type Permission, type Role, type UserRole, type LoginStage,
} from './permissions.ts';
export {
  AuthService, DEFAULT_AUTH_SETTINGS, RECOVERY_CODE_COUNT,
  type AuthSettings, type Ctx, type Enrolment, type LoginResult, type NewUser, type UserPatch,
} from './auth-service.ts';
export { ApiKeyService, API_KEY_PREFIX, type ApiKeyInfo, type AuthenticatedKey, type IssuedApiKey } from './api-keys.ts';
export { LoginSessions, type CreatedSession, type LoginSessionRow, type SessionKind, type SessionTimeouts } from './login-sessions.ts';
export { checkSipIdentity, normalizeUsername, rowToUser, UserRepository, type User, type UserFilter } from './users.ts';
export { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword, validateScryptParams, type ScryptParams } from './password-hash.ts';
export { assertPasswordPolicy, commonPasswords, passwordProblems, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, type PasswordContext, type PolicyReason } from './password-policy.ts';
export { base32Decode, base32Encode, generateTotpSecret, hotp, otpauthUri, totp, totpStep, verifyTotp, TOTP_DIGITS, TOTP_PERIOD_SECONDS } from './totp.ts';
export { ACCOUNT_THROTTLE, IP_THROTTLE, LoginThrottle, lockDurationMs, type ThrottlePolicy } from './throttle.ts';
export { SecretBox } from './secret-box.ts';
export { ensureKeyFile } from './key-file.ts';
export {
  CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, RoleAuthorizer, SecurityAuthenticator, installSessionListScope, ownerScope, userPrincipal, type OwnerScope,
} from './http-auth.ts';
export { AUTH_KEY_FILE, openSecurity, type CookieSecure, type Security, type SecurityOptions } from './security.ts';
export { openSecurityDb, type SecurityDatabase, type SecurityDb } from './security-db.ts';
export { SESSION_TOKEN_PREFIX, CSRF_TOKEN_PREFIX, sha256Hex } from './tokens.ts';
export { bootstrapApiKeys, securityOptionsFromConfig, type ApiKeyBootstrapResult } from './bootstrap.ts';
