/**
 * What every transaction shares: an id (the matching key, §17.1.3/§17.2.3), an explicit state with one
 * `transition()` that throws on illegal moves (house style 4), timers that die with the transaction, and a
 * hook so the layer forgets it once Terminated.
 */
import type { Logger } from 'pino';
import { CardlineError } from '../../errors/index.ts';
import type { SipRequest, SipResponse } from '../messages/index.ts';
import type { Flow, SentRequest, Target } from '../transport/index.ts';
import type { SipClock, SipTimerHandle, TimerConfig } from './timers.ts';
import { TRANSITIONS, TransactionState, type TransactionKind } from './transaction-state.ts';

/** The slice of the transport layer transactions use (a fake in state-machine tests). */
export interface TransactionTransport {
  sendRequest(request: SipRequest, target: Target): Promise<SentRequest>;
  resend(sent: SentRequest): Promise<void>;
  sendResponse(response: SipResponse, flow?: Flow): Promise<Flow>;
}

export interface TransactionContext {
  transport: TransactionTransport;
  clock: SipClock;
  timers: TimerConfig;
  logger?: Logger;
  /** Called once when the transaction reaches Terminated (the layer drops it from its table). */
  onTerminated?: (tx: Transaction) => void;
}

export abstract class Transaction {
  abstract readonly kind: TransactionKind;
  readonly id: string;
  readonly request: SipRequest;
  protected readonly ctx: TransactionContext;
  #state: TransactionState;
  #timers = new Map<string, SipTimerHandle>();
  #stateListeners: Array<(s: TransactionState) => void> = [];

  constructor(id: string, request: SipRequest, initial: TransactionState, ctx: TransactionContext) {
    this.id = id;
    this.request = request;
    this.#state = initial;
    this.ctx = ctx;
  }

  get state(): TransactionState {
    return this.#state;
  }

  /** Observes state changes (tests, metrics). Listener errors are swallowed. */
  onStateChange(fn: (s: TransactionState) => void): void {
    this.#stateListeners.push(fn);
  }

  protected transition(to: TransactionState): void {
    const from = this.#state;
    const allowed = TRANSITIONS[this.kind][from] ?? [];
    if (!allowed.includes(to)) {
      throw new CardlineError('sip-state', `${this.kind} transaction cannot move from ${from} to ${to}`);
    }
    this.#state = to;
    for (const fn of this.#stateListeners) this.safely(() => fn(to));
    if (to === TransactionState.Terminated) {
      for (const t of this.#timers.values()) t.cancel();
      this.#timers.clear();
      this.onTerminate();
      this.safely(() => this.ctx.onTerminated?.(this));
    }
  }

  /** Subclass clean-up when Terminated. */
  protected onTerminate(): void {}

  /** Arms (or re-arms) a named timer; it only fires while the transaction is alive. */
  protected startTimer(name: string, ms: number, fn: () => void): void {
    this.#timers.get(name)?.cancel();
    const handle = this.ctx.clock.setTimer(ms, () => {
      if (this.#timers.get(name) !== handle) return;
      this.#timers.delete(name);
      if (this.#state !== TransactionState.Terminated) this.safely(fn);
    });
    this.#timers.set(name, handle);
  }

  protected stopTimer(name: string): void {
    this.#timers.get(name)?.cancel();
    this.#timers.delete(name);
  }

  /** Names of running timers (tests assert which RFC timers are armed). */
  get activeTimers(): string[] {
    return [...this.#timers.keys()].sort();
  }

  /** Forces Terminated (stack shutdown). */
  terminate(): void {
    if (this.#state !== TransactionState.Terminated) this.transition(TransactionState.Terminated);
  }

  /** Runs user code so that its errors are logged, never propagated into the state machine. */
  protected safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.ctx.logger?.error({ err: { message: e instanceof Error ? e.message : String(e) }, tx: this.kind }, 'sip transaction user callback failed');
    }
  }

  protected logSendFailure(e: unknown, what: string): void {
    this.ctx.logger?.warn({ err: { message: e instanceof Error ? e.message : String(e) }, tx: this.kind }, `sip ${what} failed`);
  }
}
