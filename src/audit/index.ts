/** The tamper-evident audit trail (issue 5): append, seal, query, export, verify. Import from here only. */
export { AuditLog, rowToRecord, type ActorKind, type AuditEntry, type AuditLogOptions, type AuditOutcome, type AuditQuery, type AuditRecord } from './audit-log.ts';
export { verifyAuditTrail, type AuditProblem, type AuditVerifyReport, type VerifyOptions } from './verify.ts';
export { auditCsvHeader, auditCsvRow, auditJsonLine, csvCell, csvLine, exportAudit, CSV_COLUMNS } from './export.ts';
export { AUDIT_ANCHOR_FILE, AUDIT_KEY_FILE, ensureAuditKey, readAuditKey, readAnchor, writeAnchor, type AuditAnchor } from './audit-key.ts';
export { canonicalDetail, checkpointMac, GENESIS_HASH, recordHash, type Detail, type DetailValue } from './canonical.ts';
export type { AuditDatabase, AuditEventsTable, AuditCheckpointsTable } from './schema.ts';
export { installHttpAudit, type HttpAuditPrincipal } from './http-audit.ts';
