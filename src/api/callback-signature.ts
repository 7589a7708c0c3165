import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Status-callback signatures, for Cardline (signing) and for merchants (verifying).
 *
 *   Cardline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>
 *
 * The timestamp is inside the MAC so a captured delivery cannot be replayed outside the tolerance window;
 * several `v1=` entries may appear (secret rotation) and any one matching is enough. Comparison is
 * constant-time. Verify over the raw request bytes, before any JSON parsing.
 */
export const SIGNATURE_HEADER = 'Cardline-Signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function computeSignature(secret: string, timestamp: number, payload: string | Uint8Array): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`, 'utf8');
  mac.update(payload);
  return mac.digest('hex');
}

export function signatureHeader(secret: string, payload: string | Uint8Array, timestamp: number = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, payload)}`;
}

export interface VerifyOptions {
  /** the raw body exactly as received */
  payload: string | Uint8Array;
  /** the `Cardline-Signature` header value */
  header: string | string[] | undefined;
  secret: string;
  /** default 300 s; 0 disables the timestamp check */
  toleranceSeconds?: number;
  /** unix seconds; default now */
  now?: number;
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'missing-header' | 'malformed-header' | 'timestamp-out-of-tolerance' | 'no-matching-signature' };

/** Verifies a status callback; never throws on bad input. */
export function verifyCallbackSignature(opts: VerifyOptions): VerifyResult {
  const raw = Array.isArray(opts.header) ? opts.header[0] : opts.header;
  if (raw === undefined || raw === '') return { ok: false, reason: 'missing-header' };
  if (raw.length > 4096) return { ok: false, reason: 'malformed-header' };
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^[0-9]{1,12}$/.test(v)) timestamp = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) candidates.push(v);
  }
  if (timestamp === null || candidates.length === 0) return { ok: false, reason: 'malformed-header' };
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (tolerance > 0 && Math.abs(now - timestamp) > tolerance) return { ok: false, reason: 'timestamp-out-of-tolerance' };
  const expected = Buffer.from(computeSignature(opts.secret, timestamp, opts.payload), 'hex');
  let matched = false;
  for (const c of candidates) {
    if (timingSafeEqual(expected, Buffer.from(c, 'hex'))) matched = true;
  }
  return matched ? { ok: true, timestamp } : { ok: false, reason: 'no-matching-signature' };
}
