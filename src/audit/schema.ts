/** Row shapes of the audit trail (migration `0002-auth-audit-billing`). */
export interface AuditEventsTable {
  /** 1, 2, 3, … with no gap: a gap, a duplicate or a reordering is itself evidence of tampering */
  seq: number;
  at: string;
  actor_kind: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  outcome: string;
  target_kind: string | null;
  target_id: string | null;
  merchant_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** canonical JSON object (sorted keys) */
  detail_json: string;
  /** `hash` of record seq-1 (64 zeros for seq 1) */
  prev_hash: string;
  /** SHA-256 over the canonical encoding of this record, prev_hash included (hex) */
  hash: string;
}

export interface AuditCheckpointsTable {
  seq: number;
  /** the last audit record this checkpoint seals */
  record_seq: number;
  head_hash: string;
  at: string;
  /** mac of the previous checkpoint (64 zeros for the first): checkpoints form their own chain */
  prev_mac: string;
  /** HMAC-SHA256(audit key, canonical(seq, record_seq, head_hash, at, prev_mac)), hex */
  mac: string;
  /** first 16 hex of SHA-256(key): which key sealed it, without revealing it */
  key_id: string;
}

export interface AuditDatabase {
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
}
