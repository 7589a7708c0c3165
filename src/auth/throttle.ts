import type { Kysely } from 'kysely';
import type { AuthDatabase } from './schema.ts';

/**
 * Failed-login throttling with exponential back-off, per account and per source address
 * (PCI DSS 4.0 req. 8.3.4: lock out after at most 10 invalid attempts, for at least 30 minutes or until an
 * administrator unlocks; NIST SP 800-63B §5.2.2: rate limiting).
 *
 * After `threshold` consecutive failures a subject is locked for `baseMs`, doubling with each further failure up
 * to `maxMs`. With the account defaults (5, 1 min, 30 min) the 10th failure locks for 30 minutes. Failures are
 * forgotten `decayMs` after the later of the last failure and the end of the lock. Unknown usernames are throttled
 * exactly like real ones (the subject is the typed name), so lockout behaviour reveals nothing about which exist.
 */
export interface ThrottlePolicy {
  threshold: number;
  baseMs: number;
  maxMs: number;
  decayMs: number;
}

export const ACCOUNT_THROTTLE: Readonly<ThrottlePolicy> = Object.freeze({ threshold: 5, baseMs: 60_000, maxMs: 30 * 60_000, decayMs: 15 * 60_000 });
export const IP_THROTTLE: Readonly<ThrottlePolicy> = Object.freeze({ threshold: 20, baseMs: 30_000, maxMs: 15 * 60_000, decayMs: 15 * 60_000 });

export interface ThrottleState {
  failures: number;
  lockedUntilMs: number | null;
}

export function lockDurationMs(failures: number, p: ThrottlePolicy): number {
  if (failures < p.threshold) return 0;
  const exp = Math.min(failures - p.threshold, 30);
  return Math.min(p.baseMs * 2 ** exp, p.maxMs);
}

export class LoginThrottle {
  readonly #db: Kysely<AuthDatabase>;
  readonly #now: () => number;

  constructor(db: Kysely<AuthDatabase>, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** Remaining lock in ms (0 = not locked). */
  async lockedFor(subject: string): Promise<number> {
    const row = await this.#db.selectFrom('auth_throttle').select('locked_until').where('subject', '=', subject).executeTakeFirst();
    if (row?.locked_until == null) return 0;
    return Math.max(0, Date.parse(row.locked_until) - this.#now());
  }

  /** Counts one failure; returns the new state and whether this failure started a lock. */
  async fail(subject: string, p: ThrottlePolicy): Promise<ThrottleState & { newlyLocked: boolean }> {
    const now = this.#now();
    const row = await this.#db.selectFrom('auth_throttle').selectAll().where('subject', '=', subject).executeTakeFirst();
    if (row !== undefined) {
      const lastActivity = Math.max(Date.parse(row.last_failure_at), row.locked_until ? Date.parse(row.locked_until) : 0);
      if (now - lastActivity >= p.decayMs) await this.#db.deleteFrom('auth_throttle').where('subject', '=', subject).execute();
    }
    const at = new Date(now).toISOString();
    // one statement: concurrent failures each count (ON CONFLICT … DO UPDATE exists in SQLite and PostgreSQL)
    await this.#db.insertInto('auth_throttle').values({ subject, failures: 1, last_failure_at: at, locked_until: null })
      .onConflict((oc) => oc.column('subject').doUpdateSet((eb) => ({ failures: eb('auth_throttle.failures', '+', 1), last_failure_at: at })))
      .execute();
    const after = await this.#db.selectFrom('auth_throttle').selectAll().where('subject', '=', subject).executeTakeFirstOrThrow();
    const failures = Number(after.failures);
    const lock = lockDurationMs(failures, p);
    if (lock === 0) return { failures, lockedUntilMs: null, newlyLocked: false };
    const until = now + lock;
    await this.#db.updateTable('auth_throttle').set({ locked_until: new Date(until).toISOString() }).where('subject', '=', subject).execute();
    return { failures, lockedUntilMs: until, newlyLocked: true };
  }

  /**
   * Forgets subjects idle for `olderThanMs` and not locked (a password spray with random names would otherwise
   * grow the table without bound).
   */
  async purgeStale(olderThanMs: number): Promise<number> {
    const cutoff = new Date(this.#now() - olderThanMs).toISOString();
    const now = new Date(this.#now()).toISOString();
    const r = await this.#db.deleteFrom('auth_throttle').where('last_failure_at', '<', cutoff)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)])).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async reset(subject: string): Promise<void> {
    await this.#db.deleteFrom('auth_throttle').where('subject', '=', subject).execute();
  }
}

export const accountSubject = (username: string) => `acct:${username}`;
export const ipSubject = (ip: string) => `ip:${ip}`;
