/**
 * One signed HTTP POST and the retry rules shared by every outgoing callback (payment-session status callbacks,
 * recorder pause/resume webhooks): the body is signed exactly as sent (callback-signature.ts,
 * `Cardline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`), a fresh timestamp per attempt.
 *
 * - Retryable: network errors, timeouts, 408, 425, 429 and 5xx (Retry-After honoured up to the back-off cap);
 *   other statuses and redirects are final (redirects are never followed: the signature names one receiver).
 * - Back-off: exponential from `backoffMs`, capped at `maxBackoffMs`, with "equal jitter" (half fixed, half random).
 * - Nothing here logs: callers log the host only (a URL path or query may hold a merchant's own token).
 */
import { isIP } from 'node:net';
import { SIGNATURE_HEADER, signatureHeader } from './callback-signature.ts';

export interface SignedPost {
  url: string;
  secret: string;
  body: Uint8Array;
  /** Extra headers (event name, delivery id, attempt). */
  headers: Record<string, string>;
  timeoutMs: number;
  userAgent: string;
  fetch: typeof fetch;
  /** Aborts the request (shutdown). */
  signal?: AbortSignal;
}

export interface PostOutcome {
  ok: boolean;
  retry: boolean;
  status: number | null;
  reason: string;
  retryAfterMs: number | null;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** POSTs `body` as JSON, signed; never throws. */
export async function postSigned(p: SignedPost): Promise<PostOutcome> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error('timeout')), p.timeoutMs);
  const onAbort = () => ctl.abort(new Error('aborted'));
  p.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await p.fetch(p.url, {
      method: 'POST',
      redirect: 'manual',
      signal: ctl.signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': p.userAgent,
        [SIGNATURE_HEADER]: signatureHeader(p.secret, Math.floor(Date.now() / 1000), p.body),
        ...p.headers,
      },
      body: p.body,
    });
    // the body is not needed; release the connection
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, retry: false, status: res.status, reason: 'ok', retryAfterMs: null };
    return {
      ok: false,
      retry: RETRYABLE_STATUS.has(res.status),
      status: res.status,
      reason: res.status >= 300 && res.status < 400 ? 'redirect-not-followed' : 'http-status',
      retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
    };
  } catch (err) {
    const timedOut = ctl.signal.aborted;
    return { ok: false, retry: true, status: null, reason: timedOut ? 'timeout' : errorKind(err), retryAfterMs: null };
  } finally {
    clearTimeout(timer);
    p.signal?.removeEventListener('abort', onAbort);
  }
}

/** Wait before attempt `attempt + 1` (attempt counts from 1). `random` is 0..1. */
export function backoffDelay(attempt: number, retryAfter: number | null, o: { backoffMs: number; maxBackoffMs: number; random: () => number }): number {
  const exp = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** (attempt - 1));
  const jittered = exp / 2 + (exp / 2) * o.random();
  return Math.round(Math.min(o.maxBackoffMs, Math.max(jittered, retryAfter ?? 0)));
}

/** The host (and port) of a URL, for logs. */
export function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return isIP(u.hostname) === 6 ? `[${u.hostname}]:${u.port}` : u.host;
  } catch {
    return '(invalid)';
  }
}

function retryAfterMs(v: string | null): number | null {
  if (v === null) return null;
  if (/^[0-9]{1,6}$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - Date.now());
}

function errorKind(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : 'network-error';
}
