/** A clock that moves only when told: `advance(ms)` fires due timers in order, including timers they set. */
import type { SipClock, SipTimerHandle } from '../../../src/sip/transactions/index.ts';

interface Pending { due: number; seq: number; fn: () => void; cancelled: boolean }

export class FakeClock implements SipClock {
  #now = 0;
  #seq = 0;
  #timers: Pending[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, fn: () => void): SipTimerHandle {
    const t: Pending = { due: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { cancel: () => { t.cancelled = true; } };
  }

  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      let next: Pending | undefined;
      for (const t of this.#timers) if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      if (!next) break;
      next.cancelled = true;
      this.#now = next.due;
      next.fn();
    }
    this.#now = target;
  }
}

/** Lets promise callbacks (the fake transport's sends) run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
