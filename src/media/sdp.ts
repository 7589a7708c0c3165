/**
 * SDP (RFC 4566) as a line-preserving model: every line Cardline does not need to understand is kept
 * verbatim and in order, so rewriting an offer changes only what the B2BUA must change. Parsing is strict
 * where a wrong guess would misroute media (v/o/s order, o= and m= fields, ports, payload type numbers, a
 * connection address for every active stream) and lenient elsewhere (unknown attributes, missing t=).
 *
 *   v=0                                           session level: v, o, s first, then the rest in order
 *   o=<user> <sess-id> <sess-version> IN IP4 <addr>
 *   s=<name>
 *   c=IN IP4 <addr>                               (or per media)
 *   t=0 0
 *   m=audio <port>[/<n>] RTP/AVP <pt> <pt> ...    media level: each m= owns the lines up to the next m=
 *   a=rtpmap:<pt> <name>/<clock>[/<channels>]
 *   a=fmtp:<pt> <params>   a=ptime:<ms>   a=sendrecv|sendonly|recvonly|inactive   a=rtcp:<port> [IN IP4 addr]
 *   a=crypto:...           (RFC 4568)
 *
 * Hostile input: at most 64 KiB and 1000 lines; line values may not hold NUL or CR. Errors are
 * `SdpParseError` (sdp-malformed) with the 1-based line number; crypto lines never appear in messages.
 */
import { SdpParseError } from './errors.ts';
import { parseCryptoAttribute, type SdesCrypto } from './sdes.ts';

export interface SdpLine {
  /** One lowercase letter. */
  type: string;
  value: string;
}

export interface SdpOrigin {
  username: string;
  /** Kept as text: RFC 4566 allows 64-bit values beyond JavaScript's safe integers. */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpMedia {
  media: string;
  port: number;
  /** The "/<number of ports>" suffix, or null. */
  portCount: number | null;
  proto: string;
  formats: string[];
  /** Lines after the m= line, in order. */
  lines: SdpLine[];
}

export interface SessionDescription {
  origin: SdpOrigin;
  sessionName: string;
  /** Session-level lines after v=, o=, s=, in order. */
  lines: SdpLine[];
  media: SdpMedia[];
}

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface SdpConnection {
  addrType: string;
  address: string;
}

export interface RtpCodec {
  payloadType: number;
  /** Encoding name as written (compare case-insensitively). */
  name: string;
  clockRate: number;
  channels: number;
  fmtp: string | null;
}

/** Everything about one m= section that offer/answer needs. */
export interface MediaInfo {
  index: number;
  kind: string;
  port: number;
  proto: string;
  /** RTP/SAVP or RTP/SAVPF: SRTP keyed by SDES. */
  secure: boolean;
  /** RTP formats in m= order, static payload types resolved through RFC 3551 table 4 when no rtpmap. */
  codecs: RtpCodec[];
  ptime: number | null;
  direction: SdpDirection;
  connection: SdpConnection | null;
  /** RTCP port and address (RFC 3605 a=rtcp, else port + 1). */
  rtcp: { port: number; address: string | null };
  rtcpMux: boolean;
  crypto: SdesCrypto[];
}

export const SDP_MAX_LENGTH = 65536;
export const SDP_MAX_LINES = 1000;

/** RFC 3551 §6 table 4: static audio payload types (name, clock rate, channels). */
const STATIC_PT: Record<number, [string, number, number]> = {
  0: ['PCMU', 8000, 1], 3: ['GSM', 8000, 1], 4: ['G723', 8000, 1], 5: ['DVI4', 8000, 1], 6: ['DVI4', 16000, 1],
  7: ['LPC', 8000, 1], 8: ['PCMA', 8000, 1], 9: ['G722', 8000, 1], 10: ['L16', 44100, 2], 11: ['L16', 44100, 1],
  12: ['QCELP', 8000, 1], 13: ['CN', 8000, 1], 14: ['MPA', 90000, 1], 15: ['G728', 8000, 1], 16: ['DVI4', 11025, 1],
  17: ['DVI4', 22050, 1], 18: ['G729', 8000, 1],
};

const LINE = /^([a-z])=(.*)$/;
const TOKEN = /^[\x21-\x7e]+$/;

function fail(detail: string, line: number | null): SdpParseError {
  return new SdpParseError(detail, line);
}

function parsePort(s: string, line: number): number {
  if (!/^[0-9]{1,5}$/.test(s)) throw fail('port is not a number', line);
  const p = Number(s);
  if (p > 65535) throw fail('port above 65535', line);
  return p;
}

function parseOrigin(value: string, line: number): SdpOrigin {
  const f = value.split(' ');
  if (f.length !== 6 || f.some((x) => x === '' || !TOKEN.test(x))) throw fail('o= needs 6 space-separated fields', line);
  const [username, sessionId, sessionVersion, netType, addrType, address] = f as [string, string, string, string, string, string];
  if (!/^[0-9]{1,20}$/.test(sessionId) || !/^[0-9]{1,20}$/.test(sessionVersion)) throw fail('o= session id and version must be numbers', line);
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

function parseMediaLine(value: string, line: number): SdpMedia {
  const f = value.split(' ');
  if (f.length < 4 || f.some((x) => x === '' || !TOKEN.test(x))) throw fail('m= needs media, port, proto and at least one format', line);
  const [media, portField, proto, ...formats] = f as [string, string, string, ...string[]];
  const [portS, countS, extra] = portField.split('/');
  if (extra !== undefined) throw fail('m= port has two "/"', line);
  const port = parsePort(portS ?? '', line);
  let portCount: number | null = null;
  if (countS !== undefined) {
    if (!/^[0-9]{1,5}$/.test(countS) || Number(countS) < 1) throw fail('m= port count is not a positive number', line);
    portCount = Number(countS);
  }
  if (/^(UDP\/TLS\/)?RTP\//.test(proto)) {
    for (const fmt of formats) {
      if (!/^[0-9]{1,3}$/.test(fmt) || Number(fmt) > 127) throw fail('RTP payload type outside 0..127', line);
    }
  }
  return { media, port, portCount, proto, formats, lines: [] };
}

/** Parses an SDP body or throws `SdpParseError`. */
export function parseSdp(text: string): SessionDescription {
  if (text.length > SDP_MAX_LENGTH) throw fail(`SDP of ${text.length} characters exceeds ${SDP_MAX_LENGTH}`, null);
  const raw = text.split(/\r?\n/);
  while (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  if (raw.length > SDP_MAX_LINES) throw fail(`SDP has ${raw.length} lines (max ${SDP_MAX_LINES})`, null);
  if (raw.length < 3) throw fail('SDP needs at least v=, o= and s=', null);
  const lines: SdpLine[] = raw.map((l, i) => {
    const m = LINE.exec(l);
    if (!m) throw fail('line is not <letter>=<value>', i + 1);
    const value = m[2] as string;
    if (/[\0\r]/.test(value)) throw fail('line holds NUL or CR', i + 1);
    return { type: m[1] as string, value };
  });
  if (lines[0]?.type !== 'v' || lines[0].value !== '0') throw fail('first line must be v=0', 1);
  if (lines[1]?.type !== 'o') throw fail('second line must be o=', 2);
  if (lines[2]?.type !== 's') throw fail('third line must be s=', 3);
  const sd: SessionDescription = { origin: parseOrigin(lines[1].value, 2), sessionName: lines[2].value, lines: [], media: [] };
  let current: SdpMedia | null = null;
  let sessionConnection = false;
  for (let i = 3; i < lines.length; i++) {
    const l = lines[i] as SdpLine;
    if (l.type === 'v' || l.type === 'o' || l.type === 's') throw fail(`${l.type}= may appear only once, at the top`, i + 1);
    if (l.type === 'm') {
      current = parseMediaLine(l.value, i + 1);
      sd.media.push(current);
      continue;
    }
    if (l.type === 'c') parseConnection(l.value, i + 1);
    if (current) current.lines.push(l);
    else {
      if (l.type === 'c') sessionConnection = true;
      sd.lines.push(l);
    }
  }
  sd.media.forEach((m, k) => {
    if (m.port !== 0 && !sessionConnection && !m.lines.some((l) => l.type === 'c')) {
      throw fail(`media section ${k + 1} has no connection address`, null);
    }
  });
  return sd;
}

function parseConnection(value: string, line: number): SdpConnection {
  const f = value.split(' ');
  if (f.length !== 3 || f[0] !== 'IN' || !(f[1] === 'IP4' || f[1] === 'IP6') || !f[2] || !TOKEN.test(f[2])) {
    throw fail('c= must be "IN IP4|IP6 <address>"', line);
  }
  return { addrType: f[1], address: (f[2].split('/')[0]) as string };
}

/** Writes the model back as SDP text with CRLF line ends (RFC 4566 §5). */
export function serializeSdp(sd: SessionDescription): string {
  const o = sd.origin;
  const out: string[] = ['v=0', `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`, `s=${sd.sessionName}`];
  for (const l of sd.lines) out.push(`${l.type}=${l.value}`);
  for (const m of sd.media) {
    out.push(`m=${m.media} ${m.port}${m.portCount === null ? '' : `/${m.portCount}`} ${m.proto} ${m.formats.join(' ')}`);
    for (const l of m.lines) out.push(`${l.type}=${l.value}`);
  }
  for (const l of out) if (/[\r\n\0]/.test(l)) throw fail('a line value contains CR, LF or NUL', null);
  return `${out.join('\r\n')}\r\n`;
}

/** Attribute name and value of an a= line ("rtpmap", "0 PCMU/8000"); flags have value null. */
export function splitAttribute(value: string): [string, string | null] {
  const c = value.indexOf(':');
  return c < 0 ? [value, null] : [value.slice(0, c), value.slice(c + 1)];
}

const DIRECTIONS: readonly SdpDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function attrs(lines: readonly SdpLine[], name: string): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (l.type !== 'a') continue;
    const [n, v] = splitAttribute(l.value);
    if (n === name) out.push(v ?? '');
  }
  return out;
}

function directionOf(lines: readonly SdpLine[]): SdpDirection | null {
  let d: SdpDirection | null = null;
  for (const l of lines) if (l.type === 'a' && (DIRECTIONS as readonly string[]).includes(l.value)) d = l.value as SdpDirection;
  return d;
}

/** Interprets one m= section (RFC 4566 §6, RFC 3264 §5, RFC 3605, RFC 4568). */
export function describeMedia(sd: SessionDescription, index: number): MediaInfo {
  const m = sd.media[index];
  if (!m) throw new RangeError(`no media section ${index}`);
  const rtpmap = new Map<number, [string, number, number]>();
  const fmtp = new Map<number, string>();
  for (const v of attrs(m.lines, 'rtpmap')) {
    const r = /^([0-9]{1,3}) ([^/ ]+)\/([0-9]{1,6})(?:\/([0-9]{1,2}))?$/.exec(v);
    if (!r) throw fail(`a=rtpmap in media section ${index + 1} is malformed`, null);
    rtpmap.set(Number(r[1]), [r[2] as string, Number(r[3]), r[4] === undefined ? 1 : Number(r[4])]);
  }
  for (const v of attrs(m.lines, 'fmtp')) {
    const r = /^([0-9]{1,3}) (.*)$/.exec(v);
    if (r) fmtp.set(Number(r[1]), r[2] as string);
  }
  const isRtp = /^(UDP\/TLS\/)?RTP\//.test(m.proto);
  const codecs: RtpCodec[] = [];
  if (isRtp) {
    for (const f of m.formats) {
      const pt = Number(f);
      const map = rtpmap.get(pt) ?? (pt < 96 ? STATIC_PT[pt] : undefined);
      if (!map) continue; // a dynamic PT without rtpmap cannot be used (RFC 4566 §6 "rtpmap")
      codecs.push({ payloadType: pt, name: map[0], clockRate: map[1], channels: map[2], fmtp: fmtp.get(pt) ?? null });
    }
  }
  const ptimeS = attrs(m.lines, 'ptime')[0];
  const ptime = ptimeS !== undefined && /^[0-9]{1,4}(\.[0-9]+)?$/.test(ptimeS) ? Number(ptimeS) : null;
  const cLine = m.lines.find((l) => l.type === 'c') ?? sd.lines.find((l) => l.type === 'c');
  const connection = cLine ? parseConnection(cLine.value, 0) : null;
  let rtcp: MediaInfo['rtcp'] = { port: m.port === 0 ? 0 : m.port + 1, address: null };
  const rtcpAttr = attrs(m.lines, 'rtcp')[0];
  if (rtcpAttr !== undefined) {
    const r = /^([0-9]{1,5})(?: IN (?:IP4|IP6) ([\x21-\x7e]+))?$/.exec(rtcpAttr);
    if (!r || Number(r[1]) > 65535) throw fail(`a=rtcp in media section ${index + 1} is malformed`, null);
    rtcp = { port: Number(r[1]), address: r[2] ?? null };
  }
  return {
    index,
    kind: m.media,
    port: m.port,
    proto: m.proto,
    secure: /^RTP\/SAVPF?$/.test(m.proto),
    codecs,
    ptime,
    direction: directionOf(m.lines) ?? directionOf(sd.lines) ?? 'sendrecv',
    connection,
    rtcp,
    rtcpMux: m.lines.some((l) => l.type === 'a' && l.value === 'rtcp-mux'),
    crypto: attrs(m.lines, 'crypto').map((v) => parseCryptoAttribute(v)),
  };
}
