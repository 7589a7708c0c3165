/**
 * One hashed timer wheel for many low-precision periodic jobs (the RTCP reports of every call: two legs × 1000
 * calls would otherwise be 2000 Node timers). A single interval advances a cursor over `slots` buckets every
 * `tickMs`; a job lands in the bucket of its due tick and runs when the cursor reaches it in the right round.
 * The interval is unref'd (it never keeps the process alive) and stops while the wheel is empty.
 *
 * Precision is one tick, which is plenty for RTCP (RFC 3550 §6.2 randomises its interval by ±50 % anyway).
 * A job that throws is counted and dropped; the others still run (house style 5).
 */
export interface TimerWheelOptions {
  /** Tick length. Default 100 ms. */
  tickMs?: number;
  /** Buckets per turn. Default 128. */
  slots?: number;
  /** Monotonic clock in ms. Default performance.now. */
  now?: () => number;
}

export interface WheelTimer {
  /** Stops the job if it has not run yet (idempotent). */
  cancel(): void;
}

interface Entry {
  due: number;
  run: () => void;
  slot: number;
  live: boolean;
}

export class TimerWheel {
  readonly #tick: number;
  readonly #slots: Array<Set<Entry>>;
  readonly #now: () => number;
  #cursor = 0;
  /** Clock reading at the cursor's tick. */
  #cursorAt = 0;
  #size = 0;
  #interval: ReturnType<typeof setInterval> | null = null;
  #errors = 0;

  constructor(o: TimerWheelOptions = {}) {
    this.#tick = o.tickMs ?? 100;
    const n = o.slots ?? 128;
    if (!(this.#tick > 0) || !Number.isInteger(n) || n < 2) throw new RangeError('tickMs must be > 0 and slots an integer ≥ 2');
    this.#slots = Array.from({ length: n }, () => new Set<Entry>());
    this.#now = o.now ?? (() => performance.now());
  }

  /** Jobs waiting. */
  get size(): number {
    return this.#size;
  }

  /** Jobs that threw. */
  get errors(): number {
    return this.#errors;
  }

  /** Runs `run` once, about `delayMs` from now (never before, at most one tick late plus event-loop delay). */
  schedule(delayMs: number, run: () => void): WheelTimer {
    if (this.#interval === null) this.#start();
    const due = this.#now() + Math.max(0, delayMs);
    const ticks = Math.max(1, Math.ceil((due - this.#cursorAt) / this.#tick));
    const slot = (this.#cursor + ticks) % this.#slots.length;
    const e: Entry = { due, run, slot, live: true };
    (this.#slots[slot] as Set<Entry>).add(e);
    this.#size++;
    return {
      cancel: () => {
        if (!e.live) return;
        e.live = false;
        (this.#slots[e.slot] as Set<Entry>).delete(e);
        this.#size--;
        if (this.#size === 0) this.#stop();
      },
    };
  }

  /** Stops the interval and drops every job. */
  close(): void {
    for (const s of this.#slots) {
      for (const e of s) e.live = false;
      s.clear();
    }
    this.#size = 0;
    this.#stop();
  }

  #start(): void {
    this.#cursorAt = this.#now();
    this.#interval = setInterval(() => this.#advance(), this.#tick);
    this.#interval.unref();
  }

  #stop(): void {
    if (this.#interval !== null) clearInterval(this.#interval);
    this.#interval = null;
  }

  /** Catches up every tick that elapsed (a busy event loop delays the interval; no bucket is skipped). */
  #advance(): void {
    const now = this.#now();
    while (this.#cursorAt + this.#tick <= now + 1e-6 && this.#size > 0) {
      this.#cursor = (this.#cursor + 1) % this.#slots.length;
      this.#cursorAt += this.#tick;
      const bucket = this.#slots[this.#cursor] as Set<Entry>;
      for (const e of [...bucket]) {
        if (e.due > this.#cursorAt + 1e-6) continue; // a later turn of the wheel
        bucket.delete(e);
        e.live = false;
        this.#size--;
        try {
          e.run();
        } catch {
          this.#errors++;
        }
      }
    }
    if (this.#size === 0) this.#stop();
  }
}

/** The wheel all relays share unless given their own. */
export const sharedTimerWheel = new TimerWheel();
