import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { SessionEvent, SessionId } from '../payments/types.ts';
import { TERMINAL_STATES, type EventHub } from './event-hub.ts';
import { maskedEventJson } from './masked-event.ts';
import { backoffDelay, type PostOutcome, postSigned, safeHost } from './signed-delivery.ts';

/**
 * Status callbacks: each masked event of a session with a callback URL is POSTed as JSON, signed
 * (see callback-signature.ts; the MAC covers exactly the bytes sent), at least once, in order per session.
 *
 * - Retries with exponential back-off and jitter on network errors, timeouts, 408, 425, 429 and 5xx
 *   (honouring Retry-After up to the back-off cap); other statuses and redirects are final (signed-delivery.ts).
 * - Bounded: at most `maxQueue` deliveries wait in total. When full, a session's oldest waiting delivery is
 *   dropped in favour of its newest (each event carries the full state), else the new one is dropped.
 * - `Cardline-Delivery` is stable across retries of one event so the receiver can de-duplicate.
 * - Logs carry the callback host only: a URL path or query may hold a merchant's own token.
 */
export interface CallbackDispatcherOptions {
  secret: string;
  logger: Logger;
  /** accept http:// URLs (development); default false */
  allowHttp?: boolean;
  maxQueue?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  concurrency?: number;
  fetch?: typeof fetch;
  /** 0..1, for jitter; default Math.random */
  random?: () => number;
  userAgent?: string;
}

export interface CallbackStats {
  registered: number;
  queued: number;
  inFlight: number;
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
}

interface Delivery {
  id: string;
  sessionId: SessionId;
  url: string;
  eventType: string;
  sequence: number;
  body: string;
  bodyBytes: Uint8Array;
  attempts: number;
  terminal: boolean;
}

interface SessionLane {
  url: string | null;
  queue: Delivery[];
  busy: boolean;
  timer: NodeJS.Timeout | null;
  ended: boolean;
}

const MAX_URL_LENGTH = 2048;

/** Checks a callback URL: http(s) only (https unless allowed), no credentials, no fragment, bounded length. */
export function validateCallbackUrl(raw: string, allowHttp: boolean): URL {
  if (raw.length > MAX_URL_LENGTH) throw new CardlineError('invalid-callback-url', `longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CardlineError('invalid-callback-url', 'not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new CardlineError('invalid-callback-url', allowHttp ? 'scheme must be http or https' : 'scheme must be https');
  }
  if (url.username !== '' || url.password !== '') throw new CardlineError('invalid-callback-url', 'credentials in the URL are not allowed');
  if (url.hash !== '') throw new CardlineError('invalid-callback-url', 'a fragment is not allowed');
  if (url.hostname === '') throw new CardlineError('invalid-callback-url', 'no host');
  return url;
}

export class CallbackDispatcher {
  readonly #o: Required<Omit<CallbackDispatcherOptions, 'logger' | 'secret'>>;
  readonly #secret: string;
  readonly #log: Logger;
  readonly #lanes = new Map<SessionId, SessionLane>();
  readonly #inflight = new Set<AbortController>();
  #idleWaiters: (() => void)[] = [];
  #queued = 0;
  #active = 0;
  #closed = false;
  #unsubscribe: (() => void) | null = null;
  readonly #stats = { delivered: 0, failed: 0, dropped: 0, retries: 0 };

  constructor(opts: CallbackDispatcherOptions) {
    if (opts.secret.length < 16) throw new CardlineError('invalid-config', 'callback secret must be at least 16 characters');
    this.#secret = opts.secret;
    this.#log = opts.logger;
    this.#o = {
      allowHttp: opts.allowHttp ?? false,
      maxQueue: opts.maxQueue ?? 10_000,
      maxAttempts: opts.maxAttempts ?? 6,
      timeoutMs: opts.timeoutMs ?? 5_000,
      backoffMs: opts.backoffMs ?? 500,
      maxBackoffMs: opts.maxBackoffMs ?? 60_000,
      concurrency: opts.concurrency ?? 8,
      fetch: opts.fetch ?? globalThis.fetch,
      random: opts.random ?? Math.random,
      userAgent: opts.userAgent ?? 'cardline-callbacks/1',
    };
  }

  /** Sets the callback URL of a session (validated); later events of that session are delivered there. */
  register(sessionId: SessionId, rawUrl: string): void {
    const url = validateCallbackUrl(rawUrl, this.#o.allowHttp).toString();
    const lane = this.#lane(sessionId);
    lane.url = url;
    lane.ended = false;
  }

  /** Forgets a session's callback URL and drops its waiting deliveries (the one in flight completes). */
  unregister(sessionId: SessionId): void {
    const lane = this.#lanes.get(sessionId);
    if (lane === undefined) return;
    const keep = lane.busy ? 1 : 0;
    this.#queued -= Math.max(0, lane.queue.length - keep);
    lane.queue.length = Math.min(lane.queue.length, keep);
    if (lane.timer !== null) clearTimeout(lane.timer);
    lane.timer = null;
    lane.url = null;
    lane.ended = true;
    if (!lane.busy) this.#lanes.delete(sessionId);
    this.#notifyIdle();
  }

  urlFor(sessionId: SessionId): string | null {
    return this.#lanes.get(sessionId)?.url ?? null;
  }

  /** Delivers every hub event of registered sessions. Returns a detach function. */
  attach(hub: EventHub): () => void {
    this.#unsubscribe?.();
    const off = hub.onEvent((ev) => { this.enqueue(ev); });
    this.#unsubscribe = off;
    return off;
  }

  /** Queues an event for delivery; false if its session has no callback URL or the dispatcher is closed. */
  enqueue(event: SessionEvent): boolean {
    if (this.#closed) return false;
    const lane = this.#lanes.get(event.sessionId);
    if (lane === undefined || lane.url === null || lane.ended) return false;
    let body: string;
    try {
      body = maskedEventJson(event);
    } catch (err) {
      this.#log.error({ err, sessionId: event.sessionId }, 'status callback: event refused by schema');
      return false;
    }
    const terminal = TERMINAL_STATES.has(event.session.state);
    if (terminal) lane.ended = true;
    if (this.#queued >= this.#o.maxQueue) {
      // the newest event supersedes this session's oldest waiting one (not the one being sent)
      const victimIndex = lane.busy || lane.timer !== null ? 1 : 0;
      if (lane.queue.length > victimIndex) {
        lane.queue.splice(victimIndex, 1);
        this.#queued--;
      } else {
        this.#stats.dropped++;
        this.#log.warn({ sessionId: event.sessionId, sequence: event.sequence }, 'status callback queue full: event dropped');
        return false;
      }
      this.#stats.dropped++;
      this.#log.warn({ sessionId: event.sessionId }, 'status callback queue full: superseded event dropped');
    }
    lane.queue.push({
      id: randomUUID(), sessionId: event.sessionId, url: lane.url, eventType: event.type, sequence: event.sequence, body, bodyBytes: Buffer.from(body, 'utf8'), attempts: 0, terminal,
    });
    this.#queued++;
    this.#pump();
    return true;
  }

  stats(): CallbackStats {
    return { registered: [...this.#lanes.values()].filter((l) => l.url !== null).length, queued: this.#queued, inFlight: this.#active, ...this.#stats };
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#queued === 0 && this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => { this.#idleWaiters.push(resolve); });
  }

  /** Stops accepting events, waits up to `graceMs` for pending deliveries, then aborts the rest. Idempotent. */
  async close(graceMs = 2_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    for (const lane of this.#lanes.values()) {
      if (lane.timer !== null) clearTimeout(lane.timer);
      lane.timer = null;
      this.#queued -= lane.queue.length - (lane.busy ? 1 : 0);
      this.#stats.dropped += lane.queue.length - (lane.busy ? 1 : 0);
      lane.queue.length = lane.busy ? 1 : 0;
    }
    for (const c of this.#inflight) c.abort();
    this.#queued = Math.max(0, this.#queued);
    this.#notifyIdle();
  }

  #lane(sessionId: SessionId): SessionLane {
    let lane = this.#lanes.get(sessionId);
    if (lane === undefined) {
      lane = { url: null, queue: [], busy: false, timer: null, ended: false };
      this.#lanes.set(sessionId, lane);
    }
    return lane;
  }

  #pump(): void {
    if (this.#closed && this.#queued === 0) return;
    for (const [sessionId, lane] of this.#lanes) {
      if (this.#active >= this.#o.concurrency) return;
      if (lane.busy || lane.timer !== null || lane.queue.length === 0) continue;
      const d = lane.queue[0];
      if (d === undefined) continue;
      lane.busy = true;
      this.#active++;
      void this.#attempt(sessionId, lane, d);
    }
  }

  async #attempt(sessionId: SessionId, lane: SessionLane, d: Delivery): Promise<void> {
    d.attempts++;
    const outcome = await this.#send(d);
    lane.busy = false;
    this.#active--;
    const host = safeHost(d.url);
    if (outcome.ok) {
      this.#stats.delivered++;
      this.#finish(sessionId, lane, d);
      this.#log.debug({ sessionId, delivery: d.id, attempt: d.attempts, status: outcome.status, host }, 'status callback delivered');
    } else if (outcome.retry && d.attempts < this.#o.maxAttempts && !this.#closed) {
      this.#stats.retries++;
      const wait = this.#backoff(d.attempts, outcome.retryAfterMs);
      this.#log.warn({ sessionId, delivery: d.id, attempt: d.attempts, status: outcome.status, reason: outcome.reason, host, retryInMs: wait }, 'status callback failed, will retry');
      lane.timer = setTimeout(() => {
        lane.timer = null;
        this.#pump();
      }, wait);
      lane.timer.unref();
    } else {
      this.#stats.failed++;
      this.#finish(sessionId, lane, d);
      this.#log.warn({ sessionId, delivery: d.id, attempt: d.attempts, status: outcome.status, reason: outcome.reason, host }, 'status callback given up');
    }
    this.#pump();
    this.#notifyIdle();
  }

  #finish(sessionId: SessionId, lane: SessionLane, d: Delivery): void {
    lane.queue.shift();
    this.#queued--;
    // after the final event of a session its registration is forgotten
    if (lane.queue.length === 0 && lane.ended && (d.terminal || lane.url === null)) this.#lanes.delete(sessionId);
  }

  #backoff(attempt: number, retryAfterMs: number | null): number {
    return backoffDelay(attempt, retryAfterMs, this.#o);
  }

  async #send(d: Delivery): Promise<PostOutcome> {
    const ctl = new AbortController();
    this.#inflight.add(ctl);
    try {
      return await postSigned({
        url: d.url, secret: this.#secret, body: d.bodyBytes, timeoutMs: this.#o.timeoutMs, userAgent: this.#o.userAgent, fetch: this.#o.fetch,
        signal: ctl.signal, headers: { 'Cardline-Delivery': d.id, 'Cardline-Event': d.eventType, 'Cardline-Attempt': String(d.attempts) },
      });
    } finally {
      this.#inflight.delete(ctl);
    }
  }

  #notifyIdle(): void {
    if (this.#queued !== 0 || this.#active !== 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
