import { createHash, randomBytes } from 'node:crypto';

/**
 * Bearer secrets: 256 random bits, base64url, with a prefix that says what they are (so a leaked one is easy
 * to recognise in a scanner and to route: `cl_` API key, `cls_` login session, `clc_` CSRF token).
 * Only SHA-256 of a token is stored: with 256 bits of entropy a fast hash leaves nothing to brute-force.
 */
export const SESSION_TOKEN_PREFIX = 'cls_';
export const CSRF_TOKEN_PREFIX = 'clc_';

export function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Short random ids for rows (not secrets). */
export function randomId(prefix: string, bytes = 9): string {
  return `${prefix}_${randomBytes(bytes).toString('hex')}`;
}
