/**
 * Fresh identifiers: branch (RFC 3261 §8.1.1.7, must start with the magic cookie and be unique across space and
 * time), tags (§19.3, at least 32 bits of randomness) and Call-IDs (§8.1.1.4, globally unique). All from
 * `node:crypto` so they cannot be guessed by an attacker spoofing responses or CANCELs.
 */
import { randomBytes } from 'node:crypto';
import { BRANCH_MAGIC_COOKIE } from './via.ts';

export function newBranch(): string {
  return `${BRANCH_MAGIC_COOKIE}${randomBytes(12).toString('base64url')}`;
}

export function newTag(): string {
  return randomBytes(8).toString('hex');
}

export function newCallId(host?: string): string {
  const id = randomBytes(16).toString('base64url');
  return host ? `${id}@${host}` : id;
}
