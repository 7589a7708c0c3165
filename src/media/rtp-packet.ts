/**
 * RTP data packets (RFC 3550 §5.1): pure codec, every length checked against hostile input.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           timestamp                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           synchronization source (SSRC) identifier            |
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *   |            contributing source (CSRC) identifiers             |  CC × 4 octets
 *   |                             ....                              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      defined by profile       |           length              |  X = 1 (RFC 3550 §5.3.1):
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  length in 32-bit words,
 *   |                        header extension                       |  not counting this word
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                            payload  ...                       |
 *   |                               +-------------------------------+
 *   |                               | padding ...   | padding count |  P = 1: the last octet counts
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  the padding, itself included
 *
 * Checks (RFC 3550 §5.1 and Appendix A.1's "valid header" tests): at least 12 octets; V = 2; the CSRC list
 * and the extension fit; the padding count is ≥ 1 (it includes itself) and ≤ the octets after the header.
 * PT 72..76 collide with RTCP SR/RR/SDES/BYE/APP when the marker is set (RFC 5761 §4): such a packet is
 * refused, since a muxed receiver could not tell it from RTCP.
 *
 * Aliasing: `parseRtp` copies its input once by default, so the packet never aliases a buffer that a socket
 * or a pool reuses; `{ copy: false }` is for callers that own the bytes (Node's dgram hands each 'message'
 * a fresh Buffer).
 */
import { isUint, put16, put32, u16, u32 } from './bytes.ts';
import { RtpParseError } from './errors.ts';

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_LENGTH = 12;
/** RFC 3550 §5.1: CC is a 4-bit field. */
export const RTP_MAX_CSRC = 15;

/** The header extension block of RFC 3550 §5.3.1, kept raw; see rtp-header-extension.ts for RFC 8285. */
export interface RtpHeaderExtension {
  /** The 16 "defined by profile" bits (0xBEDE = RFC 8285 one-byte form, 0x100x = two-byte form). */
  profile: number;
  /** The extension body, a multiple of 4 octets (may be empty). */
  data: Uint8Array;
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension: RtpHeaderExtension | null;
  payload: Uint8Array;
  /** Number of padding octets including the count octet (0 = the P bit is clear). */
  paddingLength: number;
}

export interface ParseRtpOptions {
  /** Copy the input before building views on it (default true). */
  copy?: boolean;
}

/** Parses one RTP packet or throws `RtpParseError`. */
export function parseRtp(input: Uint8Array, options: ParseRtpOptions = {}): RtpPacket {
  const len = input.length;
  if (len < RTP_FIXED_HEADER_LENGTH) throw new RtpParseError(`packet of ${len} octets is shorter than the 12-octet fixed header`, 0);
  const b = options.copy === false ? input : input.slice();
  const b0 = b[0] as number;
  const b1 = b[1] as number;
  const version = b0 >>> 6;
  if (version !== RTP_VERSION) throw new RtpParseError(`version ${version}, expected 2`, 0);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  const marker = (b1 & 0x80) !== 0;
  const payloadType = b1 & 0x7f;
  // RFC 5761 §4: with M set these PT values read as RTCP packet types 200..204.
  if (marker && payloadType >= 72 && payloadType <= 76) {
    throw new RtpParseError(`payload type ${payloadType} with marker set is indistinguishable from RTCP`, 1);
  }
  let offset = RTP_FIXED_HEADER_LENGTH;
  if (offset + cc * 4 > len) throw new RtpParseError(`CSRC count ${cc} needs ${cc * 4} octets, ${len - offset} left`, offset);
  const csrcs: number[] = new Array<number>(cc);
  for (let i = 0; i < cc; i++, offset += 4) csrcs[i] = u32(b, offset);

  let extension: RtpHeaderExtension | null = null;
  if (hasExtension) {
    if (offset + 4 > len) throw new RtpParseError('X bit set but no room for the extension header', offset);
    const profile = u16(b, offset);
    const words = u16(b, offset + 2);
    const start = offset + 4;
    const end = start + words * 4;
    if (end > len) throw new RtpParseError(`header extension of ${words} words runs past the packet end`, offset);
    extension = { profile, data: b.subarray(start, end) };
    offset = end;
  }

  let payloadEnd = len;
  let paddingLength = 0;
  if (hasPadding) {
    if (len === offset) throw new RtpParseError('P bit set but there is no padding count octet', offset);
    paddingLength = b[len - 1] as number;
    // The count includes itself (RFC 3550 §5.1), so 0 is invalid; it cannot reach into the header (A.1).
    if (paddingLength === 0) throw new RtpParseError('padding count is 0', len - 1);
    if (paddingLength > len - offset) throw new RtpParseError(`padding count ${paddingLength} exceeds the ${len - offset} octets after the header`, len - 1);
    payloadEnd = len - paddingLength;
  }

  return {
    marker,
    payloadType,
    sequenceNumber: u16(b, 2),
    timestamp: u32(b, 4),
    ssrc: u32(b, 8),
    csrcs,
    extension,
    payload: b.subarray(offset, payloadEnd),
    paddingLength,
  };
}

/** Octets `serializeRtp(p)` will produce. */
export function rtpPacketLength(p: RtpPacket): number {
  return RTP_FIXED_HEADER_LENGTH + p.csrcs.length * 4 + (p.extension ? 4 + p.extension.data.length : 0) + p.payload.length + p.paddingLength;
}

/** Builds the wire form. Throws `RtpParseError` (code rtp-malformed) when a field is out of range. */
export function serializeRtp(p: RtpPacket): Uint8Array {
  return serializeRtpInto(p, new Uint8Array(rtpPacketLength(p)));
}

/**
 * `serializeRtp` into caller-provided memory: `out` must hold at least `rtpPacketLength(p)` octets, any content
 * (every octet of the result is written); returns the view of its first `rtpPacketLength(p)` octets. A relay passes
 * pooled memory (`Buffer.allocUnsafe`), much cheaper per packet than a fresh zeroed array.
 */
export function serializeRtpInto(p: RtpPacket, out: Uint8Array): Uint8Array {
  if (!isUint(p.payloadType, 7)) throw new RtpParseError(`cannot serialize payload type ${p.payloadType}`);
  if (!isUint(p.sequenceNumber, 16)) throw new RtpParseError('cannot serialize: sequence number out of range');
  if (!isUint(p.timestamp, 32)) throw new RtpParseError('cannot serialize: timestamp out of range');
  if (!isUint(p.ssrc, 32)) throw new RtpParseError('cannot serialize: SSRC out of range');
  if (p.csrcs.length > RTP_MAX_CSRC) throw new RtpParseError(`cannot serialize ${p.csrcs.length} CSRCs (max 15)`);
  if (!isUint(p.paddingLength, 8)) throw new RtpParseError(`cannot serialize padding of ${p.paddingLength} octets (0..255)`);
  if (p.extension) {
    if (!isUint(p.extension.profile, 16)) throw new RtpParseError('cannot serialize: extension profile out of range');
    if (p.extension.data.length % 4 !== 0 || p.extension.data.length > 0xffff * 4) {
      throw new RtpParseError(`cannot serialize a header extension of ${p.extension.data.length} octets (multiple of 4 required)`);
    }
  }
  if (p.marker && p.payloadType >= 72 && p.payloadType <= 76) {
    throw new RtpParseError(`cannot serialize payload type ${p.payloadType} with marker set (RFC 5761 §4)`);
  }
  const length = rtpPacketLength(p);
  if (out.length < length) throw new RtpParseError(`output buffer of ${out.length} octets is shorter than the ${length}-octet packet`);
  if (out.length > length) out = out.subarray(0, length);
  out[0] = (RTP_VERSION << 6) | (p.paddingLength > 0 ? 0x20 : 0) | (p.extension ? 0x10 : 0) | p.csrcs.length;
  out[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  put16(out, 2, p.sequenceNumber);
  put32(out, 4, p.timestamp);
  put32(out, 8, p.ssrc);
  let o = RTP_FIXED_HEADER_LENGTH;
  for (const c of p.csrcs) {
    if (!isUint(c, 32)) throw new RtpParseError('cannot serialize: CSRC out of range');
    put32(out, o, c);
    o += 4;
  }
  if (p.extension) {
    put16(out, o, p.extension.profile);
    put16(out, o + 2, p.extension.data.length / 4);
    out.set(p.extension.data, o + 4);
    o += 4 + p.extension.data.length;
  }
  out.set(p.payload, o);
  o += p.payload.length;
  // Padding octets are zero except the last, which holds the count (RFC 3550 §5.1).
  if (p.paddingLength > 0) {
    out.fill(0, o, length - 1);
    out[length - 1] = p.paddingLength;
  }
  return out;
}

/**
 * Length of the RTP header (fixed part, CSRCs, extension) of a packet, checked, without parsing the rest.
 * SRTP needs exactly this: the header is authenticated but not encrypted (RFC 3711 §3.1).
 */
export function rtpHeaderLength(b: Uint8Array): number {
  if (b.length < RTP_FIXED_HEADER_LENGTH) throw new RtpParseError(`packet of ${b.length} octets is shorter than the 12-octet fixed header`, 0);
  const b0 = b[0] as number;
  if (b0 >>> 6 !== RTP_VERSION) throw new RtpParseError(`version ${b0 >>> 6}, expected 2`, 0);
  let o = RTP_FIXED_HEADER_LENGTH + (b0 & 0x0f) * 4;
  if (o > b.length) throw new RtpParseError('CSRC list runs past the packet end', RTP_FIXED_HEADER_LENGTH);
  if (b0 & 0x10) {
    if (o + 4 > b.length) throw new RtpParseError('X bit set but no room for the extension header', o);
    const end = o + 4 + u16(b, o + 2) * 4;
    if (end > b.length) throw new RtpParseError('header extension runs past the packet end', o);
    o = end;
  }
  return o;
}

/**
 * RFC 5761 §4 demultiplexing of RTP and RTCP on one port: the second octet of RTCP is a packet type in
 * 192..223 (FIR/NACK/SR/RR/SDES/BYE/APP/RTPFB/PSFB/XR…), which RTP avoids by never using PT 64..95 with M.
 */
export function looksLikeRtcp(b: Uint8Array): boolean {
  if (b.length < 2) return false;
  const pt = b[1] as number;
  return pt >= 192 && pt <= 223;
}
