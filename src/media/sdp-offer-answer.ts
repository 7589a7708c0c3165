/**
 * SDP offer/answer (RFC 3264) for a media-anchoring B2BUA: rewrite what one leg offered so the other leg
 * sends its media to Cardline, answer an offer, and read what an offer/answer pair agreed.
 *
 * Cardline can only mask DTMF in audio it can decode, so it keeps PCMU and PCMA (8 kHz mono G.711) and RFC
 * 4733 telephone-event/8000, and removes every other codec from what it forwards. Payload type numbers are
 * per leg and per direction: the numbers in an SDP are the ones its author expects to *receive*
 * (RFC 3264 §5.1), so each side keeps the numbers it negotiated and the relay maps between them.
 *
 * SDES keys (RFC 4568 §6.1) are also per author: the a=crypto in an SDP carries the key its author uses
 * to protect what it *sends*. So on one leg, unprotect with the far end's key and protect with Cardline's.
 */
import { CardlineError } from '../errors/index.ts';
import {
  describeMedia, parseSdp, serializeSdp, splitAttribute, type MediaInfo, type RtpCodec, type SdpDirection, type SdpLine,
  type SdpMedia, type SessionDescription,
} from './sdp.ts';
import { chooseCrypto, generateCrypto, serializeCryptoAttribute, SUPPORTED_SUITES, type SdesCrypto } from './sdes.ts';
import type { SrtpProfileName } from './srtp-context.ts';

export type MaskableCodec = 'PCMU' | 'PCMA';
export const MASKABLE_CODECS: readonly MaskableCodec[] = ['PCMU', 'PCMA'];
export const DEFAULT_KEEP_CODECS: readonly string[] = ['PCMU', 'PCMA', 'telephone-event'];

export interface AnchorOptions {
  /** Cardline's media address on the leg that will receive this SDP. */
  address: string;
  /** Cardline's RTP port for the anchored audio stream. */
  port: number;
  /** Cardline's RTCP port; written as a=rtcp (RFC 3605) when given. */
  rtcpPort?: number;
  /** Offer RTP/RTCP multiplexing on one port (RFC 5761). Default false. */
  rtcpMux?: boolean;
  /** Codec names to keep (case-insensitive). Default PCMU, PCMA, telephone-event. */
  keepCodecs?: readonly string[];
  /** Present: RTP/SAVP with these a=crypto lines (Cardline's keys for this leg). Absent: RTP/AVP, no crypto. */
  srtp?: { crypto: readonly SdesCrypto[] } | null;
  /** Replace o= with Cardline's own origin for this leg (its address is `address`). */
  origin?: { username?: string; sessionId: string; sessionVersion: string };
  /** Override the stream direction. */
  direction?: SdpDirection;
}

/** a= attributes that describe the far end's transport or keys and must not be forwarded to the other leg. */
const TRANSPORT_ATTRIBUTES = new Set([
  'rtcp', 'rtcp-mux', 'rtcp-rsize', 'rtcp-fb', 'crypto', 'candidate', 'remote-candidates', 'end-of-candidates', 'ice-ufrag',
  'ice-pwd', 'ice-options', 'ice-lite', 'ice-mismatch', 'fingerprint', 'setup', 'connection', 'ssrc', 'ssrc-group', 'msid',
  'msid-semantic', 'extmap', 'extmap-allow-mixed', 'group', 'mid', 'bundle-only', 'sendrecv', 'sendonly', 'recvonly', 'inactive',
]);
/** Attributes tied to one payload type: dropped with it. */
const PT_ATTRIBUTES = new Set(['rtpmap', 'fmtp']);

function addrType(address: string): 'IP4' | 'IP6' {
  return address.includes(':') ? 'IP6' : 'IP4';
}

function notAcceptable(detail: string): CardlineError {
  return new CardlineError('sdp-not-acceptable', detail);
}

function checkPort(p: number | undefined, what: string): void {
  if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 65535)) throw new RangeError(`${what} must be 1..65535`);
}

function isTelephoneEvent(c: RtpCodec): boolean {
  return c.name.toLowerCase() === 'telephone-event' && c.clockRate === 8000;
}

function maskable(c: RtpCodec): MaskableCodec | null {
  const n = c.name.toUpperCase();
  return (n === 'PCMU' || n === 'PCMA') && c.clockRate === 8000 && c.channels === 1 ? n : null;
}

/** Index of the audio stream Cardline anchors: the first active RTP audio section. */
export function anchoredAudioIndex(sd: SessionDescription): number {
  return sd.media.findIndex((m) => m.media === 'audio' && m.port !== 0 && /^(UDP\/TLS\/)?RTP\//.test(m.proto));
}

function withSessionConnection(lines: readonly SdpLine[], address: string): SdpLine[] {
  const kept = lines.filter((l) => l.type !== 'c' && !(l.type === 'a' && TRANSPORT_ATTRIBUTES.has(splitAttribute(l.value)[0]) && !isDirection(l.value)));
  const c: SdpLine = { type: 'c', value: `IN ${addrType(address)} ${address}` };
  // RFC 4566 §5 order: c= comes before b=, t=, r=, z=, k= and a=.
  const at = kept.findIndex((l) => 'btrzka'.includes(l.type));
  if (at < 0) return [...kept, c];
  return [...kept.slice(0, at), c, ...kept.slice(at)];
}

function isDirection(v: string): boolean {
  return v === 'sendrecv' || v === 'sendonly' || v === 'recvonly' || v === 'inactive';
}

function disabled(m: SdpMedia): SdpMedia {
  // RFC 3264 §6/§8.2: a refused or removed stream stays in place with port 0.
  return { media: m.media, port: 0, portCount: null, proto: m.proto, formats: m.formats.slice(0, 1), lines: [] };
}

function newOrigin(sd: SessionDescription, address: string, o: AnchorOptions['origin']): SessionDescription['origin'] {
  if (!o) return { ...sd.origin };
  if (!/^[0-9]{1,20}$/.test(o.sessionId) || !/^[0-9]{1,20}$/.test(o.sessionVersion)) throw new RangeError('origin session id and version must be decimal numbers');
  const username = o.username ?? 'cardline';
  if (!/^[\x21-\x7e]+$/.test(username)) throw new RangeError('origin username must be a token');
  return { username, sessionId: o.sessionId, sessionVersion: o.sessionVersion, netType: 'IN', addrType: addrType(address), address };
}

/**
 * Rewrites an SDP (offer or answer from one leg) for the other leg: media address and ports become
 * Cardline's, codecs Cardline cannot mask are removed (their rtpmap/fmtp too), transport details of the far
 * end (ICE, a=rtcp, rtcp-mux, SSRCs, DTLS, extmap, crypto) are dropped, SRTP is set per `srtp`, and every
 * other section is disabled with port 0. Throws `sdp-not-acceptable` when no PCMU/PCMA remains.
 */
export function rewriteForAnchor(sdp: string, o: AnchorOptions): string;
export function rewriteForAnchor(sdp: SessionDescription, o: AnchorOptions): SessionDescription;
export function rewriteForAnchor(sdp: string | SessionDescription, o: AnchorOptions): string | SessionDescription {
  const sd = typeof sdp === 'string' ? parseSdp(sdp) : sdp;
  checkPort(o.port, 'port');
  checkPort(o.rtcpPort, 'rtcpPort');
  if (!/^[\x21-\x7e]+$/.test(o.address)) throw new RangeError('address must be a token');
  const keep = new Set((o.keepCodecs ?? DEFAULT_KEEP_CODECS).map((s) => s.toLowerCase()));
  const idx = anchoredAudioIndex(sd);
  if (idx < 0) throw notAcceptable('no active audio stream');
  const info = describeMedia(sd, idx);
  const kept = info.codecs.filter((c) => keep.has(c.name.toLowerCase()) && (maskable(c) !== null || isTelephoneEvent(c)));
  if (!kept.some((c) => maskable(c) !== null)) throw notAcceptable('the audio stream offers neither PCMU nor PCMA');
  const keptPts = new Set(kept.map((c) => c.payloadType));
  const src = sd.media[idx] as SdpMedia;
  const lines: SdpLine[] = [];
  let directionWritten = false;
  for (const l of src.lines) {
    if (l.type === 'c') continue;
    if (l.type !== 'a') { lines.push(l); continue; }
    const [name, value] = splitAttribute(l.value);
    if (isDirection(l.value)) {
      if (!directionWritten) lines.push({ type: 'a', value: o.direction ?? info.direction });
      directionWritten = true;
      continue;
    }
    if (TRANSPORT_ATTRIBUTES.has(name)) continue;
    if (PT_ATTRIBUTES.has(name)) {
      const pt = Number((value ?? '').split(' ')[0]);
      if (!keptPts.has(pt)) continue;
    }
    lines.push(l);
  }
  if (!directionWritten) lines.push({ type: 'a', value: o.direction ?? info.direction });
  if (o.rtcpPort !== undefined) lines.push({ type: 'a', value: `rtcp:${o.rtcpPort}` });
  if (o.rtcpMux) lines.push({ type: 'a', value: 'rtcp-mux' });
  if (o.srtp) {
    if (o.srtp.crypto.length === 0) throw new RangeError('srtp needs at least one crypto attribute');
    for (const c of o.srtp.crypto) lines.push({ type: 'a', value: `crypto:${serializeCryptoAttribute(c)}` });
  }
  const anchored: SdpMedia = {
    media: 'audio', port: o.port, portCount: null, proto: o.srtp ? 'RTP/SAVP' : 'RTP/AVP',
    formats: src.formats.filter((f) => keptPts.has(Number(f))), lines,
  };
  const out: SessionDescription = {
    origin: newOrigin(sd, o.address, o.origin),
    sessionName: sd.sessionName,
    lines: withSessionConnection(sd.lines, o.address),
    media: sd.media.map((m, k) => (k === idx ? anchored : disabled(m))),
  };
  return typeof sdp === 'string' ? serializeSdp(out) : out;
}

// ---- answering ------------------------------------------------------------------------------------------

export interface AnswerOptions {
  address: string;
  port: number;
  rtcpPort?: number;
  /** Codecs Cardline accepts, in its order of preference when `preferLocal`; default PCMU, PCMA. */
  codecs?: readonly MaskableCodec[];
  /** Pick by Cardline's order instead of the offerer's (RFC 3264 §6.1 lets the answerer choose). */
  preferLocal?: boolean;
  /** 'optional' (default): SRTP if offered; 'required': refuse RTP/AVP; 'off': refuse RTP/SAVP. */
  srtp?: 'off' | 'optional' | 'required';
  suites?: readonly SrtpProfileName[];
  origin: { username?: string; sessionId: string; sessionVersion: string };
  /** What Cardline wants; combined with the offer's direction (RFC 3264 §6.1). Default sendrecv. */
  direction?: SdpDirection;
  /** ptime Cardline wants to receive; default the offer's, else 20. */
  ptime?: number;
  /** Accept a=rtcp-mux when the offer has it (RFC 5761 §5.1.1). Default true. */
  rtcpMux?: boolean;
  /** Randomness for SDES keys (tests); default crypto.randomBytes. */
  random?: (n: number) => Uint8Array;
}

export interface MediaEndpoint {
  address: string;
  port: number;
  rtcpAddress: string;
  /** Where this side receives RTCP: its RTP port when RTCP is multiplexed, else a=rtcp (RFC 3605) or RTP port + 1. */
  rtcpPort: number;
  /** RTCP shares the RTP port: both the offer and the answer carry a=rtcp-mux (RFC 5761 §5.1.1). */
  rtcpMux: boolean;
  /** As written in this side's SDP. */
  direction: SdpDirection;
  /** The codec's payload type in this side's SDP: the number to use when sending TO this side. */
  codecPayloadType: number;
  /** telephone-event/8000 payload type in this side's SDP, or null when it did not offer/accept it. */
  telephoneEventPayloadType: number | null;
  /** This side's SDES attribute: the key it sends with (unprotect its packets with this). */
  crypto: SdesCrypto | null;
}

export interface NegotiatedAudio {
  mediaIndex: number;
  codec: MaskableCodec;
  ptime: number | null;
  offerer: MediaEndpoint;
  answerer: MediaEndpoint;
  /** Media flows offerer → answerer. */
  offererSends: boolean;
  /** Media flows answerer → offerer. */
  answererSends: boolean;
  srtp: { suite: SrtpProfileName } | null;
}

function sends(d: SdpDirection): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}

function receives(d: SdpDirection): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

function directionFrom(send: boolean, recv: boolean): SdpDirection {
  return send ? (recv ? 'sendrecv' : 'sendonly') : recv ? 'recvonly' : 'inactive';
}

/**
 * Answers an offer (RFC 3264 §6): the anchored audio stream gets one G.711 codec plus telephone-event if
 * offered, with the offerer's payload type numbers (§6.1 "SHOULD use the same"), the mirrored direction and,
 * for RTP/SAVP, a fresh key for the first acceptable a=crypto with the same tag (RFC 4568 §7.1.2). Every
 * other section is refused with port 0. Throws `sdp-not-acceptable` (SIP 488) when nothing can be accepted.
 */
export function createAnswer(offer: SessionDescription, o: AnswerOptions): { answer: SessionDescription; negotiated: NegotiatedAudio } {
  checkPort(o.port, 'port');
  checkPort(o.rtcpPort, 'rtcpPort');
  const idx = anchoredAudioIndex(offer);
  if (idx < 0) throw notAcceptable('no active audio stream');
  const info = describeMedia(offer, idx);
  const srtpPolicy = o.srtp ?? 'optional';
  if (info.secure && srtpPolicy === 'off') throw notAcceptable('SRTP offered but disabled');
  if (!info.secure && srtpPolicy === 'required') throw notAcceptable('SRTP required but RTP/AVP offered');
  if (!info.secure && info.proto !== 'RTP/AVP' && info.proto !== 'RTP/AVPF') throw notAcceptable('transport profile not supported');
  const allowed = o.codecs ?? MASKABLE_CODECS;
  const candidates = info.codecs.filter((c) => {
    const m = maskable(c);
    return m !== null && allowed.includes(m);
  });
  if (o.preferLocal) candidates.sort((a, b) => allowed.indexOf(maskable(a) as MaskableCodec) - allowed.indexOf(maskable(b) as MaskableCodec));
  const chosen = candidates[0];
  if (!chosen) throw notAcceptable('no common G.711 codec');
  const te = info.codecs.find(isTelephoneEvent) ?? null;
  let remoteCrypto: SdesCrypto | null = null;
  let localCrypto: SdesCrypto | null = null;
  if (info.secure) {
    remoteCrypto = chooseCrypto(info.crypto, o.suites ?? SUPPORTED_SUITES);
    if (!remoteCrypto) throw notAcceptable('no acceptable a=crypto');
    localCrypto = generateCrypto(remoteCrypto.tag, remoteCrypto.suite as SrtpProfileName, o.random);
  }
  const local = o.direction ?? 'sendrecv';
  const dir = directionFrom(receives(info.direction) && sends(local), sends(info.direction) && receives(local));
  const ptime = o.ptime ?? info.ptime ?? 20;
  const lines: SdpLine[] = [
    { type: 'a', value: `rtpmap:${chosen.payloadType} ${chosen.name}/8000` },
  ];
  if (te) {
    lines.push({ type: 'a', value: `rtpmap:${te.payloadType} ${te.name}/8000` });
    lines.push({ type: 'a', value: `fmtp:${te.payloadType} ${te.fmtp ?? '0-15'}` });
  }
  lines.push({ type: 'a', value: `ptime:${ptime}` });
  lines.push({ type: 'a', value: dir });
  if (o.rtcpPort !== undefined) lines.push({ type: 'a', value: `rtcp:${o.rtcpPort}` });
  if (info.rtcpMux && (o.rtcpMux ?? true)) lines.push({ type: 'a', value: 'rtcp-mux' });
  if (localCrypto) lines.push({ type: 'a', value: `crypto:${serializeCryptoAttribute(localCrypto)}` });
  const audio: SdpMedia = {
    media: 'audio', port: o.port, portCount: null, proto: info.secure ? 'RTP/SAVP' : 'RTP/AVP',
    formats: te ? [String(chosen.payloadType), String(te.payloadType)] : [String(chosen.payloadType)], lines,
  };
  const answer: SessionDescription = {
    origin: newOrigin(offer, o.address, o.origin),
    sessionName: '-',
    lines: [{ type: 'c', value: `IN ${addrType(o.address)} ${o.address}` }, { type: 't', value: '0 0' }],
    media: offer.media.map((m, k) => (k === idx ? audio : disabled(m))),
  };
  return { answer, negotiated: negotiated(offer, answer) };
}

function endpoint(info: MediaInfo, codec: MaskableCodec, crypto: SdesCrypto | null, mux: boolean, what: string): MediaEndpoint {
  const c = info.codecs.find((x) => maskable(x) === codec);
  if (!c) throw notAcceptable(`${what} does not list the chosen codec`);
  if (!info.connection) throw notAcceptable(`${what} has no connection address`);
  return {
    address: info.connection.address,
    port: info.port,
    rtcpAddress: info.rtcp.address ?? info.connection.address,
    rtcpPort: mux ? info.port : info.rtcp.port,
    rtcpMux: mux,
    direction: info.direction,
    codecPayloadType: c.payloadType,
    telephoneEventPayloadType: info.codecs.find(isTelephoneEvent)?.payloadType ?? null,
    crypto,
  };
}

/**
 * What an offer/answer exchange agreed for the anchored audio stream (RFC 3264 §6.1, RFC 4568 §7):
 * the codec is the answer's first G.711 format that the offer also lists; the crypto pair is the answer's
 * attribute and the offer's attribute with the same tag and suite. Throws `sdp-not-acceptable` when the
 * answer refused the stream, changed its place, or agreed on nothing Cardline can relay.
 */
export function negotiated(offerIn: string | SessionDescription, answerIn: string | SessionDescription): NegotiatedAudio {
  const offer = typeof offerIn === 'string' ? parseSdp(offerIn) : offerIn;
  const answer = typeof answerIn === 'string' ? parseSdp(answerIn) : answerIn;
  const idx = anchoredAudioIndex(offer);
  if (idx < 0) throw notAcceptable('the offer has no active audio stream');
  if (answer.media.length !== offer.media.length) throw notAcceptable('the answer has a different number of media sections (RFC 3264 §6)');
  const a = describeMedia(answer, idx);
  if (a.kind !== 'audio' || a.port === 0) throw notAcceptable('the answer refused the audio stream');
  const f = describeMedia(offer, idx);
  if (f.secure !== a.secure) throw notAcceptable('the answer changed RTP/AVP vs RTP/SAVP');
  const offeredCodecs = new Set(f.codecs.map(maskable).filter((x): x is MaskableCodec => x !== null));
  const codec = a.codecs.map(maskable).find((x): x is MaskableCodec => x !== null && offeredCodecs.has(x));
  if (!codec) throw notAcceptable('no common G.711 codec in the answer');
  let srtp: NegotiatedAudio['srtp'] = null;
  let offerCrypto: SdesCrypto | null = null;
  let answerCrypto: SdesCrypto | null = null;
  if (a.secure) {
    answerCrypto = a.crypto.length === 1 ? (a.crypto[0] as SdesCrypto) : null;
    if (!answerCrypto) throw notAcceptable('an SRTP answer must carry exactly one a=crypto (RFC 4568 §7.1.2)');
    const tag = answerCrypto.tag;
    const suite = answerCrypto.suite;
    offerCrypto = f.crypto.find((c) => c.tag === tag && c.suite === suite) ?? null;
    if (!offerCrypto) throw notAcceptable('the answer a=crypto matches no offered tag and suite');
    if (!chooseCrypto([offerCrypto]) || !chooseCrypto([answerCrypto])) throw notAcceptable('the agreed a=crypto is not supported');
    srtp = { suite: suite as SrtpProfileName };
  }
  return {
    mediaIndex: idx,
    codec,
    ptime: a.ptime ?? f.ptime,
    offerer: endpoint(f, codec, offerCrypto, f.rtcpMux && a.rtcpMux, 'the offer'),
    answerer: endpoint(a, codec, answerCrypto, f.rtcpMux && a.rtcpMux, 'the answer'),
    offererSends: sends(f.direction) && receives(a.direction),
    answererSends: sends(a.direction) && receives(f.direction),
    srtp,
  };
}
