import type { SessionEvent, SessionId, SessionState } from '../payments/types.ts';

/**
 * Per-session fan-out of masked events to live subscribers (WebSocket, SSE) and to global listeners
 * (status callbacks). One producer (the payment-session service) publishes; every subscriber gets its own
 * bounded FIFO so a slow agent screen can never hold memory or delay another subscriber.
 *
 * Overflow policy: the oldest buffered event is dropped and counted. Every event carries the full masked
 * state, so the consumer still converges on the truth; the gap shows in `sequence`.
 * Terminal states end the session's subscriptions after the final event is delivered.
 */
export const TERMINAL_STATES: ReadonlySet<SessionState> = new Set(['succeeded', 'failed', 'cancelled', 'expired']);

export interface EventHubOptions {
  /** per-subscriber buffer (events); default 64 */
  bufferSize?: number;
  /** how many sessions' latest event to remember for late subscribers; default 10 000 */
  maxRetained?: number;
  /** called when a global listener throws; the hub carries on */
  onListenerError?: (err: unknown) => void;
}

export class EventSubscription implements AsyncIterable<SessionEvent> {
  readonly sessionId: SessionId;
  readonly #capacity: number;
  readonly #buffer: SessionEvent[] = [];
  readonly #onClose: (s: EventSubscription) => void;
  #waiter: ((v: SessionEvent | null) => void) | null = null;
  #ending = false;
  #closed = false;
  #dropped = 0;

  constructor(sessionId: SessionId, capacity: number, onClose: (s: EventSubscription) => void) {
    this.sessionId = sessionId;
    this.#capacity = capacity;
    this.#onClose = onClose;
  }

  /** events discarded because this subscriber fell behind */
  get dropped(): number { return this.#dropped; }
  get buffered(): number { return this.#buffer.length; }
  get closed(): boolean { return this.#closed; }

  /** @internal called by the hub */
  push(ev: SessionEvent): void {
    if (this.#closed || this.#ending) return;
    if (this.#waiter !== null) {
      const w = this.#waiter;
      this.#waiter = null;
      w(ev);
      return;
    }
    if (this.#buffer.length >= this.#capacity) {
      this.#buffer.shift();
      this.#dropped++;
    }
    this.#buffer.push(ev);
  }

  /** @internal no more events will come; buffered ones are still delivered */
  end(): void {
    if (this.#closed) return;
    this.#ending = true;
    if (this.#buffer.length === 0) this.close();
  }

  /** Next event, or null once the subscription is over. */
  next(): Promise<SessionEvent | null> {
    const ev = this.#buffer.shift();
    if (ev !== undefined) {
      if (this.#ending && this.#buffer.length === 0) this.close();
      return Promise.resolve(ev);
    }
    if (this.#closed) return Promise.resolve(null);
    if (this.#waiter !== null) return Promise.reject(new Error('EventSubscription.next() called concurrently'));
    return new Promise((resolve) => { this.#waiter = resolve; });
  }

  /** Idempotent; wakes a pending `next()` with null. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer.length = 0;
    const w = this.#waiter;
    this.#waiter = null;
    if (w !== null) w(null);
    this.#onClose(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SessionEvent> {
    try {
      for (;;) {
        const ev = await this.next();
        if (ev === null) return;
        yield ev;
      }
    } finally {
      this.close();
    }
  }
}

export type HubListener = (event: SessionEvent) => void;

export class EventHub {
  readonly #bufferSize: number;
  readonly #maxRetained: number;
  readonly #onListenerError: (err: unknown) => void;
  readonly #subs = new Map<SessionId, Set<EventSubscription>>();
  readonly #latest = new Map<SessionId, SessionEvent>();
  readonly #listeners = new Set<HubListener>();
  #closed = false;

  constructor(opts: EventHubOptions = {}) {
    this.#bufferSize = Math.max(1, opts.bufferSize ?? 64);
    this.#maxRetained = Math.max(1, opts.maxRetained ?? 10_000);
    this.#onListenerError = opts.onListenerError ?? (() => {});
  }

  get closed(): boolean { return this.#closed; }

  publish(event: SessionEvent): void {
    if (this.#closed) return;
    const id = event.sessionId;
    const prev = this.#latest.get(id);
    if (prev !== undefined && prev.sequence > event.sequence) return; // stale, out of order
    // re-insert so Map order is least-recently-updated first, for eviction
    this.#latest.delete(id);
    this.#latest.set(id, event);
    while (this.#latest.size > this.#maxRetained) {
      const oldest = this.#latest.keys().next();
      if (oldest.done === true) break;
      this.#latest.delete(oldest.value);
    }
    for (const l of this.#listeners) {
      try { l(event); } catch (err) { this.#onListenerError(err); }
    }
    const subs = this.#subs.get(id);
    if (subs === undefined) return;
    const terminal = TERMINAL_STATES.has(event.session.state);
    for (const s of [...subs]) {
      s.push(event);
      if (terminal) s.end();
    }
  }

  /** The latest event published for a session (if still retained). */
  latest(sessionId: SessionId): SessionEvent | undefined {
    return this.#latest.get(sessionId);
  }

  subscribe(sessionId: SessionId, opts: { bufferSize?: number } = {}): EventSubscription {
    const sub = new EventSubscription(sessionId, Math.max(1, opts.bufferSize ?? this.#bufferSize), (s) => this.#remove(s));
    if (this.#closed) {
      sub.close();
      return sub;
    }
    let set = this.#subs.get(sessionId);
    if (set === undefined) {
      set = new Set();
      this.#subs.set(sessionId, set);
    }
    set.add(sub);
    return sub;
  }

  /** Every event of every session, synchronously (listener errors are isolated). Returns an unsubscribe. */
  onEvent(listener: HubListener): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  subscriberCount(sessionId?: SessionId): number {
    if (sessionId !== undefined) return this.#subs.get(sessionId)?.size ?? 0;
    let n = 0;
    for (const s of this.#subs.values()) n += s.size;
    return n;
  }

  /** Closes every subscription at once (shutdown) and refuses new events. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const set of [...this.#subs.values()]) for (const s of [...set]) s.close();
    this.#subs.clear();
    this.#listeners.clear();
  }

  #remove(s: EventSubscription): void {
    const set = this.#subs.get(s.sessionId);
    if (set === undefined) return;
    set.delete(s);
    if (set.size === 0) this.#subs.delete(s.sessionId);
  }
}
