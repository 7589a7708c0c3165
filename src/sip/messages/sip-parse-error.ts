/**
 * The one error a SIP parser throws (house style 2). It carries what the transport layer needs to answer a
 * request it could not understand (RFC 3261 §8.2.2, §21.4.1): the SIP status to send and a short reason safe to
 * put in a Reason-Phrase. The reason names headers and grammar elements only, never a header value or a body
 * byte — an INFO body may hold a DTMF digit typed in secure mode (house style 6).
 */
import { CardlineError, type ErrorCode } from '../../errors/index.ts';

export type SipParseErrorCode = Extract<ErrorCode, 'sip-malformed' | 'sip-message-too-large' | 'sip-version-unsupported'>;

const SIP_STATUS: Record<SipParseErrorCode, number> = {
  'sip-malformed': 400, // RFC 3261 §21.4.1 Bad Request
  'sip-message-too-large': 513, // RFC 3261 §21.5.9 Message Too Large
  'sip-version-unsupported': 505, // RFC 3261 §21.5.6 Version Not Supported
};

export class SipParseError extends CardlineError {
  /** Short ASCII text for a Reason-Phrase, e.g. `Missing Call-ID`. No CR, LF or header values. */
  readonly reason: string;
  /** The SIP status a UAS answers with: 400, 505 or 513. */
  readonly sipStatus: number;

  constructor(reason: string, code: SipParseErrorCode = 'sip-malformed') {
    const safe = sanitizeReason(reason);
    super(code, safe);
    this.name = 'SipParseError';
    this.reason = safe;
    this.sipStatus = SIP_STATUS[code];
  }
}

export function isSipParseError(e: unknown): e is SipParseError {
  return e instanceof SipParseError;
}

/** Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB): no CTLs (§25.1). */
function sanitizeReason(reason: string): string {
  const cleaned = reason.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 120).trim();
  return cleaned.length > 0 ? cleaned : 'Malformed message';
}
