import { readFileSync } from 'node:fs';
import { CardlineError } from '../errors/index.ts';

/**
 * The password policy (PCI DSS 4.0 req. 8.3.6: at least 12 characters; NIST SP 800-63B §5.1.1.2: no composition
 * rules, but refuse values from breach corpora, dictionary words, repetitive or sequential characters, and
 * context-specific words such as the username).
 *
 * Checks, each with a stable reason code (shown to the user; the password itself never is):
 *  - `too-short` / `too-long`: 12-128 characters (Unicode code points after NFKC; long passphrases welcome)
 *  - `common`: in the shipped deny list (data/common-passwords.txt), directly or once leetspeak is undone and
 *    the digits and symbols bolted on either end are stripped ("P@ssw0rd2024!" → "password")
 *  - `contains-username`: contains the username, the e-mail's local part, or a part of the display name
 *  - `repetitive`: a character four times in a row, fewer than five distinct characters, or one short chunk
 *    repeated ("abcabcabcabc"), or a straight run like "1234567890ab" / "abcdefghijkl"
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 128;

export type PolicyReason = 'too-short' | 'too-long' | 'common' | 'contains-username' | 'repetitive';

export interface PasswordContext {
  username?: string | null;
  email?: string | null;
  displayName?: string | null;
}

let denyList: ReadonlySet<string> | null = null;

/** The shipped deny list, loaded once. */
export function commonPasswords(): ReadonlySet<string> {
  if (denyList === null) {
    const text = readFileSync(new URL('./data/common-passwords.txt', import.meta.url), 'utf8');
    denyList = new Set(text.split('\n').map((l) => l.trim().toLowerCase()).filter((l) => l !== '' && !l.startsWith('#')));
  }
  return denyList;
}

const LEET: Readonly<Record<string, string>> = { '@': 'a', '4': 'a', '8': 'b', '(': 'c', '3': 'e', '6': 'g', '1': 'i', '!': 'i', '|': 'l', '0': 'o', '$': 's', '5': 's', '7': 't', '+': 't', '2': 'z' };

function deLeet(s: string): string {
  return [...s].map((c) => LEET[c] ?? c).join('');
}

function stripDecorations(s: string): string {
  return s.replace(/^[^a-z]+/, '').replace(/[^a-z]+$/, '');
}

function isCommon(pw: string): boolean {
  const list = commonPasswords();
  const lower = pw.toLowerCase();
  if (list.has(lower)) return true;
  const stripped = stripDecorations(lower);
  const candidates = new Set<string>([lower.replace(/[\s_.-]+/g, ''), stripped, deLeet(stripped), deLeet(lower), stripDecorations(deLeet(lower))]);
  for (const c of candidates) {
    if (c.length >= 3 && list.has(c)) return true;
    // a listed word said twice ("dragondragon") or with a separator ("monkey-monkey")
    const half = c.length / 2;
    if (Number.isInteger(half) && c.slice(0, half) === c.slice(half) && list.has(c.slice(0, half))) return true;
  }
  return false;
}

function isRepetitive(pw: string): boolean {
  const chars = [...pw];
  if (/(.)\1{3,}/u.test(pw)) return true;
  if (new Set(chars.map((c) => c.toLowerCase())).size < 5) return true;
  for (let n = 1; n <= chars.length / 3; n++) {
    const chunk = chars.slice(0, n).join('');
    if (chunk.repeat(Math.ceil(chars.length / n)).startsWith(pw) && chars.length % n === 0) return true;
  }
  // a single ascending or descending run of code points over most of the password
  let longest = 1;
  let run = 1;
  let dir = 0;
  for (let i = 1; i < chars.length; i++) {
    const d = (chars[i]?.toLowerCase().codePointAt(0) ?? 0) - (chars[i - 1]?.toLowerCase().codePointAt(0) ?? 0);
    if ((d === 1 || d === -1) && (dir === 0 || d === dir)) { run++; dir = d; } else { run = 1; dir = 0; }
    longest = Math.max(longest, run);
  }
  return longest >= Math.max(8, chars.length - 2);
}

function containsContext(pw: string, ctx: PasswordContext): boolean {
  const lower = pw.toLowerCase();
  const parts: string[] = [];
  if (ctx.username) parts.push(ctx.username.toLowerCase());
  if (ctx.email) {
    const local = ctx.email.toLowerCase().split('@')[0] ?? '';
    parts.push(local, ...local.split(/[._+-]+/));
  }
  if (ctx.displayName) parts.push(...ctx.displayName.toLowerCase().split(/\s+/));
  return parts.some((p) => p.length >= 4 && (lower.includes(p) || deLeet(lower).includes(p)));
}

/** Every reason the password is refused (empty = acceptable). */
export function passwordProblems(password: string, ctx: PasswordContext = {}): PolicyReason[] {
  const pw = password.normalize('NFKC');
  const length = [...pw].length;
  const out: PolicyReason[] = [];
  if (length < MIN_PASSWORD_LENGTH) out.push('too-short');
  if (length > MAX_PASSWORD_LENGTH) out.push('too-long');
  if (length > MAX_PASSWORD_LENGTH) return out;
  if (isCommon(pw)) out.push('common');
  if (containsContext(pw, ctx)) out.push('contains-username');
  if (isRepetitive(pw)) out.push('repetitive');
  return out;
}

const EXPLAIN: Readonly<Record<PolicyReason, string>> = {
  'too-short': `shorter than ${MIN_PASSWORD_LENGTH} characters`,
  'too-long': `longer than ${MAX_PASSWORD_LENGTH} characters`,
  common: 'a common or breached password (or one with digits and symbols added)',
  'contains-username': 'contains the username, e-mail or name',
  repetitive: 'too repetitive or sequential',
};

/** Throws `weak-password` naming the reasons (never the password). */
export function assertPasswordPolicy(password: string, ctx: PasswordContext = {}): void {
  const problems = passwordProblems(password, ctx);
  if (problems.length > 0) {
    throw new CardlineError('weak-password', problems.map((p) => EXPLAIN[p]).join('; '));
  }
}
