import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKeyFile, readKey } from '../auth/key-file.ts';
import { readFileIfExists } from '../config/index.ts';
import { CardlineError } from '../errors/index.ts';

/**
 * The audit sealing key (`<data dir>/audit-key`, 256 bits, base64, mode 0600): its own file, separate from the
 * auth key and the callback secret, so it can be held by a different custodian or moved off the host
 * (PCI DSS 4.0 req. 10.3.2: audit logs protected from modification). Created once, O_EXCL.
 */
export const AUDIT_KEY_FILE = 'audit-key';
/** Latest checkpoint, written beside the database so that deleting sealed rows together with their checkpoints is still detected. */
export const AUDIT_ANCHOR_FILE = 'audit-anchor.json';

export function ensureAuditKey(dataDir: string): Buffer {
  return ensureKeyFile(join(dataDir, AUDIT_KEY_FILE)).key;
}

export function readAuditKey(dataDir: string): Buffer | null {
  return readKey(join(dataDir, AUDIT_KEY_FILE));
}

export interface AuditAnchor {
  seq: number;
  recordSeq: number;
  headHash: string;
  mac: string;
}

export function readAnchor(path: string): AuditAnchor | null {
  const text = readFileIfExists(path);
  if (text === null) return null;
  try {
    const a = JSON.parse(text) as Partial<AuditAnchor>;
    if (typeof a.seq === 'number' && typeof a.recordSeq === 'number' && typeof a.headHash === 'string' && typeof a.mac === 'string') {
      return { seq: a.seq, recordSeq: a.recordSeq, headHash: a.headHash, mac: a.mac };
    }
  } catch { /* reported below */ }
  throw new CardlineError('audit-chain-broken', `${path} is not a valid audit anchor`);
}

/** Atomic replace (write + rename); only ever moves forward. */
export function writeAnchor(path: string, anchor: AuditAnchor): void {
  const current = readAnchorQuiet(path);
  if (current !== null && current.seq >= anchor.seq) return;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(anchor)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function readAnchorQuiet(path: string): AuditAnchor | null {
  try {
    return readAnchor(path);
  } catch {
    return null;
  }
}
