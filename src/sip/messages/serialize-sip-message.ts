/**
 * SIP message writer (RFC 3261 §7): start line, one header field per line in stored order, a Content-Length
 * computed from the body (§20.14: required over streams, harmless over UDP, so always written), blank line,
 * body. Output is always CRLF-terminated, single-SP separated, and never folded.
 */
import { CardlineError } from '../../errors/index.ts';
import { isToken } from './grammar.ts';
import { SIP_VERSION, type SipMessage } from './sip-message.ts';
import { serializeUri } from './sip-uri.ts';

const encoder = new TextEncoder();

/** List headers of plain tokens, written as one comma-separated row. */
const JOINED = new Set(['Accept', 'Accept-Encoding', 'Accept-Language', 'Allow', 'Allow-Events', 'Content-Encoding',
  'Content-Language', 'Proxy-Require', 'Require', 'Supported', 'Unsupported']);

function invalid(what: string): never {
  throw new CardlineError('sip-invalid-message', what);
}

export function serializeSipMessage(m: SipMessage): Uint8Array {
  let head: string;
  if (m.kind === 'request') {
    if (!isToken(m.method)) invalid('bad method');
    let uri: string;
    try {
      uri = serializeUri(m.uri);
    } catch {
      invalid('bad Request-URI');
    }
    head = `${m.method} ${uri} ${SIP_VERSION}\r\n`;
  } else {
    if (!Number.isInteger(m.status) || m.status < 100 || m.status > 699) invalid('status code out of range');
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(m.reason)) invalid('control character in reason phrase');
    head = `${SIP_VERSION} ${m.status} ${m.reason}\r\n`;
  }
  const entries = m.headers.entries();
  for (let i = 0; i < entries.length; i++) {
    const { name, value } = entries[i]!;
    let line = value;
    // Token lists read best on one row (`Allow: INVITE, ACK, BYE`); §7.3.1 makes both forms equivalent.
    if (JOINED.has(name)) while (entries[i + 1]?.name === name) line += `, ${entries[++i]!.value}`;
    head += `${name}: ${line}\r\n`;
  }
  head += `Content-Length: ${m.body.length}\r\n\r\n`;
  const headBytes = encoder.encode(head);
  const out = new Uint8Array(headBytes.length + m.body.length);
  out.set(headBytes, 0);
  out.set(m.body, headBytes.length);
  return out;
}
