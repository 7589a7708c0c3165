import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CardlineError } from '../errors/index.ts';

/**
 * TOTP (RFC 6238) over HOTP (RFC 4226) with HMAC-SHA1, 6 digits, 30-second steps: the profile every
 * authenticator app implements (Google Authenticator's Key Uri Format ignores other algorithms on many apps).
 * Verification accepts the current step ±1 (RFC 6238 §5.2: "at most one time step" of network delay and clock
 * drift) and reports which step matched, so the caller can refuse a replay of that step or any earlier one
 * (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the same OTP").
 */
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** 160-bit seeds: RFC 4226 §4 R6 recommends the HMAC output length. */
export const TOTP_SECRET_BYTES = 20;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32, without padding (as otpauth URIs carry it). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** Accepts upper/lower case, spaces and `=` padding; anything else is a ParseError-like `usage` error. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  if (clean.length === 0 || clean.length > 1024) throw new CardlineError('usage', 'base32 text must be 1-1024 characters');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const i = B32.indexOf(ch);
    if (i < 0) throw new CardlineError('usage', 'not base32');
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function generateTotpSecret(): Buffer {
  return randomBytes(TOTP_SECRET_BYTES);
}

/** RFC 4226 §5.3: HMAC-SHA-1 of the 8-byte big-endian counter, dynamic truncation, mod 10^digits. */
export function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new CardlineError('usage', 'HOTP counter must be a non-negative integer');
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(msg).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const bin = (((mac[offset] ?? 0) & 0x7f) << 24) | ((mac[offset + 1] ?? 0) << 16) | ((mac[offset + 2] ?? 0) << 8) | (mac[offset + 3] ?? 0);
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 §4: T = floor((now - T0) / X), T0 = 0. */
export function totpStep(nowMs: number, period = TOTP_PERIOD_SECONDS): number {
  return Math.floor(nowMs / 1000 / period);
}

export function totp(secret: Uint8Array, nowMs: number, digits = TOTP_DIGITS): string {
  return hotp(secret, totpStep(nowMs), digits);
}

/**
 * The matching step within ±window of now, or null. Every candidate is computed and compared in constant time
 * (no early exit), so timing does not reveal which step matched.
 */
export function verifyTotp(secret: Uint8Array, code: string, nowMs: number, window = 1): number | null {
  if (!/^[0-9]{6}$/.test(code)) return null;
  const now = totpStep(nowMs);
  const given = Buffer.from(code, 'utf8');
  let matched: number | null = null;
  for (let d = -window; d <= window; d++) {
    const step = now + d;
    if (step < 0) continue;
    if (timingSafeEqual(Buffer.from(hotp(secret, step), 'utf8'), given) && matched === null) matched = step;
  }
  return matched;
}

/**
 * `otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`
 * (Key Uri Format, github.com/google/google-authenticator/wiki/Key-Uri-Format).
 */
export function otpauthUri(secret: Uint8Array, issuer: string, account: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const q = new URLSearchParams({ secret: base32Encode(secret), issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_PERIOD_SECONDS) });
  return `otpauth://totp/${label}?${q.toString()}`;
}
