/**
 * Status callbacks are signed with the same scheme as the webhook connector's requests, so a merchant writes
 * one verifier for both (one implementation, in src/connectors):
 *
 *   Cardline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>
 *
 * `verifyCallbackSignature` is the helper merchants use on their side: verify over the raw request bytes,
 * before parsing; it compares in constant time and rejects timestamps outside the tolerance (default 300 s).
 */
export {
  SIGNATURE_HEADER, DEFAULT_TOLERANCE_SEC, computeSignature, signatureHeader,
  verifyWebhookSignature as verifyCallbackSignature, type VerifyOptions, type VerifyResult,
} from '../connectors/index.ts';
