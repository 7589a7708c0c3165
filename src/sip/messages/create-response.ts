/**
 * Building a response to a request (RFC 3261 §8.2.6): "the From field of the response MUST equal the From header
 * field of the request. The Call-ID ... MUST equal ... The CSeq ... MUST equal ... The Via header field values
 * in the response MUST equal the Via header field values in the request and MUST maintain the same ordering"
 * (§8.2.6.2); the To is copied and, unless the request already had a To tag, a tag is added to every response
 * but 100 Trying. A 100 copies the request's Timestamp (§8.2.6.1).
 */
import { newTag } from './identifiers.ts';
import { parseNameAddr, serializeNameAddr } from './name-addr.ts';
import { SipHeaders } from './sip-headers.ts';
import { SipResponse, type SipRequest } from './sip-message.ts';
import { reasonPhrase } from './status-codes.ts';

export interface CreateResponseOptions {
  reason?: string;
  /** To tag for a response that lacks one; every response of one dialog must carry the same tag (§12.1.1). */
  toTag?: string;
  /** Extra header fields, appended in order. */
  headers?: Array<[string, string]>;
  body?: Uint8Array;
  contentType?: string;
}

export function createResponse(request: SipRequest, status: number, opts: CreateResponseOptions = {}): SipResponse {
  const h = new SipHeaders();
  for (const v of request.headers.getAll('Via')) h.append('Via', v);
  h.append('From', request.headers.get('From') ?? '');
  const to = request.to();
  if (status > 100 && to.params.get('tag') === undefined) {
    const withTag = parseNameAddr(request.headers.get('To') ?? '', 'To');
    withTag.params.set('tag', opts.toTag ?? newTag());
    h.append('To', serializeNameAddr(withTag));
  } else {
    h.append('To', request.headers.get('To') ?? '');
  }
  h.append('Call-ID', request.callId());
  h.append('CSeq', request.headers.get('CSeq') ?? '');
  if (status === 100) {
    const ts = request.headers.get('Timestamp');
    if (ts !== undefined) h.append('Timestamp', ts);
  }
  for (const [n, v] of opts.headers ?? []) h.append(n, v);
  if (opts.contentType !== undefined) h.set('Content-Type', opts.contentType);
  return new SipResponse(status, opts.reason ?? reasonPhrase(status), h, opts.body ?? new Uint8Array(0));
}
