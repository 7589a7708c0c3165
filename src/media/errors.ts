/**
 * Typed errors of the media domain. Each carries a stable catalogue code (src/errors/catalogue.ts) and,
 * for parsers, the byte offset (or SDP line number) where the input stopped making sense.
 *
 * House style 6: details carry offsets, lengths and field names only. A telephone-event payload is a DTMF
 * digit on the wire, and an SRTP payload may be card audio, so no error here ever quotes packet contents.
 */
import { CardlineError, type ErrorCode } from '../errors/index.ts';

export type MediaParseErrorCode = Extract<ErrorCode,
  'rtp-malformed' | 'rtcp-malformed' | 'telephone-event-malformed' | 'srtp-malformed' | 'sdes-malformed' | 'sdp-malformed'>;

/** A parser refused its input. `offset` is a byte offset (binary codecs) or a 1-based line number (SDP). */
export class MediaParseError extends CardlineError {
  override readonly code: MediaParseErrorCode;
  readonly offset: number | null;

  constructor(code: MediaParseErrorCode, detail: string, offset: number | null = null) {
    super(code, offset === null ? detail : `${detail} (at ${offset})`);
    this.name = 'MediaParseError';
    this.code = code;
    this.offset = offset;
  }
}

/** RFC 3550 §5.1 packet that cannot be an RTP packet. */
export class RtpParseError extends MediaParseError {
  constructor(detail: string, offset: number | null = null) {
    super('rtp-malformed', detail, offset);
    this.name = 'RtpParseError';
  }
}

/** RFC 3550 §6 compound packet that fails the Appendix A.2 validity checks. */
export class RtcpParseError extends MediaParseError {
  constructor(detail: string, offset: number | null = null) {
    super('rtcp-malformed', detail, offset);
    this.name = 'RtcpParseError';
  }
}

/** RFC 4733 §2.3 payload that is not a telephone-event. */
export class TelephoneEventParseError extends MediaParseError {
  constructor(detail: string, offset: number | null = null) {
    super('telephone-event-malformed', detail, offset);
    this.name = 'TelephoneEventParseError';
  }
}

/** RFC 4566 text (or an RFC 4568 a=crypto value) that cannot be parsed. */
export class SdpParseError extends MediaParseError {
  constructor(detail: string, line: number | null = null, code: 'sdp-malformed' | 'sdes-malformed' = 'sdp-malformed') {
    super(code, detail, line);
    this.name = 'SdpParseError';
  }
}

export type SrtpErrorCode = Extract<ErrorCode, 'srtp-malformed' | 'srtp-auth-failed' | 'srtp-replay' | 'srtp-invalid-key'>;

/** An SRTP/SRTCP packet was refused (RFC 3711 §3.3, §3.4) or a key was unusable. */
export class SrtpError extends CardlineError {
  override readonly code: SrtpErrorCode;

  constructor(code: SrtpErrorCode, detail?: string) {
    super(code, detail);
    this.name = 'SrtpError';
    this.code = code;
  }
}

export function isMediaParseError(e: unknown): e is MediaParseError {
  return e instanceof MediaParseError;
}
