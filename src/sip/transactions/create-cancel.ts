/**
 * CANCEL for a pending INVITE (RFC 3261 §9.1): "The Request-URI, Call-ID, To, the numeric part of CSeq, and From
 * header fields in the CANCEL request MUST be identical to those in the request being cancelled, including tags.
 * A CANCEL constructed by a client MUST have only a single Via header field value matching the top Via value in the
 * request being cancelled." Route headers are copied too, and an optional RFC 3326 Reason says why.
 */
import { SipHeaders, SipRequest } from '../messages/index.ts';

export function createCancel(invite: SipRequest, reason?: string): SipRequest {
  const h = new SipHeaders();
  h.append('Via', invite.headers.get('Via')!);
  h.append('Max-Forwards', invite.headers.get('Max-Forwards') ?? '70');
  for (const r of invite.headers.getAll('Route')) h.append('Route', r);
  h.append('From', invite.headers.get('From')!);
  h.append('To', invite.headers.get('To')!);
  h.append('Call-ID', invite.callId());
  h.append('CSeq', `${invite.cseq().seq} CANCEL`);
  if (reason !== undefined) h.append('Reason', reason);
  return new SipRequest('CANCEL', invite.uri, h);
}
