/**
 * The one error catalogue. Every error Cardline raises on purpose carries a stable `code` from here.
 * Codes are part of the public contract (CLI exit messages, HTTP error bodies, events): never rename one.
 *
 * Rule (PCI DSS 4.0 req. 3.3/3.4, house style 6): a message never contains a PAN, a security code,
 * or a DTMF digit. Put only lengths, offsets, field names and counts into `detail`.
 */
export const ERROR_CATALOGUE = {
  // --- generic -------------------------------------------------------------------------------------
  'usage': { status: 400, summary: 'The command or request is not well formed' },
  'internal': { status: 500, summary: 'Internal error' },
  'io-error': { status: 500, summary: 'A file or device could not be read or written' },
  // --- audio / DSP ---------------------------------------------------------------------------------
  'wav-malformed': { status: 400, summary: 'The WAV data is malformed' },
  'wav-truncated': { status: 400, summary: 'The WAV data ends before its declared size' },
  'wav-unsupported': { status: 400, summary: 'The WAV encoding is not supported' },
  'audio-invalid-argument': { status: 400, summary: 'An audio parameter is out of range' },
  'dtmf-invalid-digit': { status: 400, summary: 'Not a DTMF key (allowed: 0-9 * # A B C D)' },
  // --- payments: card validation (messages carry lengths and field names only, never digits) ---------
  'invalid-card-number': { status: 422, summary: 'The card number is not valid' },
  'invalid-card-type': { status: 422, summary: 'The card brand is not accepted' },
  'invalid-expiry': { status: 422, summary: 'The expiry date is not valid' },
  'invalid-security-code': { status: 422, summary: 'The security code is not valid' },
  'invalid-postal-code': { status: 422, summary: 'The postal code is not valid' },
  'timeout': { status: 408, summary: 'No input arrived in time' },
  'max-attempts': { status: 422, summary: 'Too many invalid attempts for a field' },
  // --- payments: sessions ----------------------------------------------------------------------------
  'session-not-found': { status: 404, summary: 'No such payment session' },
  'invalid-state': { status: 409, summary: 'The payment session cannot do that in its current state' },
  'session-expired': { status: 410, summary: 'The payment session has expired' },
  'idempotency-conflict': { status: 409, summary: 'The idempotency key is already used by another payment session' },
  'amount-required': { status: 422, summary: 'An amount and currency are required to charge' },
  'invalid-amount': { status: 400, summary: 'The amount or currency is not valid' },
  'invalid-field': { status: 400, summary: 'The field is not part of this payment session' },
  'invalid-session-config': { status: 400, summary: 'The payment session configuration is not valid' },
  'vault-error': { status: 500, summary: 'The card vault has no usable data for this session' },
  // --- payments: connectors -------------------------------------------------------------------------
  'connector-error': { status: 502, summary: 'The payment connector failed' },
  'connector-timeout': { status: 504, summary: 'The payment connector did not answer in time' },
  'connector-not-configured': { status: 500, summary: 'No payment connector is configured for this merchant' },
  'connector-unsupported': { status: 501, summary: 'The payment connector does not support this operation' },
  'card-declined': { status: 402, summary: 'The card was declined' },
  'insufficient-funds': { status: 402, summary: 'The card has insufficient funds' },
  // --- media: RTP/RTCP/SRTP/SDP codecs and ports (src/media/; details carry offsets and lengths only) --
  'rtp-malformed': { status: 400, summary: 'The RTP packet is malformed' },
  'rtcp-malformed': { status: 400, summary: 'The RTCP packet is malformed' },
  'telephone-event-malformed': { status: 400, summary: 'The RFC 4733 telephone-event payload is malformed' },
  'srtp-malformed': { status: 400, summary: 'The SRTP or SRTCP packet is malformed' },
  'srtp-auth-failed': { status: 400, summary: 'The SRTP or SRTCP authentication tag does not match' },
  'srtp-replay': { status: 400, summary: 'The SRTP or SRTCP packet is a replay or too old' },
  'srtp-invalid-key': { status: 400, summary: 'The SRTP master key or salt is not valid' },
  'sdes-malformed': { status: 400, summary: 'The SDES crypto attribute is malformed' },
  'sdp-malformed': { status: 400, summary: 'The SDP is malformed' },
  'sdp-not-acceptable': { status: 488, summary: 'The SDP offers nothing Cardline can accept' },
  'media-ports-exhausted': { status: 503, summary: 'No free RTP port pair is left in the configured range' },
  // --- gateway: anchored calls (src/gateway/) ---------------------------------------------------------
  'call-not-found': { status: 404, summary: 'No such call' },
  'call-state': { status: 409, summary: 'The call is not in a state that allows this' },
  'session-ended': { status: 409, summary: 'The payment session has already ended (succeeded, failed, cancelled or expired) and cannot be bound to a call' },
  // --- call recording (src/recording/): the call always goes on; details carry an errno code or a count ------
  'recording-io-error': { status: 500, summary: 'The call recording could not be written (the call goes on)' },
  'recording-not-found': { status: 404, summary: 'No recording for that call' },
  'recording-backlog': { status: 503, summary: 'The disk did not keep up with the call recording; it stopped (the call goes on)' },
  // --- store -----------------------------------------------------------------------------------------
  'store-error': { status: 500, summary: 'The database could not complete the operation' },
  // --- HTTP API / config ----------------------------------------------------------------------------
  'invalid-request': { status: 400, summary: 'The request does not match the schema' },
  'invalid-json': { status: 400, summary: 'The request body is not valid JSON' },
  'unsupported-media-type': { status: 415, summary: 'The request body must be application/json' },
  'payload-too-large': { status: 413, summary: 'The request body is too large' },
  'not-found': { status: 404, summary: 'No such route' },
  'method-not-allowed': { status: 405, summary: 'The method is not allowed on this route' },
  'unauthenticated': { status: 401, summary: 'Authentication is required' },
  'forbidden': { status: 403, summary: 'The credentials do not grant this permission' },
  'invalid-config': { status: 400, summary: 'The configuration is not valid' },
  'invalid-callback-url': { status: 400, summary: 'The status callback URL is not acceptable' },
  // --- identity, access, audit, billing (src/auth, src/audit, src/billing): messages never echo a password, --
  // --- code, token or key, and never say whether a username exists -------------------------------------
  'invalid-credentials': { status: 401, summary: 'The username or password is not correct' },
  'embed-token-invalid': { status: 401, summary: 'The embed token is unknown, expired or already used' },
  'login-throttled': { status: 429, summary: 'Too many failed attempts; try again later' },
  'invalid-mfa-code': { status: 401, summary: 'The authentication code is not valid' },
  'mfa-already-enrolled': { status: 409, summary: 'An authenticator is already enrolled; an admin must reset it first' },
  'mfa-not-pending': { status: 409, summary: 'No authenticator enrolment is in progress' },
  'weak-password': { status: 422, summary: 'The password does not meet the password policy' },
  'csrf-failed': { status: 403, summary: 'The CSRF token is missing or does not match the session' },
  'user-not-found': { status: 404, summary: 'No such user' },
  'user-exists': { status: 409, summary: 'A user with that username already exists' },
  'api-key-not-found': { status: 404, summary: 'No such API key' },
  'audit-chain-broken': { status: 500, summary: 'The audit trail failed verification' },
  'price-plan-missing': { status: 422, summary: 'No price plan applies to this merchant' },
  // --- admin settings (src/settings): messages name the field at fault, never a secret's value -----------
  'settings-invalid': { status: 422, summary: 'The settings are not valid' },
  'settings-not-found': { status: 404, summary: 'No such saved setting' },
  // --- SIP (src/sip/): `detail` names headers, lengths and states, never a header value or a body --------
  'sip-malformed': { status: 400, summary: 'The SIP message is malformed' },
  'sip-message-too-large': { status: 413, summary: 'The SIP message is larger than allowed' },
  'sip-version-unsupported': { status: 505, summary: 'The SIP version is not supported' },
  'sip-invalid-message': { status: 500, summary: 'A SIP message to send is not valid' },
  'sip-transport-error': { status: 502, summary: 'The SIP transport could not deliver the message' },
  'sip-timeout': { status: 504, summary: 'The SIP peer did not answer in time' },
  'sip-state': { status: 500, summary: 'The SIP transaction or dialog cannot do that in its current state' },
  'sip-auth-failed': { status: 401, summary: 'SIP digest authentication failed' },
  'sip-auth-unsupported': { status: 502, summary: 'The SIP authentication challenge is not supported' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class CardlineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  /** `detail` must be free of card data; it is shown to users and logged. */
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const entry = ERROR_CATALOGUE[code];
    super(detail ? `${entry.summary}: ${detail}` : entry.summary, options);
    this.name = 'CardlineError';
    this.code = code;
    this.status = entry.status;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isCardlineError(e: unknown): e is CardlineError {
  return e instanceof CardlineError;
}
