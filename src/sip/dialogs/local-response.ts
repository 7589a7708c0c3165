/**
 * Responses the UA core makes up for outcomes that have no response on the wire (RFC 3261 §8.1.3.1): a transaction
 * timeout "MUST be treated as if it received a 408", a transport error "as a 503". They are marked so callers can
 * tell them from real ones.
 */
import { createResponse, type SipRequest, type SipResponse } from '../messages/index.ts';

const LOCAL = new WeakSet<SipResponse>();

export function localResponse(request: SipRequest, status: 408 | 487 | 503, reason?: string): SipResponse {
  const r = createResponse(request, status, reason !== undefined ? { reason } : {});
  LOCAL.add(r);
  return r;
}

/** True for a 408/503 made locally rather than received. */
export function isLocalResponse(r: SipResponse): boolean {
  return LOCAL.has(r);
}
