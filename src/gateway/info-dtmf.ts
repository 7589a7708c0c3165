/**
 * DTMF carried in SIP INFO (RFC 6086 INFO with the de-facto bodies the issue names): `application/dtmf-relay`
 * (`Signal=5\r\nDuration=160`, Cisco/SIP-forum style) and `application/dtmf` (the body is the key). The B2BUA reads
 * the key and, in secure mode, sends it only to the secure sink; such an INFO is never forwarded to the agent.
 * Pure: no I/O; the digit never appears in an error message.
 */
import { type DtmfDigit, isDtmfDigit } from '../dsp/index.ts';

/** Largest INFO body read for a key (a dtmf-relay body is a few dozen bytes). */
export const MAX_INFO_DTMF_BODY = 256;

/** Whether a Content-Type names one of the DTMF INFO bodies (parameters ignored, case-insensitive). */
export function isDtmfInfoType(contentType: string | undefined): boolean {
  const t = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return t === 'application/dtmf-relay' || t === 'application/dtmf';
}

/**
 * The key in a DTMF INFO body, or null when the body carries none (or is not a DTMF type). `Signal` values are
 * the keypad characters; the numeric form 10/11 (`*`/`#`) that some phones send is accepted too.
 */
export function parseInfoDtmf(contentType: string | undefined, body: Uint8Array): DtmfDigit | null {
  if (!isDtmfInfoType(contentType) || body.length === 0 || body.length > MAX_INFO_DTMF_BODY) return null;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  let raw: string | undefined;
  if (type === 'application/dtmf') {
    raw = text.trim();
  } else {
    for (const line of text.split(/\r?\n/)) {
      const m = /^\s*signal\s*=\s*(\S+)\s*$/i.exec(line);
      if (m) {
        raw = m[1];
        break;
      }
    }
  }
  if (raw === undefined) return null;
  if (raw === '10') return '*';
  if (raw === '11') return '#';
  const key = raw.toUpperCase();
  return key.length === 1 && isDtmfDigit(key) ? key : null;
}
