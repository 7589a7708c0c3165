/**
 * A live masked-event stream that survives drops: reconnects with capped exponential back-off and jitter, and
 * resumes from the snapshot the server sends first on every connection (so nothing is lost while away, and no
 * row is duplicated: the panel renders the latest snapshot, it never appends events).
 *
 *   connecting ──first message──▶ live ──drop──▶ reconnecting ──timer──▶ connecting
 *        └──────────drop──────────────────────────────┘            stop() from any state ──▶ closed
 *
 * The transport is a port (`StreamOpener`): a WebSocket with the session cookie in the console, a fetch-streamed
 * event stream with a bearer token when embedded.
 */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closed';

const TRANSITIONS: Readonly<Record<StreamState, readonly StreamState[]>> = {
  connecting: ['live', 'reconnecting', 'closed'],
  live: ['reconnecting', 'closed'],
  reconnecting: ['connecting', 'closed'],
  closed: [],
};

/** A transport connection: `close()` ends it without calling `onClose`. */
export interface StreamConnection { close(): void }

/**
 * Opens one connection. `onMessage` gets each parsed JSON message; `onClose(final)` reports the end: final = the
 * server said there is nothing more to follow (the session ended after this connection's snapshot, or it does
 * not exist), so no reconnect.
 */
export type StreamOpener = (onMessage: (data: unknown) => void, onClose: (final: boolean) => void) => StreamConnection;

export interface LiveStreamOptions {
  onMessage(data: unknown): void;
  onState(state: StreamState, attempt: number): void;
  /** first retry delay, ms (doubles each failure up to maxDelayMs) */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

/**
 * RFC 6455 §7.4.1: 1000 normal closure is how the server ends a stream after the session's final event (final
 * only if this connection delivered at least its snapshot); 4404 (private range, §7.4.2): no such session. 1001
 * (server going away), 1006 (dropped) and the rest are worth a reconnect.
 */
export function isFinalClose(code: number, gotMessage: boolean): boolean {
  return code === 4404 || (code === 1000 && gotMessage);
}

export class LiveStream {
  #state: StreamState = 'connecting';
  #attempt = 0;
  #conn: StreamConnection | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly #open: StreamOpener;
  readonly #o: Required<LiveStreamOptions>;

  constructor(open: StreamOpener, o: LiveStreamOptions) {
    this.#open = open;
    this.#o = { baseDelayMs: 500, maxDelayMs: 10_000, random: Math.random, ...o };
    this.#connect();
  }

  get state(): StreamState { return this.#state; }

  #transition(to: StreamState): void {
    if (!TRANSITIONS[this.#state].includes(to)) throw new Error(`live stream: ${this.#state} → ${to}`);
    this.#state = to;
    this.#o.onState(to, this.#attempt);
  }

  #connect(): void {
    const conn = this.#open((data) => {
      if (this.#conn !== conn) return;
      if (this.#state === 'connecting') { this.#attempt = 0; this.#transition('live'); }
      this.#o.onMessage(data);
    }, (final) => {
      if (this.#conn !== conn) return;
      this.#conn = null;
      if (final) { this.#transition('closed'); return; }
      this.#transition('reconnecting');
      const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** this.#attempt) * (0.8 + 0.4 * this.#o.random());
      this.#attempt++;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        if (this.#state !== 'reconnecting') return;
        this.#transition('connecting');
        this.#connect();
      }, delay);
    });
    this.#conn = conn;
  }

  /** Ends the stream for good (idempotent). */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const c = this.#conn;
    this.#conn = null;
    c?.close();
    if (this.#state !== 'closed') this.#transition('closed');
  }
}
