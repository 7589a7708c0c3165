/**
 * CSeq (RFC 3261 §20.16):  CSeq = "CSeq" HCOLON 1*DIGIT LWS Method
 * §8.1.1.5: "The sequence number MUST be expressible as a 32-bit unsigned integer". We accept up to 2^32-1 from
 * peers and refuse larger values (RFC 4475 §3.1.2.4 scalar02 sends 2^65).
 */
import { parseBoundedInt, Scanner } from './grammar.ts';

export interface CSeq {
  seq: number;
  method: string;
}

export const CSEQ_MAX = 0xffffffff;

export function parseCSeq(text: string): CSeq {
  const s: Scanner = new Scanner(text, 'CSeq');
  s.skipWs();
  const start = s.pos;
  while (!s.done && /[0-9]/.test(s.peek()!)) s.pos++;
  const seq = parseBoundedInt(s.text.slice(start, s.pos), CSEQ_MAX);
  if (seq === undefined) s.fail('bad sequence number');
  if (!s.skipWs()) s.fail('expected white space before method');
  const method = s.token('method');
  s.end();
  return { seq, method };
}

export function serializeCSeq(c: CSeq): string {
  if (!Number.isInteger(c.seq) || c.seq < 0 || c.seq > CSEQ_MAX) throw new TypeError('CSeq out of range');
  return `${c.seq} ${c.method}`;
}
