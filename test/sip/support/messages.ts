/** Builders for test messages. */
import {
  newBranch, newCallId, newTag, parseSipMessage, parseUri, SipHeaders, SipRequest, type SipMessage,
} from '../../../src/sip/messages/index.ts';

export interface TestRequestInit {
  method?: string;
  uri?: string;
  branch?: string;
  via?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  cseq?: number;
  headers?: Array<[string, string]>;
  body?: string;
}

/** A well-formed request; the Via host is a placeholder the transport layer replaces on send. */
export function testRequest(init: TestRequestInit = {}): SipRequest {
  const method = init.method ?? 'OPTIONS';
  const h = new SipHeaders();
  h.append('Via', init.via ?? `SIP/2.0/UDP placeholder.invalid;branch=${init.branch ?? newBranch()}`);
  h.append('Max-Forwards', '70');
  h.append('From', `<sip:alice@example.com>;tag=${init.fromTag ?? newTag()}`);
  h.append('To', `<sip:bob@example.com>${init.toTag ? `;tag=${init.toTag}` : ''}`);
  h.append('Call-ID', init.callId ?? newCallId());
  h.append('CSeq', `${init.cseq ?? 1} ${method === 'ACK' || method === 'CANCEL' ? method : method}`);
  for (const [n, v] of init.headers ?? []) h.append(n, v);
  return new SipRequest(method, parseUri(init.uri ?? 'sip:bob@127.0.0.1'), h, new TextEncoder().encode(init.body ?? ''));
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
export const parse = (s: string | Uint8Array): SipMessage => parseSipMessage(typeof s === 'string' ? enc(s) : s);

/** A raw request as text (CRLF), for peers that are plain sockets. */
export function rawRequest(opts: { method?: string; via: string; callId?: string; extra?: string; body?: string; cseq?: number }): string {
  const method = opts.method ?? 'OPTIONS';
  const body = opts.body ?? '';
  return `${method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: ${opts.via}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\n`
    + `To: <sip:bob@example.com>\r\nCall-ID: ${opts.callId ?? 'raw-1'}\r\nCSeq: ${opts.cseq ?? 1} ${method}\r\n${opts.extra ?? ''}`
    + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Resolves with the first value `pick` returns for a pushed item, or rejects after `ms`. */
export function waitFor<T>(register: (push: (v: T) => void) => void, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
