import { createHash, createHmac } from 'node:crypto';
import type { AuditEventsTable } from './schema.ts';

/**
 * Canonical encodings for the audit chain. A record is hashed as a JSON array of its columns in a fixed order
 * (strings, integers and nulls only, so `JSON.stringify` is deterministic), with a version label first so a
 * future format can never collide with this one. `detail` is canonical JSON with sorted keys.
 */
export const GENESIS_HASH = '0'.repeat(64);
const RECORD_LABEL = 'cardline-audit-record-v1\n';
const CHECKPOINT_LABEL = 'cardline-audit-checkpoint-v1\n';

export type DetailValue = string | number | boolean | null;
export type Detail = Readonly<Record<string, DetailValue>>;

export function canonicalDetail(detail: Detail): string {
  const keys = Object.keys(detail).sort();
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, detail[k] ?? null])));
}

/** The hashed fields: every column of the row except the hash itself (their order is fixed in recordHash). */
export type HashedRecord = Omit<AuditEventsTable, 'hash'>;

export function recordHash(r: HashedRecord): string {
  const fields = [r.seq, r.at, r.actor_kind, r.actor_id, r.actor_name, r.action, r.outcome, r.target_kind, r.target_id,
    r.merchant_id, r.ip, r.user_agent, r.detail_json, r.prev_hash];
  return createHash('sha256').update(RECORD_LABEL + JSON.stringify(fields), 'utf8').digest('hex');
}

export interface SealedFields {
  seq: number;
  record_seq: number;
  head_hash: string;
  at: string;
  prev_mac: string;
}

export function checkpointMac(key: Buffer, c: SealedFields): string {
  return createHmac('sha256', key).update(CHECKPOINT_LABEL + JSON.stringify([c.seq, c.record_seq, c.head_hash, c.at, c.prev_mac]), 'utf8').digest('hex');
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
