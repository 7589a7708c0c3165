import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signature of the webhook connector's requests, in the scheme Stripe uses for its webhooks:
 *
 *   Cardline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>
 *
 * The timestamp is inside the MAC, so a captured request cannot be replayed after the tolerance window;
 * several `v1=` entries may appear during a secret rotation. Merchants verify with `verifyWebhookSignature`
 * (or the same ten lines in their language): compare in constant time (house style 11), reject stale `t`.
 */
export const SIGNATURE_HEADER = 'cardline-signature';
export const DEFAULT_TOLERANCE_SEC = 300;

export function computeSignature(secret: string, timestampSec: number, body: Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`, 'utf8').update(body).digest('hex');
}

export function signatureHeader(secret: string, timestampSec: number, body: Uint8Array): string {
  return `t=${timestampSec},v1=${computeSignature(secret, timestampSec, body)}`;
}

export interface VerifyOptions {
  /** the header value as received */
  header: string | undefined;
  /** the raw request body, byte for byte */
  body: Uint8Array | string;
  /** one secret, or several during a rotation */
  secret: string | readonly string[];
  toleranceSec?: number;
  /** current time in unix seconds (default: now) */
  nowSec?: number;
}

export type VerifyResult = { ok: true; timestampSec: number } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export function verifyWebhookSignature(o: VerifyOptions): VerifyResult {
  if (!o.header) return { ok: false, reason: 'missing' };
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of o.header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (t === undefined || v1.length === 0) return { ok: false, reason: 'malformed' };
  const now = o.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (o.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return { ok: false, reason: 'stale' };
  const body = typeof o.body === 'string' ? Buffer.from(o.body, 'utf8') : o.body;
  const secrets = typeof o.secret === 'string' ? [o.secret] : o.secret;
  let match = false;
  for (const s of secrets) {
    const expected = Buffer.from(computeSignature(s, t, body), 'hex');
    for (const candidate of v1) {
      // evaluate every pair: no early exit that would time which secret matched
      if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) match = true;
    }
  }
  return match ? { ok: true, timestampSec: t } : { ok: false, reason: 'mismatch' };
}
