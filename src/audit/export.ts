import type { AuditRecord } from './audit-log.ts';

/**
 * Exports of the audit trail. JSON lines carry every field including the hashes (so a third party can re-verify
 * the chain); CSV is for spreadsheets and is made safe against formula injection (OWASP "CSV Injection"): a
 * cell starting with = + - @ TAB or CR is prefixed with a single quote, every cell is quoted, quotes doubled.
 */
export const CSV_COLUMNS = ['seq', 'at', 'actorKind', 'actorId', 'actorName', 'action', 'outcome', 'targetKind', 'targetId', 'merchantId', 'ip', 'userAgent', 'detail', 'prevHash', 'hash'] as const;

export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function csvLine(cells: readonly unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export function auditCsvHeader(): string {
  return csvLine(CSV_COLUMNS);
}

export function auditCsvRow(r: AuditRecord): string {
  return csvLine(CSV_COLUMNS.map((c) => r[c]));
}

export function auditJsonLine(r: AuditRecord): string {
  return `${JSON.stringify(r)}\n`;
}

export function exportAudit(records: readonly AuditRecord[], format: 'jsonl' | 'csv'): string {
  if (format === 'jsonl') return records.map(auditJsonLine).join('');
  return auditCsvHeader() + records.map(auditCsvRow).join('');
}
