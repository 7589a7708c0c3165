/**
 * Calls Cardline is anchoring, as the API shows them (id, caller, callee/agent URI, state, secure mode), so the
 * agent console can bind a payment session to "my current call". A call's life is an explicit state machine
 * (house style 4); `transition()` rejects illegal moves. Ended calls leave the registry.
 */
import { randomUUID } from 'node:crypto';
import { CardlineError } from '../errors/index.ts';

export enum CallState {
  /** INVITE received, routed, agent leg being set up. */
  Routing = 'routing',
  /** The agent side sent a provisional response (180/183) and it was relayed. */
  Ringing = 'ringing',
  /** Both legs answered; media flows through the relay. */
  Answered = 'answered',
  Ended = 'ended',
}

export const CALL_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  [CallState.Routing]: [CallState.Ringing, CallState.Answered, CallState.Ended],
  [CallState.Ringing]: [CallState.Answered, CallState.Ended],
  [CallState.Answered]: [CallState.Ended],
  [CallState.Ended]: [],
};

/** The JSON-friendly listing of one call (no media internals, no digits). */
export interface CallView {
  id: string;
  sipCallId: string;
  caller: string;
  callee: string;
  agent: string;
  state: CallState;
  secure: boolean;
  /** The payment session the caller's secure digits go to, or null. */
  paymentSessionId: string | null;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  /** Spans of secure mode (card entry), oldest first; the last has `end: null` while secure mode is on. */
  secureSpans: SecureSpanView[];
}

/** What turned secure mode on or off: the API (bound payment session), the agent's in-band trigger, the policy
 * (every call masked), or the end of the bound payment session / the call. */
export type SecureChangeSource = 'api' | 'trigger' | 'policy' | 'session-ended' | 'call-ended';

export interface SecureSpan {
  start: Date;
  end: Date | null;
  startedBy: SecureChangeSource;
  endedBy: SecureChangeSource | null;
}

export interface SecureSpanView {
  start: string;
  end: string | null;
  startedBy: SecureChangeSource;
  endedBy: SecureChangeSource | null;
}

/** A change of a call's secure mode, as listeners (recorder, webhooks, binder) receive it. */
export interface SecureChange {
  call: Call;
  on: boolean;
  by: SecureChangeSource;
  at: Date;
}

export type SecureChangeListener = (change: SecureChange) => void;

/** The control surface a call exposes to the registry (implemented by the B2BUA's call). */
export interface CallControl {
  readonly secure: boolean;
  /** Secure by default (policy): secure mode cannot be turned off during this call. */
  readonly pinnedSecure?: boolean;
  setSecure(on: boolean): void;
  hangup(): Promise<void>;
}

export class Call {
  readonly id: string;
  readonly sipCallId: string;
  readonly caller: string;
  readonly callee: string;
  readonly agent: string;
  readonly startedAt: Date;
  answeredAt: Date | null = null;
  endedAt: Date | null = null;
  endReason: string | null = null;
  control: CallControl | null = null;
  /** Cardline's RTP ports for this call (diagnostics; not in the API view). */
  media: { callerRtpPort: number; agentRtpPort: number } | null = null;
  /** Bound payment session (secure digits go there, see session-binding.ts). */
  paymentSessionId: string | null = null;
  /** Secure-mode spans (call metadata: the recorder and the API show them). */
  readonly secureSpans: SecureSpan[] = [];
  #state = CallState.Routing;
  readonly #secureListeners = new Set<SecureChangeListener>();

  constructor(init: { sipCallId: string; caller: string; callee: string; agent: string; id?: string; now?: Date }) {
    this.id = init.id ?? randomUUID();
    this.sipCallId = init.sipCallId;
    this.caller = init.caller;
    this.callee = init.callee;
    this.agent = init.agent;
    this.startedAt = init.now ?? new Date();
  }

  get state(): CallState {
    return this.#state;
  }

  get secure(): boolean {
    return this.control?.secure ?? false;
  }

  transition(to: CallState, now: Date = new Date()): void {
    if (!CALL_TRANSITIONS[this.#state].includes(to)) {
      throw new CardlineError('call-state', `cannot move a call from ${this.#state} to ${to}`);
    }
    this.#state = to;
    if (to === CallState.Answered) this.answeredAt = now;
    if (to === CallState.Ended) {
      this.endedAt = now;
      this.noteSecure(false, 'call-ended', now);
    }
  }

  /**
   * Turns secure mode on or off through the call's control (the relay) and records the span. Needs an answered
   * call. No-op (no span, no event) when the mode does not change. A call secure by policy stays secure
   * (`call-state`).
   */
  setSecure(on: boolean, by: SecureChangeSource, now: Date = new Date()): void {
    if (!this.control || this.#state !== CallState.Answered) throw new CardlineError('call-state', 'secure mode needs an answered call');
    if (!on && this.control.pinnedSecure === true) throw new CardlineError('call-state', 'secure mode is on for every call by policy');
    this.control.setSecure(on);
    this.noteSecure(on, by, now);
  }

  /**
   * Records a secure-mode change that already happened in the media path (e.g. the policy started the relay in
   * secure mode, or the relay's in-band trigger fired) and tells the listeners. Idempotent per state.
   */
  noteSecure(on: boolean, by: SecureChangeSource, now: Date = new Date()): void {
    const open = this.secureSpans.at(-1);
    const isOpen = open !== undefined && open.end === null;
    if (on === isOpen) return;
    if (on) this.secureSpans.push({ start: now, end: null, startedBy: by, endedBy: null });
    else if (open) {
      open.end = now;
      open.endedBy = by;
    }
    for (const l of this.#secureListeners) {
      try {
        l({ call: this, on, by, at: now });
      } catch {
        // a listener error never breaks the call (house style 5)
      }
    }
  }

  /** Subscribes to secure-mode changes of this call; returns the unsubscribe function. */
  onSecureChange(listener: SecureChangeListener): () => void {
    this.#secureListeners.add(listener);
    return () => this.#secureListeners.delete(listener);
  }

  view(): CallView {
    return {
      id: this.id, sipCallId: this.sipCallId, caller: this.caller, callee: this.callee, agent: this.agent,
      state: this.#state, secure: this.secure, paymentSessionId: this.paymentSessionId, startedAt: this.startedAt.toISOString(),
      answeredAt: this.answeredAt?.toISOString() ?? null, endedAt: this.endedAt?.toISOString() ?? null, endReason: this.endReason,
      secureSpans: this.secureSpans.map((s) => ({
        start: s.start.toISOString(), end: s.end?.toISOString() ?? null, startedBy: s.startedBy, endedBy: s.endedBy,
      })),
    };
  }
}

export interface CallRegistryOptions {
  /**
   * How long secure mode stays on after the bound payment session ended (ms, default 0 = at once). The caller may
   * still be typing when the agent presses Pay (the field's trailing `#`, or re-typing a code): for this long those
   * keys are still masked (and go nowhere: the call is unbound at once). The gateway sets it from config.
   */
  secureHangoverMs?: number;
}

export class CallRegistry {
  readonly #calls = new Map<string, Call>();
  readonly #hangoverMs: number;

  constructor(o: CallRegistryOptions = {}) {
    this.#hangoverMs = o.secureHangoverMs ?? 0;
  }

  add(call: Call): void {
    this.#calls.set(call.id, call);
  }

  remove(id: string): void {
    this.#calls.delete(id);
  }

  get(id: string): Call | undefined {
    return this.#calls.get(id);
  }

  get size(): number {
    return this.#calls.size;
  }

  list(): CallView[] {
    return [...this.#calls.values()].map((c) => c.view());
  }

  /**
   * Secure mode by API (a payment session bound to the call starts or ends). Turning it on may bind a payment
   * session (`paymentSessionId`); turning it off unbinds.
   */
  setSecure(id: string, on: boolean, paymentSessionId?: string): CallView {
    const call = this.#calls.get(id);
    if (!call) throw new CardlineError('call-not-found');
    if (!call.control || call.state !== CallState.Answered) throw new CardlineError('call-state', 'secure mode needs an answered call');
    if (on && paymentSessionId !== undefined) call.paymentSessionId = paymentSessionId;
    call.setSecure(on, 'api'); // may refuse (secure by policy): the binding then stays
    if (!on) call.paymentSessionId = null;
    return call.view();
  }

  /**
   * The payment session bound to a call reached a terminal state (succeeded, failed, cancelled, expired): it is
   * unbound from every call that holds it and their secure mode turns off by itself (span source 'session-ended'),
   * so the agent and the caller talk normally again without anyone pressing a key — after `secureHangoverMs`, unless
   * another session was bound meanwhile. A call secure by policy stays secure; an ended or unanswered call is only
   * unbound. Returns the ids of the calls that were unbound.
   */
  paymentSessionEnded(paymentSessionId: string, now: Date = new Date()): string[] {
    const changed: string[] = [];
    const eligible = (call: Call): boolean => call.state === CallState.Answered && call.control !== null && call.secure
      && call.paymentSessionId === null && call.control.pinnedSecure !== true;
    for (const call of this.#calls.values()) {
      if (call.paymentSessionId !== paymentSessionId) continue;
      call.paymentSessionId = null;
      changed.push(call.id);
      if (!eligible(call)) continue;
      if (this.#hangoverMs <= 0) {
        call.setSecure(false, 'session-ended', now);
        continue;
      }
      const timer = setTimeout(() => {
        try {
          if (eligible(call)) call.setSecure(false, 'session-ended');
        } catch {
          // the call ended meanwhile: nothing to turn off
        }
      }, this.#hangoverMs);
      timer.unref();
    }
    return changed;
  }
}
