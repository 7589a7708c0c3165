import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { readAnchor } from './audit-key.ts';
import { checkpointMac, GENESIS_HASH, recordHash } from './canonical.ts';
import type { AuditDatabase } from './schema.ts';

/**
 * Recomputes the whole audit trail: every record's hash and link, every checkpoint's MAC, link and the record
 * it seals, and the anchor file. Reports the first problem found in chain order (records first, then the
 * checkpoints that cover them), naming the record or checkpoint, and every problem up to `maxProblems`.
 */
export interface AuditProblem {
  kind: 'record' | 'checkpoint' | 'anchor';
  /** record seq (kind record), checkpoint seq (kind checkpoint/anchor) */
  seq: number;
  /** for checkpoints: the record seq it seals */
  recordSeq?: number;
  reason: string;
}

export interface AuditVerifyReport {
  ok: boolean;
  records: number;
  checkpoints: number;
  /** records after the last checkpoint: chained but not yet sealed */
  unsealed: number;
  firstBroken: AuditProblem | null;
  problems: AuditProblem[];
}

export interface VerifyOptions {
  db: Kysely<AuditDatabase>;
  key: Buffer;
  anchorPath?: string | null;
  maxProblems?: number;
  pageSize?: number;
}

function eqHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function verifyAuditTrail(o: VerifyOptions): Promise<AuditVerifyReport> {
  const max = o.maxProblems ?? 100;
  const page = o.pageSize ?? 2000;
  const problems: AuditProblem[] = [];
  const add = (p: AuditProblem) => { if (problems.length < max) problems.push(p); };

  // 1) records: contiguous seq from 1, each hash recomputed, each prev_hash = previous record's stored hash
  const hashes = new Map<number, string>(); // seq → stored hash, for checkpoint checks
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let after = 0;
  let records = 0;
  for (;;) {
    const rows = await o.db.selectFrom('audit_events').selectAll().where('seq', '>', after).orderBy('seq', 'asc').limit(page).execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const seq = Number(r.seq);
      records++;
      if (seq !== expected) {
        add({ kind: 'record', seq: expected, reason: seq > expected ? `record ${expected} is missing (next present is ${seq})` : `record ${seq} is out of order` });
        expected = seq;
      }
      if (!eqHex(recordHash(r), r.hash)) {
        add({ kind: 'record', seq, reason: 'content does not match its hash (edited)' });
      }
      if (!eqHex(r.prev_hash, prevHash)) {
        add({ kind: 'record', seq, reason: seq === 1 ? 'first record does not start the chain' : `link to record ${seq - 1} is broken (a record was altered, removed, inserted or reordered)` });
      }
      hashes.set(seq, r.hash);
      prevHash = r.hash;
      expected = seq + 1;
      after = seq;
    }
  }
  const lastRecord = after;

  // 2) checkpoints: contiguous seq, MAC under the key, chained MACs, and the sealed head matches the record there
  let cpExpected = 1;
  let prevMac = GENESIS_HASH;
  let cpAfter = 0;
  let checkpoints = 0;
  let sealedUpTo = 0;
  const macs = new Map<number, string>();
  for (;;) {
    const rows = await o.db.selectFrom('audit_checkpoints').selectAll().where('seq', '>', cpAfter).orderBy('seq', 'asc').limit(page).execute();
    if (rows.length === 0) break;
    for (const c of rows) {
      const seq = Number(c.seq);
      const recordSeq = Number(c.record_seq);
      checkpoints++;
      if (seq !== cpExpected) add({ kind: 'checkpoint', seq: cpExpected, reason: `checkpoint ${cpExpected} is missing` });
      const fields = { seq, record_seq: recordSeq, head_hash: c.head_hash, at: c.at, prev_mac: c.prev_mac };
      if (!eqHex(checkpointMac(o.key, fields), c.mac)) {
        add({ kind: 'checkpoint', seq, recordSeq, reason: 'MAC does not verify with the audit key (checkpoint forged or edited)' });
      } else if (!eqHex(c.prev_mac, prevMac)) {
        add({ kind: 'checkpoint', seq, recordSeq, reason: `link to checkpoint ${seq - 1} is broken (a checkpoint was removed)` });
      }
      const stored = hashes.get(recordSeq);
      if (stored === undefined) {
        add({ kind: 'checkpoint', seq, recordSeq, reason: `sealed record ${recordSeq} is missing (trail truncated after record ${lastRecord})` });
      } else if (!eqHex(stored, c.head_hash)) {
        add({ kind: 'checkpoint', seq, recordSeq, reason: `records ${sealedUpTo + 1}-${recordSeq} differ from what was sealed (chain rewritten)` });
      }
      sealedUpTo = Math.max(sealedUpTo, recordSeq);
      macs.set(seq, c.mac);
      prevMac = c.mac;
      cpExpected = seq + 1;
      cpAfter = seq;
    }
  }

  // 3) the anchor beside the database names the newest checkpoint ever written
  if (o.anchorPath) {
    try {
      const anchor = readAnchor(o.anchorPath);
      if (anchor !== null) {
        const mac = macs.get(anchor.seq);
        if (mac === undefined) add({ kind: 'anchor', seq: anchor.seq, recordSeq: anchor.recordSeq, reason: `checkpoint ${anchor.seq} (sealing record ${anchor.recordSeq}) named by the anchor file is missing (trail truncated)` });
        else if (!eqHex(mac, anchor.mac)) add({ kind: 'anchor', seq: anchor.seq, recordSeq: anchor.recordSeq, reason: `checkpoint ${anchor.seq} differs from the anchor file` });
      }
    } catch (err) {
      add({ kind: 'anchor', seq: 0, reason: err instanceof Error ? err.message : 'unreadable anchor file' });
    }
  }

  const order = (p: AuditProblem) => (p.kind === 'record' ? p.seq : (p.recordSeq ?? Number.MAX_SAFE_INTEGER)) * 2 + (p.kind === 'record' ? 0 : 1);
  const sorted = [...problems].sort((a, b) => order(a) - order(b));
  return {
    ok: problems.length === 0,
    records,
    checkpoints,
    unsealed: Math.max(0, lastRecord - sealedUpTo),
    firstBroken: sorted[0] ?? null,
    problems: sorted,
  };
}
