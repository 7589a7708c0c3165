/**
 * Time behind a port (house style 7): payment sessions read the time and arm their field and session
 * timers only through a `Clock`, so tests drive them deterministically with `ManualClock`.
 */
export interface TimerHandle {
  /** Idempotent; a cancelled timer never fires. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once, `delayMs` from now (like setTimeout). */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
}

/** Wall clock and Node timers. Timers are unref'd: a pending field timeout never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

interface ManualTimer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires due timers in time order (ties in the order they
 * were set), moving `now()` to each timer's due time first, including timers set by timers that fire.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(startMs: number = Date.UTC(2030, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const t: ManualTimer = { due: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { cancel: () => { t.cancelled = true; } };
  }

  /** Number of timers armed and not cancelled. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the time forward without firing timers (a host that slept: timers are late, not lost). */
  jump(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('jump() needs a non-negative duration');
    this.#now += ms;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('advance() needs a non-negative duration');
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.#timers) if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      if (!next) break;
      next.cancelled = true;
      this.#now = Math.max(this.#now, next.due);
      next.fn();
    }
    this.#now = target;
  }
}
