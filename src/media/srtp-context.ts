/**
 * SRTP and SRTCP (RFC 3711) for the two SDES suites Cardline offers (RFC 4568 §6.2):
 * AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 — AES-128 counter mode, HMAC-SHA1, master key 128
 * bits, master salt 112 bits, key_derivation_rate 0, SRTP tag 80 or 32 bits; SRTCP's tag is 80 bits for
 * both (RFC 4568 §6.2.2: "SRTCP ... always uses an 80-bit authentication tag").
 *
 * SRTP packet (§3.1)                           SRTCP packet (§3.4)
 *   +----------------------------+               +----------------------------------+
 *   | RTP header (clear)         |  ┐            | first RTCP header + SSRC (clear) | ┐
 *   +----------------------------+  │ auth       +----------------------------------+ │
 *   | payload (+ padding),       |  │ portion    | rest of the compound, encrypted  | │ auth
 *   |   AES-CM encrypted         |  ┘            +----------------------------------+ │ portion
 *   +----------------------------+               |E|        SRTCP index (31)        | ┘
 *   | MKI (optional)             |               +----------------------------------+
 *   +----------------------------+               | MKI (optional)                   |
 *   | auth tag (10 or 4)         |               +----------------------------------+
 *   +----------------------------+               | auth tag (10)                    |
 *                                                +----------------------------------+
 * SRTP tag = HMAC-SHA1(k_a, authenticated portion || ROC) (§4.2); SRTCP tag over its portion alone.
 *
 * One context holds one master key and serves one direction (SDES keys each direction separately): use it
 * either to protect what Cardline sends or to unprotect what it receives, for any number of SSRCs.
 * Per-SSRC state (ROC, highest sequence s_l, replay window) is created only after a packet authenticates,
 * so spoofed packets cannot fill the table; at most `maxStreams` sources are kept (oldest dropped).
 */
import { AesCounterMode, aesCmIv, deriveSessionKey, hmacSha1, tagsEqual, LABEL_RTCP_AUTH, LABEL_RTCP_ENCRYPTION,
  LABEL_RTCP_SALT, LABEL_RTP_AUTH, LABEL_RTP_ENCRYPTION, LABEL_RTP_SALT } from './srtp-crypto.ts';
import { ReplayWindow } from './srtp-replay-window.ts';
import { rtpHeaderLength } from './rtp-packet.ts';
import { u16, u32, put32 } from './bytes.ts';
import { SrtpError } from './errors.ts';

export type SrtpProfileName = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export interface SrtpProfile {
  name: SrtpProfileName;
  masterKeyLength: number;
  masterSaltLength: number;
  rtpTagLength: number;
  rtcpTagLength: number;
}

export const SRTP_PROFILES: Readonly<Record<SrtpProfileName, SrtpProfile>> = Object.freeze({
  AES_CM_128_HMAC_SHA1_80: { name: 'AES_CM_128_HMAC_SHA1_80', masterKeyLength: 16, masterSaltLength: 14, rtpTagLength: 10, rtcpTagLength: 10 },
  AES_CM_128_HMAC_SHA1_32: { name: 'AES_CM_128_HMAC_SHA1_32', masterKeyLength: 16, masterSaltLength: 14, rtpTagLength: 4, rtcpTagLength: 10 },
});

export function isSrtpProfileName(s: string): s is SrtpProfileName {
  return  Object.hasOwn(SRTP_PROFILES, s);
}

export interface SrtpContextOptions {
  profile: SrtpProfileName;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
  /** Master key identifier carried in every packet (RFC 3711 §3.1, RFC 4568 "|MKI:len"); none by default. */
  mki?: Uint8Array;
  /** Replay window in packets (≥ 64, multiple of 32). Default 128. */
  replayWindow?: number;
  /** Most SSRCs tracked at once. Default 32. */
  maxStreams?: number;
  /**
   * Packets (SRTP + SRTCP together) this master key may process, e.g. the SDES "|lifetime" (RFC 4568 §6.1,
   * RFC 3711 §9.2). Once reached every call throws `srtp-invalid-key` until the stream is re-keyed.
   * Default: only the protocol limits (2^48 SRTP, 2^31 SRTCP).
   */
  keyLifetime?: number;
}

/** Keys of one direction of one protocol (SRTP or SRTCP), derived once (§4.3). */
interface SessionKeys {
  cipher: AesCounterMode;
  auth: Uint8Array;
  salt: Uint8Array;
}

interface RtpStream {
  roc: number;
  /** s_l: highest sequence number received/sent with this ROC (§3.3.1). */
  lastSeq: number;
  replay: ReplayWindow;
}

interface RtcpStream {
  /** Next SRTCP index to send (protect side). */
  nextIndex: number;
  replay: ReplayWindow;
}

/** 2^31: SRTCP's index is 31 bits and a master key must not be used beyond it (§9.2). */
const SRTCP_INDEX_LIMIT = 0x80000000;
/** 2^48: SRTP's key lifetime in packets (§9.2). */
const SRTP_INDEX_LIMIT = 2 ** 48;
const RTCP_HEADER_CLEAR = 8;

/**
 * RFC 3711 §3.3.1 / Appendix A: the ROC guess v for sequence number `seq` given the stream's ROC and s_l.
 * Returns v, which may be roc − 1 (a late packet from before the last wrap) or roc + 1 (a wrap).
 */
export function estimateRoc(roc: number, lastSeq: number, seq: number): number {
  if (lastSeq < 0x8000) {
    return seq - lastSeq > 0x8000 ? roc - 1 : roc;
  }
  return lastSeq - 0x8000 > seq ? roc + 1 : roc;
}

export class SrtpContext {
  readonly profile: SrtpProfile;
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  readonly #mki: Uint8Array;
  readonly #window: number;
  readonly #maxStreams: number;
  readonly #rtpStreams = new Map<number, RtpStream>();
  readonly #rtcpStreams = new Map<number, RtcpStream>();
  readonly #iv = new Uint8Array(16);
  readonly #lifetime: number;
  #used = 0;
  readonly #roc = new Uint8Array(4);

  constructor(o: SrtpContextOptions) {
    if (!isSrtpProfileName(o.profile)) throw new SrtpError('srtp-invalid-key', 'unsupported crypto suite');
    const profile = SRTP_PROFILES[o.profile];
    if (o.masterKey.length !== profile.masterKeyLength) throw new SrtpError('srtp-invalid-key', `master key of ${o.masterKey.length} octets, expected ${profile.masterKeyLength}`);
    if (o.masterSalt.length !== profile.masterSaltLength) throw new SrtpError('srtp-invalid-key', `master salt of ${o.masterSalt.length} octets, expected ${profile.masterSaltLength}`);
    if (o.mki && (o.mki.length < 1 || o.mki.length > 128)) throw new SrtpError('srtp-invalid-key', 'MKI must be 1..128 octets');
    this.profile = profile;
    this.#window = o.replayWindow ?? 128;
    new ReplayWindow(this.#window); // validates the size now rather than on the first packet
    this.#maxStreams = o.maxStreams ?? 32;
    if (!Number.isInteger(this.#maxStreams) || this.#maxStreams < 1) throw new RangeError('maxStreams must be a positive integer');
    this.#mki = o.mki ? o.mki.slice() : new Uint8Array(0);
    this.#lifetime = o.keyLifetime ?? Number.POSITIVE_INFINITY;
    if (!(this.#lifetime > 0)) throw new SrtpError('srtp-invalid-key', 'key lifetime must be positive');
    const derive = (enc: number, auth: number, salt: number): SessionKeys => ({
      cipher: new AesCounterMode(deriveSessionKey(o.masterKey, o.masterSalt, enc, 16)),
      auth: deriveSessionKey(o.masterKey, o.masterSalt, auth, 20),
      salt: deriveSessionKey(o.masterKey, o.masterSalt, salt, 14),
    });
    this.#rtp = derive(LABEL_RTP_ENCRYPTION, LABEL_RTP_AUTH, LABEL_RTP_SALT);
    this.#rtcp = derive(LABEL_RTCP_ENCRYPTION, LABEL_RTCP_AUTH, LABEL_RTCP_SALT);
  }

  /** The ROC of a source, or null if it has not been seen (RFC 4568 §6.4 re-keying needs it). */
  rolloverCounter(ssrc: number): number | null {
    return this.#rtpStreams.get(ssrc)?.roc ?? null;
  }

  /**
   * Sets the ROC and s_l of a source explicitly, e.g. when a re-INVITE re-keys a stream in progress (the
   * new context must continue the old ROC) or to start at a known ROC. Resets its replay window.
   */
  setRolloverCounter(ssrc: number, roc: number, lastSeq: number): void {
    if (!Number.isInteger(roc) || roc < 0 || roc > 0xffffffff || !Number.isInteger(lastSeq) || lastSeq < 0 || lastSeq > 0xffff) {
      throw new RangeError('ROC must be a u32 and the sequence number a u16');
    }
    this.#rtpStreams.delete(ssrc);
    this.#remember(this.#rtpStreams, ssrc, { roc, lastSeq, replay: new ReplayWindow(this.#window) });
  }

  /** Packets processed under this master key so far (RFC 3711 §9.2 counts SRTP and SRTCP together). */
  get packetsUnderKey(): number {
    return this.#used;
  }

  // ---- SRTP ----------------------------------------------------------------------------------------------

  /** Encrypts and authenticates one RTP packet (wire bytes in, wire bytes out). */
  protectRtp(packet: Uint8Array): Uint8Array {
    this.#checkLifetime();
    const headerLen = this.#rtpHeader(packet);
    const ssrc = u32(packet, 8);
    const seq = u16(packet, 2);
    let s = this.#rtpStreams.get(ssrc);
    let v: number;
    if (!s) {
      v = 0;
    } else {
      v = estimateRoc(s.roc, s.lastSeq, seq);
      if (v < 0) throw new SrtpError('srtp-replay', 'sequence number older than the stream start');
    }
    const index = v * 0x10000 + seq;
    if (index >= SRTP_INDEX_LIMIT) throw new SrtpError('srtp-invalid-key', 'master key lifetime (2^48 packets) exhausted');
    // Sending one index twice would reuse keystream (§9.1): refuse, as libsrtp does.
    if (s && s.replay.check(index) !== 'new') throw new SrtpError('srtp-replay', 'this packet index was already protected');
    const tagLen = this.profile.rtpTagLength;
    const out = new Uint8Array(packet.length + this.#mki.length + tagLen);
    out.set(packet, 0);
    this.#rtp.cipher.apply(aesCmIv(this.#rtp.salt, ssrc, index, this.#iv), out, headerLen, packet.length);
    out.set(this.#mki, packet.length);
    put32(this.#roc, 0, v);
    const tag = hmacSha1(this.#rtp.auth, out.subarray(0, packet.length), this.#roc, tagLen);
    out.set(tag, packet.length + this.#mki.length);
    if (!s) {
      s = { roc: 0, lastSeq: seq, replay: new ReplayWindow(this.#window) };
      this.#remember(this.#rtpStreams, ssrc, s);
    }
    this.#advance(s, v, seq, index);
    this.#used++;
    return out;
  }

  /** Authenticates, replay-checks and decrypts one SRTP packet; returns the plain RTP packet. */
  unprotectRtp(packet: Uint8Array): Uint8Array {
    this.#checkLifetime();
    const tagLen = this.profile.rtpTagLength;
    const trailer = this.#mki.length + tagLen;
    const headerLen = this.#rtpHeader(packet.subarray(0, Math.max(0, packet.length - trailer)));
    const end = packet.length - trailer; // end of the authenticated portion
    const ssrc = u32(packet, 8);
    const seq = u16(packet, 2);
    const s = this.#rtpStreams.get(ssrc);
    // A new source starts at ROC 0 with s_l = its first sequence number (§3.3.1).
    const v = s ? estimateRoc(s.roc, s.lastSeq, seq) : 0;
    if (v < 0) throw new SrtpError('srtp-replay', 'packet from before the stream start');
    const index = v * 0x10000 + seq;
    if (s) {
      const verdict = s.replay.check(index);
      if (verdict !== 'new') throw new SrtpError('srtp-replay', verdict === 'replay' ? 'packet index already received' : 'packet index older than the replay window');
    }
    this.#checkMki(packet, end);
    put32(this.#roc, 0, v);
    const expected = hmacSha1(this.#rtp.auth, packet.subarray(0, end), this.#roc, tagLen);
    if (!tagsEqual(expected, packet.subarray(end + this.#mki.length))) throw new SrtpError('srtp-auth-failed');
    const out = packet.slice(0, end);
    this.#rtp.cipher.apply(aesCmIv(this.#rtp.salt, ssrc, index, this.#iv), out, headerLen, end);
    if (s) {
      this.#advance(s, v, seq, index);
    } else {
      const fresh: RtpStream = { roc: 0, lastSeq: seq, replay: new ReplayWindow(this.#window) };
      fresh.replay.accept(index);
      this.#remember(this.#rtpStreams, ssrc, fresh);
    }
    this.#used++;
    return out;
  }

  // ---- SRTCP ---------------------------------------------------------------------------------------------

  /** Encrypts (E = 1) and authenticates one compound RTCP packet. */
  protectRtcp(packet: Uint8Array): Uint8Array {
    this.#checkLifetime();
    if (packet.length < RTCP_HEADER_CLEAR) throw new SrtpError('srtp-malformed', `RTCP packet of ${packet.length} octets has no sender SSRC`);
    if ((packet[0] as number) >>> 6 !== 2) throw new SrtpError('srtp-malformed', 'RTCP version is not 2');
    const ssrc = u32(packet, 4);
    let s = this.#rtcpStreams.get(ssrc);
    if (!s) {
      s = { nextIndex: 0, replay: new ReplayWindow(this.#window) };
      this.#remember(this.#rtcpStreams, ssrc, s);
    }
    const index = s.nextIndex;
    if (index >= SRTCP_INDEX_LIMIT) throw new SrtpError('srtp-invalid-key', 'master key lifetime (2^31 SRTCP packets) exhausted');
    s.nextIndex = index + 1;
    const tagLen = this.profile.rtcpTagLength;
    const out = new Uint8Array(packet.length + 4 + this.#mki.length + tagLen);
    out.set(packet, 0);
    this.#rtcp.cipher.apply(aesCmIv(this.#rtcp.salt, ssrc, index, this.#iv), out, RTCP_HEADER_CLEAR, packet.length);
    put32(out, packet.length, (0x80000000 | index) >>> 0);
    const authEnd = packet.length + 4;
    out.set(this.#mki, authEnd);
    out.set(hmacSha1(this.#rtcp.auth, out.subarray(0, authEnd), null, tagLen), authEnd + this.#mki.length);
    this.#used++;
    return out;
  }

  /** Authenticates, replay-checks and (if E is set) decrypts one SRTCP packet; returns plain RTCP. */
  unprotectRtcp(packet: Uint8Array): Uint8Array {
    this.#checkLifetime();
    const tagLen = this.profile.rtcpTagLength;
    const min = RTCP_HEADER_CLEAR + 4 + this.#mki.length + tagLen;
    if (packet.length < min) throw new SrtpError('srtp-malformed', `SRTCP packet of ${packet.length} octets is shorter than ${min}`);
    if ((packet[0] as number) >>> 6 !== 2) throw new SrtpError('srtp-malformed', 'RTCP version is not 2');
    const authEnd = packet.length - this.#mki.length - tagLen;
    const word = u32(packet, authEnd - 4);
    const encrypted = (word & 0x80000000) !== 0;
    const index = word & 0x7fffffff;
    const ssrc = u32(packet, 4);
    const s = this.#rtcpStreams.get(ssrc);
    if (s) {
      const verdict = s.replay.check(index);
      if (verdict !== 'new') throw new SrtpError('srtp-replay', verdict === 'replay' ? 'SRTCP index already received' : 'SRTCP index older than the replay window');
    }
    this.#checkMki(packet, authEnd);
    const expected = hmacSha1(this.#rtcp.auth, packet.subarray(0, authEnd), null, tagLen);
    if (!tagsEqual(expected, packet.subarray(authEnd + this.#mki.length))) throw new SrtpError('srtp-auth-failed');
    const out = packet.slice(0, authEnd - 4);
    if (encrypted) this.#rtcp.cipher.apply(aesCmIv(this.#rtcp.salt, ssrc, index, this.#iv), out, RTCP_HEADER_CLEAR, out.length);
    if (s) {
      s.replay.accept(index);
    } else {
      const fresh: RtcpStream = { nextIndex: 0, replay: new ReplayWindow(this.#window) };
      fresh.replay.accept(index);
      this.#remember(this.#rtcpStreams, ssrc, fresh);
    }
    this.#used++;
    return out;
  }

  // ---- internals -----------------------------------------------------------------------------------------

  #rtpHeader(b: Uint8Array): number {
    try {
      return rtpHeaderLength(b);
    } catch (e) {
      throw new SrtpError('srtp-malformed', e instanceof Error ? e.message : 'bad RTP header');
    }
  }

  #checkLifetime(): void {
    if (this.#used >= this.#lifetime) throw new SrtpError('srtp-invalid-key', 'master key lifetime reached: re-key the stream');
  }

  #checkMki(packet: Uint8Array, at: number): void {
    if (this.#mki.length === 0) return;
    if (!tagsEqual(packet.subarray(at, at + this.#mki.length), this.#mki)) throw new SrtpError('srtp-auth-failed', 'unknown MKI');
  }

  /** §3.3.1 update after a packet was accepted: a wrap moves ROC and s_l; a newer packet moves s_l. */
  #advance(s: RtpStream, v: number, seq: number, index: number): void {
    if (v === s.roc + 1) {
      s.roc = v;
      s.lastSeq = seq;
    } else if (v === s.roc && seq > s.lastSeq) {
      s.lastSeq = seq;
    }
    s.replay.accept(index);
  }

  #remember<T>(map: Map<number, T>, ssrc: number, value: T): void {
    map.set(ssrc, value);
    while (map.size > this.#maxStreams) {
      const oldest = map.keys().next();
      if (oldest.done) break;
      map.delete(oldest.value);
    }
  }
}
