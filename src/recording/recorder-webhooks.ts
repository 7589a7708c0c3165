/**
 * Pause/resume webhooks for EXTERNAL call recorders (config `gateway.recorderWebhooks: [{ url, secret }]`): on every
 * secure-mode change of every call, each configured recorder gets a signed POST, so it can stop recording before the
 * caller starts typing card data and start again after (PCI DSS 4.0 req. 3.3.1: no sensitive authentication data
 * in recordings, "pause and resume").
 *
 *   POST <url>
 *   Content-Type: application/json
 *   Cardline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>   (callback-signature.ts)
 *   Cardline-Event: recording.pause | recording.resume
 *   Cardline-Delivery: <uuid, the same on every retry of one event>
 *   Cardline-Attempt: 1, 2, …
 *
 *   { "type": "recording.pause", "id": "<delivery uuid>", "callId": "<Cardline call id>", "sipCallId": "<Call-ID>",
 *     "sequence": 1, "at": "2026-11-25T01:02:03.456Z", "atMs": 1795568523456, "reason": "api" }
 *
 * `reason` is what turned secure mode on/off: `api` (bound payment session), `trigger` (agent in-band sequence),
 * `policy` (every call masked), `session-ended`, `call-ended` (a resume because the call ended while paused).
 * `sequence` counts this call's events from 1 (a receiver can order and de-duplicate). The payload is built from
 * these fields only: no digit, no card data, no caller number.
 *
 * Delivery: in order per recorder (a resume never overtakes its pause), each event retried with exponential
 * back-off (signed-delivery.ts: network errors, timeouts, 408/425/429/5xx) up to `maxAttempts`, then given up and
 * counted. Receivers verify with `verifyCallbackSignature` over the raw bytes (constant time, 300 s tolerance).
 */
import { randomUUID } from 'node:crypto';
import { backoffDelay, postSigned, safeHost, validateCallbackUrl } from '../api/index.ts';
import { CardlineError } from '../errors/index.ts';
import type { Call, SecureChange, SecureChangeSource } from '../gateway/index.ts';
import type { Logger } from '../log/index.ts';

export interface RecorderWebhookTarget {
  url: string;
  /** HMAC key, at least 16 characters. */
  secret: string;
}

export interface RecorderWebhooksOptions {
  targets: readonly RecorderWebhookTarget[];
  logger?: Logger;
  /** Accept http:// URLs (development, tests); default false. */
  allowHttp?: boolean;
  maxAttempts?: number;
  timeoutMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Events waiting per recorder before new ones are dropped (counted). Default 10 000. */
  maxQueue?: number;
  fetch?: typeof fetch;
  random?: () => number;
}

/** The JSON body of a pause/resume webhook. */
export interface RecordingWebhookEvent {
  type: 'recording.pause' | 'recording.resume';
  id: string;
  callId: string;
  sipCallId: string;
  sequence: number;
  at: string;
  atMs: number;
  reason: SecureChangeSource;
}

export interface RecorderWebhookStats {
  queued: number;
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
}

interface Delivery {
  event: RecordingWebhookEvent;
  body: Uint8Array;
  attempts: number;
}

class Lane {
  readonly url: string;
  readonly secret: string;
  readonly queue: Delivery[] = [];
  busy = false;
  timer: NodeJS.Timeout | null = null;

  constructor(t: RecorderWebhookTarget) {
    this.url = t.url;
    this.secret = t.secret;
  }
}

export class RecorderWebhooks {
  readonly #o: Required<Omit<RecorderWebhooksOptions, 'targets' | 'logger'>>;
  readonly #log: Logger | undefined;
  readonly #lanes: Lane[];
  readonly #sequence = new WeakMap<Call, number>();
  readonly #stats = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  readonly #abort = new AbortController();
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  /** Validates every target (URL rules of the status callbacks, secret length): `invalid-config` naming the entry. */
  constructor(o: RecorderWebhooksOptions) {
    this.#log = o.logger;
    this.#o = {
      allowHttp: o.allowHttp ?? false, maxAttempts: o.maxAttempts ?? 6, timeoutMs: o.timeoutMs ?? 5_000, backoffMs: o.backoffMs ?? 500,
      maxBackoffMs: o.maxBackoffMs ?? 60_000, maxQueue: o.maxQueue ?? 10_000, fetch: o.fetch ?? globalThis.fetch, random: o.random ?? Math.random,
    };
    this.#lanes = o.targets.map((t, i) => {
      try {
        validateCallbackUrl(t.url, this.#o.allowHttp);
      } catch (err) {
        throw new CardlineError('invalid-config', `gateway.recorderWebhooks[${i}].url: ${(err as Error).message}`);
      }
      if (t.secret.length < 16) throw new CardlineError('invalid-config', `gateway.recorderWebhooks[${i}].secret must be at least 16 characters`);
      return new Lane(t);
    });
  }

  /** The B2BUA hook (`onCallStarted`): follows this call's secure-mode changes until it ends. */
  readonly watch = (call: Call): void => {
    const off = call.onSecureChange((c) => {
      this.#notify(c);
      if (c.by === 'call-ended') off();
    });
  };

  stats(): RecorderWebhookStats {
    return { queued: this.#lanes.reduce((n, l) => n + l.queue.length, 0), ...this.#stats };
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => { this.#idleWaiters.push(resolve); });
  }

  /** Stops taking events, waits up to `graceMs` for the queued ones, then gives up the rest (counted as dropped). */
  async close(graceMs = 2_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    this.#abort.abort();
    for (const lane of this.#lanes) {
      if (lane.timer) clearTimeout(lane.timer);
      lane.timer = null;
      const waiting = lane.queue.length - (lane.busy ? 1 : 0);
      this.#stats.dropped += Math.max(0, waiting);
      lane.queue.length = lane.busy ? 1 : 0;
    }
    this.#notifyIdle();
  }

  #notify(c: SecureChange): void {
    if (this.#closed || this.#lanes.length === 0) return;
    const sequence = (this.#sequence.get(c.call) ?? 0) + 1;
    this.#sequence.set(c.call, sequence);
    const base = {
      type: c.on ? 'recording.pause' : 'recording.resume', callId: c.call.id, sipCallId: c.call.sipCallId, sequence,
      at: c.at.toISOString(), atMs: c.at.getTime(), reason: c.by,
    } as const;
    for (const lane of this.#lanes) {
      if (lane.queue.length >= this.#o.maxQueue) {
        this.#stats.dropped++;
        this.#log?.warn({ callId: c.call.id, host: safeHost(lane.url) }, 'recorder webhook queue full: event dropped');
        continue;
      }
      // one id per event and recorder, stable across retries
      const event: RecordingWebhookEvent = { ...base, id: randomUUID() };
      lane.queue.push({ event, body: Buffer.from(JSON.stringify(event), 'utf8'), attempts: 0 });
      this.#pump(lane);
    }
  }

  #pump(lane: Lane): void {
    if (lane.busy || lane.timer || lane.queue.length === 0) return;
    const d = lane.queue[0];
    if (!d) return;
    lane.busy = true;
    void this.#attempt(lane, d);
  }

  async #attempt(lane: Lane, d: Delivery): Promise<void> {
    d.attempts++;
    const outcome = await postSigned({
      url: lane.url, secret: lane.secret, body: d.body, timeoutMs: this.#o.timeoutMs, userAgent: 'cardline-recorder-webhooks/1',
      fetch: this.#o.fetch, signal: this.#abort.signal,
      headers: { 'Cardline-Event': d.event.type, 'Cardline-Delivery': d.event.id, 'Cardline-Attempt': String(d.attempts) },
    });
    lane.busy = false;
    const log = { callId: d.event.callId, event: d.event.type, delivery: d.event.id, attempt: d.attempts, status: outcome.status, reason: outcome.reason, host: safeHost(lane.url) };
    if (outcome.ok) {
      this.#stats.delivered++;
      lane.queue.shift();
    } else if (outcome.retry && d.attempts < this.#o.maxAttempts && !this.#closed) {
      this.#stats.retries++;
      const wait = backoffDelay(d.attempts, outcome.retryAfterMs, this.#o);
      this.#log?.warn({ ...log, retryInMs: wait }, 'recorder webhook failed, will retry');
      lane.timer = setTimeout(() => {
        lane.timer = null;
        this.#pump(lane);
      }, wait);
      lane.timer.unref();
      return;
    } else {
      this.#stats.failed++;
      lane.queue.shift();
      this.#log?.error(log, 'recorder webhook given up: the external recorder may have recorded the secure span');
    }
    this.#pump(lane);
    this.#notifyIdle();
  }

  #isIdle(): boolean {
    return this.#lanes.every((l) => l.queue.length === 0 && !l.busy);
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
