/**
 * Matching messages to transactions.
 * - Responses to client transactions, §17.1.3: the branch of the top Via and the CSeq method.
 * - Requests to server transactions, §17.2.3: with an RFC 3261 branch (magic cookie), the branch, the sent-by of the
 *   top Via and the method (ACK matches the INVITE). Otherwise the RFC 2543 rule: Request-URI, From tag, Call-ID,
 *   CSeq number, top Via and method (the To tag is left out so the ACK for a non-2xx finds its INVITE).
 */
import { BRANCH_MAGIC_COOKIE, serializeUri, serializeVia, type SipRequest, type SipResponse } from '../messages/index.ts';

export function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

export function clientKeyOfResponse(response: SipResponse): string | undefined {
  const branch = response.topVia().params.get('branch');
  return branch ? clientKey(branch, response.cseq().method) : undefined;
}

/** `asMethod` looks up another method's transaction for the same request (CANCEL → its INVITE). */
export function serverKey(request: SipRequest, asMethod?: string): string {
  const via = request.topVia();
  const method = asMethod ?? (request.method === 'ACK' ? 'INVITE' : request.method);
  const branch = via.params.get('branch');
  if (branch?.startsWith(BRANCH_MAGIC_COOKIE)) {
    return `3261|${branch}|${via.host.toLowerCase()}:${via.port ?? ''}|${method}`;
  }
  return `2543|${serializeUri(request.uri)}|${request.fromTag() ?? ''}|${request.callId()}|${request.cseq().seq}|${serializeVia(via)}|${method}`;
}

/** §8.2.2.2 merged-request detection: From tag, Call-ID and CSeq of an out-of-dialog request. */
export function mergeKey(request: SipRequest): string {
  const c = request.cseq();
  return `${request.fromTag() ?? ''}|${request.callId()}|${c.seq}|${c.method}`;
}
