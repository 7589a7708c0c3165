import type { Kysely } from 'kysely';
import { CardlineError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { writeAnchor } from './audit-key.ts';
import { canonicalDetail, checkpointMac, GENESIS_HASH, keyId, recordHash, type Detail } from './canonical.ts';
import type { AuditDatabase, AuditEventsTable } from './schema.ts';

/**
 * The audit trail (PCI DSS 4.0 req. 10.2: who, what, when, from where, outcome; req. 10.3: protected from
 * modification). Append-only, hash-chained, periodically sealed:
 *
 *   record n:  hash_n = SHA-256("cardline-audit-record-v1\n" ‖ JSON[seq, at, actor…, detail, hash_{n-1}])
 *   checkpoint k (every N records or M minutes, and at close):
 *              mac_k = HMAC-SHA256(audit key, "…checkpoint-v1\n" ‖ JSON[k, n, hash_n, at, mac_{k-1}])
 *
 * Editing, deleting, inserting or reordering a record breaks the chain at that record; recomputing the chain
 * afterwards still breaks the next checkpoint's MAC comparison, which needs the key held outside the database.
 * The latest checkpoint is also written to an anchor file, so deleting sealed rows together with their
 * checkpoints is detected too (verify.ts).
 *
 * Single writer: appends in this process run one at a time through a promise queue; across processes (the CLI
 * appending while the server runs) the `seq` primary key arbitrates: a writer that lost the race retries on top
 * of the winner. The chain can therefore never fork.
 */
export type AuditOutcome = 'success' | 'failure' | 'denied';
export type ActorKind = 'user' | 'api-key' | 'system' | 'cli' | 'anonymous';

export interface AuditEntry {
  actor: { kind: ActorKind; id?: string | null; name?: string | null };
  /** dotted, e.g. `auth.login`, `session.create`, `apikey.revoke`, `report.export` */
  action: string;
  outcome: AuditOutcome;
  target?: { kind: string; id?: string | null } | null;
  merchantId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** small flat facts; never a secret (keys that look like one are refused) */
  detail?: Detail;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actorKind: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  outcome: string;
  targetKind: string | null;
  targetId: string | null;
  merchantId: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  /** ISO timestamps, [from, to) */
  from?: string;
  to?: string;
  actorId?: string;
  /** exact action, or a prefix ending in `.` / `*` (`auth.` = every auth action) */
  action?: string;
  outcome?: AuditOutcome;
  targetId?: string;
  /** only records of this merchant (for principals bound to one) */
  merchantId?: string;
  afterSeq?: number;
  limit?: number;
}

export interface AuditLogOptions {
  db: Kysely<AuditDatabase>;
  key: Buffer;
  clock?: { now(): number };
  /** seal after this many unsealed records (default 100) */
  checkpointEvery?: number;
  /** seal unsealed records at least this often (default 5 min); 0 = no timer */
  checkpointIntervalMs?: number;
  /** anchor file path (default: none) */
  anchorPath?: string | null;
  logger?: Logger;
}

const SECRET_WORDS = ['password', 'passwd', 'secret', 'token', 'totp', 'recovery', 'apikey', 'api_key', 'cookie', 'csrf', 'cvv', 'cvc'];
const SECRET_NAMES = new Set(['pan', 'digits', 'code', 'otp', 'key']);
function looksSecret(k: string): boolean {
  const l = k.toLowerCase();
  return SECRET_NAMES.has(l) || SECRET_WORDS.some((w) => l.includes(w));
}
const MAX_TEXT = 512;
const MAX_DETAIL_KEYS = 24;

function clip(v: string | null | undefined, max = MAX_TEXT): string | null {
  if (v === null || v === undefined) return null;
  // control characters would let a value forge line breaks in text exports
  const clean = v.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function safeDetail(detail: Detail | undefined): string {
  const d = detail ?? {};
  const keys = Object.keys(d);
  if (keys.length > MAX_DETAIL_KEYS) throw new CardlineError('internal', 'audit detail has too many keys');
  const out: Record<string, string | number | boolean | null> = {};
  for (const k of keys) {
    if (looksSecret(k)) throw new CardlineError('internal', `audit detail key "${k}" looks like a secret`);
    const v = d[k];
    if (typeof v === 'number' && !Number.isFinite(v)) throw new CardlineError('internal', `audit detail ${k} is not finite`);
    out[k] = typeof v === 'string' ? clip(v) : (v ?? null);
  }
  return canonicalDetail(out);
}

export function rowToRecord(r: AuditEventsTable): AuditRecord {
  let detail: Record<string, unknown> = {};
  try { detail = JSON.parse(r.detail_json) as Record<string, unknown>; } catch { detail = { unreadable: true }; }
  return {
    seq: Number(r.seq), at: r.at, actorKind: r.actor_kind, actorId: r.actor_id, actorName: r.actor_name, action: r.action,
    outcome: r.outcome, targetKind: r.target_kind, targetId: r.target_id, merchantId: r.merchant_id, ip: r.ip,
    userAgent: r.user_agent, detail, prevHash: r.prev_hash, hash: r.hash,
  };
}

function isConflict(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  // SQLite primary key / unique, PostgreSQL unique_violation
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

const MAX_RACE_RETRIES = 50;

export class AuditLog {
  readonly #db: Kysely<AuditDatabase>;
  readonly #key: Buffer;
  readonly #keyId: string;
  readonly #clock: { now(): number };
  readonly #every: number;
  readonly #intervalMs: number;
  readonly #anchorPath: string | null;
  readonly #log: Logger | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(o: AuditLogOptions) {
    if (o.key.length < 32) throw new CardlineError('invalid-config', 'the audit key must be at least 256 bits');
    this.#db = o.db;
    this.#key = o.key;
    this.#keyId = keyId(o.key);
    this.#clock = o.clock ?? { now: () => Date.now() };
    this.#every = o.checkpointEvery ?? 100;
    this.#intervalMs = o.checkpointIntervalMs ?? 5 * 60_000;
    this.#anchorPath = o.anchorPath ?? null;
    this.#log = o.logger;
    if (!Number.isInteger(this.#every) || this.#every < 1) throw new CardlineError('invalid-config', 'checkpointEvery must be a positive integer');
    if (this.#intervalMs > 0) {
      this.#timer = setInterval(() => { this.checkpoint().catch((err: unknown) => this.#log?.error({ err }, 'audit checkpoint failed')); }, this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Appends one record (serialized); resolves with it once it is durable. */
  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.#closed) return Promise.reject(new CardlineError('internal', 'the audit log is closed'));
    return this.#serial(async () => {
      const rec = await this.#appendOne(entry);
      await this.#maybeCheckpoint(rec.seq);
      return rec;
    });
  }

  /**
   * Appends without letting an audit failure break the caller's request, but logs it loudly (the failure itself
   * is a security event). Use `append` where the action must not proceed unaudited.
   */
  record(entry: AuditEntry): Promise<void> {
    return this.append(entry).then(() => undefined, (err: unknown) => {
      this.#log?.error({ err, action: entry.action }, 'audit append failed');
    });
  }

  /** Seals every unsealed record now (no-op when there is none). */
  checkpoint(): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    return this.#serial(() => this.#checkpointNow());
  }

  async query(q: AuditQuery = {}): Promise<AuditRecord[]> {
    let s = this.#db.selectFrom('audit_events').selectAll();
    if (q.from !== undefined) s = s.where('at', '>=', iso(q.from, 'from'));
    if (q.to !== undefined) s = s.where('at', '<', iso(q.to, 'to'));
    if (q.actorId !== undefined) s = s.where('actor_id', '=', q.actorId);
    if (q.outcome !== undefined) s = s.where('outcome', '=', q.outcome);
    if (q.targetId !== undefined) s = s.where('target_id', '=', q.targetId);
    if (q.merchantId !== undefined) s = s.where('merchant_id', '=', q.merchantId);
    if (q.afterSeq !== undefined) s = s.where('seq', '>', q.afterSeq);
    if (q.action !== undefined) {
      const a = q.action;
      if (a.endsWith('*') || a.endsWith('.')) {
        const prefix = a.replace(/\*$/, '');
        // LIKE with the wildcard characters escaped: portable to PostgreSQL
        s = s.where('action', 'like', `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      } else {
        s = s.where('action', '=', a);
      }
    }
    const limit = Math.min(Math.max(1, q.limit ?? 1000), 100_000);
    const rows = await s.orderBy('seq', 'asc').limit(limit).execute();
    return rows.map(rowToRecord);
  }

  /** Seals the tail and stops the timer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    try {
      await this.#serial(() => this.#checkpointNow());
    } finally {
      this.#closed = true;
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #iso(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  async #appendOne(e: AuditEntry): Promise<AuditRecord> {
    if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/.test(e.action)) throw new CardlineError('internal', 'audit action must be dotted lower-case words');
    const base = {
      at: this.#iso(),
      actor_kind: e.actor.kind,
      actor_id: clip(e.actor.id, 128),
      actor_name: clip(e.actor.name, 128),
      action: e.action,
      outcome: e.outcome,
      target_kind: clip(e.target?.kind, 64),
      target_id: clip(e.target?.id, 256),
      merchant_id: clip(e.merchantId, 128),
      ip: clip(e.ip, 64),
      user_agent: clip(e.userAgent, 256),
      detail_json: safeDetail(e.detail),
    };
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const last = await this.#db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const seq = last === undefined ? 1 : Number(last.seq) + 1;
      const row: AuditEventsTable = { seq, ...base, prev_hash: last?.hash ?? GENESIS_HASH, hash: '' };
      row.hash = recordHash(row);
      try {
        await this.#db.insertInto('audit_events').values(row).execute();
        return rowToRecord(row);
      } catch (err) {
        if (isConflict(err)) continue; // another process appended seq first: chain on top of it
        throw new CardlineError('store-error', 'audit append failed', { cause: err });
      }
    }
    throw new CardlineError('store-error', 'audit append lost the race too many times');
  }

  async #maybeCheckpoint(seq: number): Promise<void> {
    const cp = await this.#lastCheckpoint();
    const sealed = cp === undefined ? 0 : Number(cp.record_seq);
    const overdue = cp !== undefined && this.#intervalMs > 0 && this.#clock.now() - Date.parse(cp.at) >= this.#intervalMs;
    if (seq - sealed >= this.#every || overdue) await this.#checkpointNow();
  }

  #lastCheckpoint() {
    return this.#db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  async #checkpointNow(): Promise<number | null> {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const head = await this.#db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      if (head === undefined) return null;
      const last = await this.#lastCheckpoint();
      if (last !== undefined && Number(last.record_seq) >= Number(head.seq)) return null;
      const fields = {
        seq: last === undefined ? 1 : Number(last.seq) + 1,
        record_seq: Number(head.seq),
        head_hash: head.hash,
        at: this.#iso(),
        prev_mac: last?.mac ?? GENESIS_HASH,
      };
      const mac = checkpointMac(this.#key, fields);
      try {
        await this.#db.insertInto('audit_checkpoints').values({ ...fields, mac, key_id: this.#keyId }).execute();
      } catch (err) {
        if (isConflict(err)) continue;
        throw new CardlineError('store-error', 'audit checkpoint failed', { cause: err });
      }
      if (this.#anchorPath !== null) {
        writeAnchor(this.#anchorPath, { seq: fields.seq, recordSeq: fields.record_seq, headHash: fields.head_hash, mac });
      }
      return fields.seq;
    }
    throw new CardlineError('store-error', 'audit checkpoint lost the race too many times');
  }
}

function iso(v: string, name: string): string {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new CardlineError('usage', `${name} is not an ISO-8601 timestamp`);
  return new Date(t).toISOString();
}
