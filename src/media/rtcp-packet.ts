/**
 * RTCP compound packets (RFC 3550 §6): SR, RR, SDES, BYE, APP, and the generic feedback header of
 * RFC 4585 §6.1 (RTPFB 205 / PSFB 206) passed through with its FCI untouched. Anything else (XR 207, …)
 * is kept as an opaque `unknown` packet so a relay can forward it. Pure codec, every length checked.
 *
 * Common header of every packet in a compound (RFC 3550 §6.4.1):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|  RC/SC  |      PT       |             length            |  length = 32-bit words − 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * SR (PT 200) body:  SSRC | NTP ts (64) | RTP ts | packet count | octet count | RC × report block | ext
 * RR (PT 201) body:  SSRC | RC × report block | profile-specific extension
 * report block (24): SSRC | fraction lost (8) | cumulative lost (24, signed) | ext. highest seq |
 *                    jitter | LSR | DLSR
 * SDES (PT 202):     SC × chunk; chunk = SSRC | items (type 8, length 8, text) | 0-octet | pad to 32 bits
 * BYE (PT 203):      SC × SSRC | [length (8) | reason | pad to 32 bits]
 * APP (PT 204):      subtype in RC | SSRC | name (4 ASCII) | data (multiple of 4)
 * RTPFB/PSFB:        FMT in RC | sender SSRC | media SSRC | FCI
 *
 * Validity (RFC 3550 Appendix A.2): every packet has V = 2; the first is SR or RR (unless `reducedSize`,
 * RFC 5506 §3.4.2, is allowed); only the last may carry padding; the packet lengths add up to the datagram.
 * Padding is removed on parse and never written (SRTCP's AES-CM needs none).
 */
import { isUint, put16, put24, put32, u16, u24, u32 } from './bytes.ts';
import { RtcpParseError } from './errors.ts';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;

/** SDES item types (RFC 3550 §6.5). */
export const SDES_CNAME = 1;
export const SDES_NAME = 2;
export const SDES_PRIV = 8;

export interface RtcpReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, fixed point /256. */
  fractionLost: number;
  /** Cumulative number lost: a signed 24-bit value (duplicates can make it negative, RFC 3550 §6.4.1). */
  cumulativeLost: number;
  highestSequence: number;
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface RtcpSenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: RtcpReportBlock[];
  /** Profile-specific extension (a multiple of 4 octets; usually empty). */
  extension: Uint8Array;
}

export interface RtcpReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: RtcpReportBlock[];
  extension: Uint8Array;
}

export interface RtcpSdesItem {
  /** 1 CNAME, 2 NAME, 3 EMAIL, 4 PHONE, 5 LOC, 6 TOOL, 7 NOTE, 8 PRIV. */
  type: number;
  /** The item's octets (UTF-8 text for the standard items), 0..255. */
  data: Uint8Array;
}

export interface RtcpSdesChunk {
  ssrc: number;
  items: RtcpSdesItem[];
}

export interface RtcpSdes {
  type: 'sdes';
  chunks: RtcpSdesChunk[];
}

export interface RtcpBye {
  type: 'bye';
  ssrcs: number[];
  /** Reason for leaving, raw octets (UTF-8), or null when absent. */
  reason: Uint8Array | null;
}

export interface RtcpApp {
  type: 'app';
  subtype: number;
  ssrc: number;
  /** Four ASCII characters. */
  name: string;
  data: Uint8Array;
}

export interface RtcpFeedback {
  type: 'rtpfb' | 'psfb';
  /** Feedback message type (RFC 4585 §6.1: 1 = generic NACK, PSFB 1 = PLI, …). */
  fmt: number;
  senderSsrc: number;
  mediaSsrc: number;
  /** Feedback control information, passed through untouched (a multiple of 4 octets). */
  fci: Uint8Array;
}

export interface RtcpUnknown {
  type: 'unknown';
  packetType: number;
  /** The 5-bit RC/SC/FMT field. */
  count: number;
  /** Everything after the 4-octet common header (a multiple of 4 octets). */
  body: Uint8Array;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpSdes | RtcpBye | RtcpApp | RtcpFeedback | RtcpUnknown;

export interface ParseRtcpOptions {
  /** Accept a compound that does not start with SR/RR (RFC 5506 reduced-size RTCP). Default false. */
  reducedSize?: boolean;
}

const REPORT_BLOCK = 24;

function parseReportBlocks(b: Uint8Array, o: number, count: number): RtcpReportBlock[] {
  const out: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++, o += REPORT_BLOCK) {
    const lost = u24(b, o + 5);
    out.push({
      ssrc: u32(b, o),
      fractionLost: b[o + 4] as number,
      cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSequence: u32(b, o + 8),
      jitter: u32(b, o + 12),
      lastSr: u32(b, o + 16),
      delaySinceLastSr: u32(b, o + 20),
    });
  }
  return out;
}

function parseSdes(b: Uint8Array, start: number, end: number, sc: number): RtcpSdes {
  const chunks: RtcpSdesChunk[] = [];
  let o = start;
  for (let c = 0; c < sc; c++) {
    if (o + 4 > end) throw new RtcpParseError(`SDES chunk ${c} of ${sc} missing`, o);
    const ssrc = u32(b, o);
    o += 4;
    const items: RtcpSdesItem[] = [];
    for (;;) {
      if (o >= end) throw new RtcpParseError('SDES chunk has no terminating null item', o);
      const type = b[o] as number;
      if (type === 0) {
        // End of the item list: skip the null octet and pad to the next 32-bit boundary (§6.5).
        o = (o + 4) & ~3;
        if (o > end) throw new RtcpParseError('SDES chunk padding runs past the packet', end);
        break;
      }
      if (o + 2 > end) throw new RtcpParseError('SDES item has no length octet', o);
      const n = b[o + 1] as number;
      if (o + 2 + n > end) throw new RtcpParseError(`SDES item of ${n} octets runs past the packet`, o);
      items.push({ type, data: b.slice(o + 2, o + 2 + n) });
      o += 2 + n;
    }
    chunks.push({ ssrc, items });
  }
  if (o !== end) throw new RtcpParseError(`${end - o} octets after the last SDES chunk`, o);
  return { type: 'sdes', chunks };
}

/** Parses a compound RTCP packet, or throws `RtcpParseError`. */
export function parseRtcp(input: Uint8Array, options: ParseRtcpOptions = {}): RtcpPacket[] {
  const b = input;
  const total = b.length;
  if (total < 4) throw new RtcpParseError(`datagram of ${total} octets is shorter than one RTCP header`, 0);
  if (total % 4 !== 0) throw new RtcpParseError(`datagram of ${total} octets is not a multiple of 4`, 0);
  const packets: RtcpPacket[] = [];
  let o = 0;
  while (o < total) {
    if (o + 4 > total) throw new RtcpParseError('truncated RTCP header', o);
    const b0 = b[o] as number;
    const pt = b[o + 1] as number;
    if (b0 >>> 6 !== 2) throw new RtcpParseError(`version ${b0 >>> 6}, expected 2`, o);
    const count = b0 & 0x1f;
    const size = (u16(b, o + 2) + 1) * 4;
    const end = o + size;
    if (end > total) throw new RtcpParseError(`packet length ${size} runs past the datagram (${total - o} left)`, o);
    if (packets.length === 0 && !options.reducedSize && pt !== RTCP_SR && pt !== RTCP_RR) {
      throw new RtcpParseError(`compound starts with packet type ${pt}, not SR or RR (RFC 3550 A.2)`, o);
    }
    let bodyEnd = end;
    if (b0 & 0x20) {
      // A.2: only the last packet of a compound may be padded; the count octet includes itself.
      if (end !== total) throw new RtcpParseError('padding on a packet that is not the last of the compound', o);
      const pad = b[end - 1] as number;
      if (pad === 0 || pad > size - 4) throw new RtcpParseError(`padding count ${pad} invalid for a ${size}-octet packet`, end - 1);
      bodyEnd = end - pad;
    }
    const s = o + 4;
    const bodyLen = bodyEnd - s;
    switch (pt) {
      case RTCP_SR: {
        const need = 24 + count * REPORT_BLOCK;
        if (bodyLen < need) throw new RtcpParseError(`SR with ${count} report blocks needs ${need} octets, has ${bodyLen}`, o);
        packets.push({
          type: 'sr', ssrc: u32(b, s), ntpSeconds: u32(b, s + 4), ntpFraction: u32(b, s + 8), rtpTimestamp: u32(b, s + 12),
          packetCount: u32(b, s + 16), octetCount: u32(b, s + 20), reports: parseReportBlocks(b, s + 24, count),
          extension: b.slice(s + need, bodyEnd),
        });
        break;
      }
      case RTCP_RR: {
        const need = 4 + count * REPORT_BLOCK;
        if (bodyLen < need) throw new RtcpParseError(`RR with ${count} report blocks needs ${need} octets, has ${bodyLen}`, o);
        packets.push({ type: 'rr', ssrc: u32(b, s), reports: parseReportBlocks(b, s + 4, count), extension: b.slice(s + need, bodyEnd) });
        break;
      }
      case RTCP_SDES:
        packets.push(parseSdes(b, s, bodyEnd, count));
        break;
      case RTCP_BYE: {
        if (bodyLen < count * 4) throw new RtcpParseError(`BYE with ${count} sources needs ${count * 4} octets, has ${bodyLen}`, o);
        const ssrcs: number[] = [];
        for (let i = 0; i < count; i++) ssrcs.push(u32(b, s + i * 4));
        let reason: Uint8Array | null = null;
        const r = s + count * 4;
        if (r < bodyEnd) {
          const n = b[r] as number;
          if (r + 1 + n > bodyEnd) throw new RtcpParseError(`BYE reason of ${n} octets runs past the packet`, r);
          reason = b.slice(r + 1, r + 1 + n);
          // The rest must be the zero padding to a 32-bit boundary (§6.6).
          if (((r + 1 + n + 3) & ~3) !== bodyEnd) throw new RtcpParseError('octets after the BYE reason', r + 1 + n);
        }
        packets.push({ type: 'bye', ssrcs, reason });
        break;
      }
      case RTCP_APP: {
        if (bodyLen < 8) throw new RtcpParseError(`APP packet body of ${bodyLen} octets is shorter than 8`, o);
        const nameBytes = b.subarray(s + 4, s + 8);
        packets.push({ type: 'app', subtype: count, ssrc: u32(b, s), name: String.fromCharCode(...nameBytes), data: b.slice(s + 8, bodyEnd) });
        break;
      }
      case RTCP_RTPFB:
      case RTCP_PSFB: {
        if (bodyLen < 8) throw new RtcpParseError(`feedback packet body of ${bodyLen} octets is shorter than 8`, o);
        packets.push({
          type: pt === RTCP_RTPFB ? 'rtpfb' : 'psfb', fmt: count, senderSsrc: u32(b, s), mediaSsrc: u32(b, s + 4), fci: b.slice(s + 8, bodyEnd),
        });
        break;
      }
      default:
        packets.push({ type: 'unknown', packetType: pt, count, body: b.slice(s, bodyEnd) });
    }
    o = end;
  }
  return packets;
}

// ---- serialization --------------------------------------------------------------------------------------

function bad(detail: string): RtcpParseError {
  return new RtcpParseError(`cannot serialize: ${detail}`);
}

function checkU32(v: number, what: string): void {
  if (!isUint(v, 32)) throw bad(`${what} out of range`);
}

function checkWords(d: Uint8Array, what: string): void {
  if (d.length % 4 !== 0) throw bad(`${what} of ${d.length} octets is not a multiple of 4`);
}

function sdesChunkLength(c: RtcpSdesChunk): number {
  const items = c.items.reduce((n, it) => n + 2 + it.data.length, 0);
  return 4 + ((items + 1 + 3) & ~3); // + null item, padded
}

function bodyLength(p: RtcpPacket): number {
  switch (p.type) {
    case 'sr': return 24 + p.reports.length * REPORT_BLOCK + p.extension.length;
    case 'rr': return 4 + p.reports.length * REPORT_BLOCK + p.extension.length;
    case 'sdes': return p.chunks.reduce((n, c) => n + sdesChunkLength(c), 0);
    case 'bye': return p.ssrcs.length * 4 + (p.reason ? (p.reason.length + 1 + 3) & ~3 : 0);
    case 'app': return 8 + p.data.length;
    case 'rtpfb': case 'psfb': return 8 + p.fci.length;
    case 'unknown': return p.body.length;
  }
}

function validate(p: RtcpPacket): void {
  const count = (n: number, what: string): void => { if (n > 31) throw bad(`${n} ${what} (max 31)`); };
  switch (p.type) {
    case 'sr':
      for (const v of [p.ssrc, p.ntpSeconds, p.ntpFraction, p.rtpTimestamp, p.packetCount, p.octetCount]) checkU32(v, 'SR field');
      count(p.reports.length, 'report blocks');
      checkWords(p.extension, 'SR extension');
      break;
    case 'rr':
      checkU32(p.ssrc, 'RR SSRC');
      count(p.reports.length, 'report blocks');
      checkWords(p.extension, 'RR extension');
      break;
    case 'sdes':
      count(p.chunks.length, 'SDES chunks');
      for (const c of p.chunks) {
        checkU32(c.ssrc, 'SDES SSRC');
        for (const it of c.items) {
          if (!Number.isInteger(it.type) || it.type < 1 || it.type > 255) throw bad(`SDES item type ${it.type}`);
          if (it.data.length > 255) throw bad(`SDES item of ${it.data.length} octets (max 255)`);
        }
      }
      break;
    case 'bye':
      count(p.ssrcs.length, 'BYE sources');
      for (const s of p.ssrcs) checkU32(s, 'BYE SSRC');
      if (p.reason && p.reason.length > 255) throw bad(`BYE reason of ${p.reason.length} octets (max 255)`);
      break;
    case 'app':
      if (!isUint(p.subtype, 5)) throw bad(`APP subtype ${p.subtype}`);
      checkU32(p.ssrc, 'APP SSRC');
      if (!/^[\x00-\xff]{4}$/.test(p.name)) throw bad('APP name must be 4 octets (ASCII)');
      checkWords(p.data, 'APP data');
      break;
    case 'rtpfb': case 'psfb':
      if (!isUint(p.fmt, 5)) throw bad(`feedback FMT ${p.fmt}`);
      checkU32(p.senderSsrc, 'feedback sender SSRC');
      checkU32(p.mediaSsrc, 'feedback media SSRC');
      checkWords(p.fci, 'feedback FCI');
      break;
    case 'unknown':
      if (!isUint(p.packetType, 8) || p.packetType < 192 || p.packetType > 223) throw bad(`packet type ${p.packetType}`);
      if ([RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_APP, RTCP_RTPFB, RTCP_PSFB].includes(p.packetType)) throw bad(`packet type ${p.packetType} has its own shape`);
      if (!isUint(p.count, 5)) throw bad(`count ${p.count}`);
      checkWords(p.body, 'packet body');
      break;
  }
}

function writeReports(out: Uint8Array, o: number, reports: readonly RtcpReportBlock[]): number {
  for (const r of reports) {
    for (const v of [r.ssrc, r.highestSequence, r.jitter, r.lastSr, r.delaySinceLastSr]) checkU32(v, 'report block field');
    if (!isUint(r.fractionLost, 8)) throw bad('fraction lost out of range');
    if (!Number.isInteger(r.cumulativeLost) || r.cumulativeLost < -0x800000 || r.cumulativeLost > 0x7fffff) throw bad('cumulative lost out of range');
    put32(out, o, r.ssrc);
    out[o + 4] = r.fractionLost;
    put24(out, o + 5, r.cumulativeLost & 0xffffff);
    put32(out, o + 8, r.highestSequence);
    put32(out, o + 12, r.jitter);
    put32(out, o + 16, r.lastSr);
    put32(out, o + 20, r.delaySinceLastSr);
    o += REPORT_BLOCK;
  }
  return o;
}

const PT: Record<RtcpPacket['type'], number> = { sr: RTCP_SR, rr: RTCP_RR, sdes: RTCP_SDES, bye: RTCP_BYE, app: RTCP_APP, rtpfb: RTCP_RTPFB, psfb: RTCP_PSFB, unknown: 0 };

function countField(p: RtcpPacket): number {
  switch (p.type) {
    case 'sr': case 'rr': return p.reports.length;
    case 'sdes': return p.chunks.length;
    case 'bye': return p.ssrcs.length;
    case 'app': return p.subtype;
    case 'rtpfb': case 'psfb': return p.fmt;
    case 'unknown': return p.count;
  }
}

/**
 * Builds a compound packet. Throws `RtcpParseError` (rtcp-malformed) on out-of-range fields. It does not
 * insist on SR/RR first, so reduced-size feedback can be built too; `parseRtcp` checks that on receipt.
 */
export function serializeRtcp(packets: readonly RtcpPacket[]): Uint8Array {
  if (packets.length === 0) throw bad('an empty compound');
  let total = 0;
  for (const p of packets) {
    validate(p);
    const n = 4 + bodyLength(p);
    if (n / 4 - 1 > 0xffff) throw bad(`packet of ${n} octets is too long`);
    total += n;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of packets) {
    const n = 4 + bodyLength(p);
    out[o] = 0x80 | countField(p);
    out[o + 1] = p.type === 'unknown' ? p.packetType : PT[p.type];
    put16(out, o + 2, n / 4 - 1);
    let w = o + 4;
    switch (p.type) {
      case 'sr':
        put32(out, w, p.ssrc); put32(out, w + 4, p.ntpSeconds); put32(out, w + 8, p.ntpFraction);
        put32(out, w + 12, p.rtpTimestamp); put32(out, w + 16, p.packetCount); put32(out, w + 20, p.octetCount);
        w = writeReports(out, w + 24, p.reports);
        out.set(p.extension, w);
        break;
      case 'rr':
        put32(out, w, p.ssrc);
        w = writeReports(out, w + 4, p.reports);
        out.set(p.extension, w);
        break;
      case 'sdes':
        for (const c of p.chunks) {
          const cs = w;
          put32(out, w, c.ssrc);
          w += 4;
          for (const it of c.items) {
            out[w] = it.type;
            out[w + 1] = it.data.length;
            out.set(it.data, w + 2);
            w += 2 + it.data.length;
          }
          w = cs + sdesChunkLength(c); // null item and padding are already zero
        }
        break;
      case 'bye':
        for (const s of p.ssrcs) { put32(out, w, s); w += 4; }
        if (p.reason) { out[w] = p.reason.length; out.set(p.reason, w + 1); }
        break;
      case 'app':
        put32(out, w, p.ssrc);
        for (let i = 0; i < 4; i++) out[w + 4 + i] = p.name.charCodeAt(i);
        out.set(p.data, w + 8);
        break;
      case 'rtpfb': case 'psfb':
        put32(out, w, p.senderSsrc); put32(out, w + 4, p.mediaSsrc);
        out.set(p.fci, w + 8);
        break;
      case 'unknown':
        out.set(p.body, w);
        break;
    }
    o += n;
  }
  return out;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: false });

/** The CNAME of an SDES chunk as text (RFC 3550 §6.5.1), or null. */
export function sdesCname(chunk: RtcpSdesChunk): string | null {
  const item = chunk.items.find((it) => it.type === SDES_CNAME);
  return item ? utf8d.decode(item.data) : null;
}

/** An SDES packet carrying one CNAME item for one source (the minimum RFC 3550 §6.1 asks for). */
export function sdesWithCname(ssrc: number, cname: string): RtcpSdes {
  return { type: 'sdes', chunks: [{ ssrc, items: [{ type: SDES_CNAME, data: utf8.encode(cname) }] }] };
}

/** The SSRC that sent a compound (first packet's sender field), used by SRTCP for its IV (RFC 3711 §4.1.1). */
export function rtcpSenderSsrc(b: Uint8Array): number {
  if (b.length < 8) throw new RtcpParseError(`datagram of ${b.length} octets has no sender SSRC`, 0);
  return u32(b, 4);
}
