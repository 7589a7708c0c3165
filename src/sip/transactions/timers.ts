/**
 * Time behind a port (house style 7) and the RFC 3261 timer values (§17.1.1.1, Table 4 in Appendix A):
 *   T1 500 ms (RTT estimate), T2 4 s (max retransmit interval for non-INVITE requests and INVITE responses),
 *   T4 5 s (max time a message stays in the network).
 * Every other timer derives from these, so tests can shrink T1 and run real timers in milliseconds.
 * `SipClock` has the same shape as the payments `Clock`, so one fake clock drives both in tests.
 */
export interface SipTimerHandle {
  /** Idempotent; a cancelled timer never fires. */
  cancel(): void;
}

export interface SipClock {
  now(): number;
  setTimer(delayMs: number, fn: () => void): SipTimerHandle;
}

/** Node timers, unref'd: a pending retransmission never keeps the process alive on shutdown. */
export const systemSipClock: SipClock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

export interface TimerConfig {
  T1: number;
  T2: number;
  T4: number;
  /** §17.2.1: send 100 Trying if the TU has sent no provisional response within this time (200 ms). 0 = at once. */
  tryingDelay: number;
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = Object.freeze({ T1: 500, T2: 4000, T4: 5000, tryingDelay: 200 });

export function timerConfig(partial: Partial<TimerConfig> = {}): TimerConfig {
  const t = { ...DEFAULT_TIMERS, ...partial };
  if (!(t.T1 > 0 && t.T2 >= t.T1 && t.T4 >= 0 && t.tryingDelay >= 0)) throw new RangeError('SIP timers need T1 > 0, T2 >= T1, T4 >= 0');
  return t;
}

/** 64*T1: Timers B, F, H, J (unreliable), L, M — and the 2xx retransmission give-up of §13.3.1.4. */
export const sixtyFourT1 = (t: TimerConfig): number => 64 * t.T1;
