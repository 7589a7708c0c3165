/**
 * SIP message parser (RFC 3261 §7, §18.3, grammar §25.1): bytes in, `SipRequest | SipResponse` out, no I/O.
 *
 *   generic-message = start-line *message-header CRLF [ message-body ]
 *   Request-Line    = Method SP Request-URI SP SIP-Version CRLF
 *   Status-Line     = SIP-Version SP Status-Code SP Reason-Phrase CRLF
 *   message-header  = field-name *(SP / HTAB) ":" SWS field-value CRLF   (continuation lines start with SP/HTAB)
 *
 * Policy, chosen against RFC 4475 (the torture tests) and §18.3:
 * - CRLFs before the start line are skipped (§7.5); a bare LF is accepted as a line end (robustness).
 * - The start line is strict: single SPs, no trailing white space (lwsstart, trws, lwsruri, ltgtruri → 400),
 *   headers are not allowed in the Request-URI (§19.1.1 table, escruri), versions other than 2.0 → 505.
 * - Header folding is undone (§7.3.1). The header section must be UTF-8 (TEXT-UTF8, §25.1).
 * - Content-Length (§18.3, §20.14): over a stream it is required; in a datagram a missing one means "the rest
 *   of the datagram", octets beyond it are ignored (dblreq), and one larger than the datagram is an error
 *   (clerr). Negative, overlarge or conflicting values are errors (ncl, mcl01).
 * - Via, From, To, Call-ID and CSeq (and Max-Forwards, Contact, Route, Record-Route, Content-Type when
 *   present) are parsed before the message is returned, so later layers can rely on them; a request whose
 *   CSeq method differs from its method is malformed (mismatch01/02).
 * Every failure is a `SipParseError`; nothing else escapes (checked by fuzzing).
 */
import { isToken, parseBoundedInt } from './grammar.ts';
import { headerKey } from './header-names.ts';
import { SIP_VERSION, SipRequest, SipResponse, type SipMessage } from './sip-message.ts';
import { SipParseError } from './sip-parse-error.ts';
import { parseUri } from './sip-uri.ts';

export interface ParseSipOptions {
  /** How the message arrived: `datagram` (UDP, default) or `stream` (TCP/TLS: Content-Length required). */
  framing?: 'datagram' | 'stream';
  /** Largest accepted message in bytes (default 65535, the largest UDP payload). */
  maxMessageSize?: number;
  /** Largest number of header lines (default 500). */
  maxHeaderLines?: number;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 65535;
const DEFAULT_MAX_HEADER_LINES = 500;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface HeaderSection {
  start: number;
  /** Index just past the last header byte (before the blank line). */
  end: number;
  bodyStart: number;
}

/** Finds the blank line ending the header section; `start` is past any leading CRLFs. */
function findHeaderSection(bytes: Uint8Array): HeaderSection | undefined {
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x0d || bytes[start] === 0x0a)) start++;
  let i = start;
  for (;;) {
    const lf = bytes.indexOf(0x0a, i);
    if (lf < 0) return undefined;
    if (bytes[lf + 1] === 0x0a) return { start, end: lf, bodyStart: lf + 2 };
    if (bytes[lf + 1] === 0x0d && bytes[lf + 2] === 0x0a) return { start, end: lf, bodyStart: lf + 3 };
    i = lf + 1;
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l.includes('\r')) throw new SipParseError('Bare CR in header section');
    lines[i] = l;
  }
  return lines;
}

const VERSION_RE = /^SIP\/[0-9]+\.[0-9]+$/i;

function checkVersion(v: string): void {
  if (!VERSION_RE.test(v)) throw new SipParseError('Bad SIP version');
  // §7.1: "The SIP-Version string is case-insensitive"; only 2.0 is spoken (RFC 4475 §3.1.2.16 badvers → 505).
  if (v.toUpperCase() !== SIP_VERSION) throw new SipParseError('Version Not Supported', 'sip-version-unsupported');
}

/** Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB): no CTLs. */
function checkReason(r: string): void {
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(r)) throw new SipParseError('Bad reason phrase');
}

export function parseSipMessage(bytes: Uint8Array, opts: ParseSipOptions = {}): SipMessage {
  const maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const maxLines = opts.maxHeaderLines ?? DEFAULT_MAX_HEADER_LINES;
  if (bytes.length > maxSize) throw new SipParseError('Message Too Large', 'sip-message-too-large');
  const section = findHeaderSection(bytes);
  if (!section) {
    if (bytes.every((b) => b === 0x0d || b === 0x0a)) throw new SipParseError('Empty message');
    throw new SipParseError('Header section not terminated');
  }
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(section.start, section.end));
  } catch {
    throw new SipParseError('Header section is not UTF-8');
  }
  const lines = splitLines(text);
  if (lines.length - 1 > maxLines) throw new SipParseError('Too many header lines');
  const startLine = lines[0]!;

  // --- start line ----------------------------------------------------------------------------------------
  let message: SipMessage;
  if (/^SIP\//i.test(startLine)) {
    const sp1 = startLine.indexOf(' ');
    if (sp1 < 0) throw new SipParseError('Bad status line');
    checkVersion(startLine.slice(0, sp1));
    const code = startLine.slice(sp1 + 1, sp1 + 4);
    const after = startLine.slice(sp1 + 4);
    if (!/^[1-6][0-9][0-9]$/.test(code) || (after.length > 0 && after[0] !== ' ')) throw new SipParseError('Bad status code');
    const reason = after.slice(1);
    checkReason(reason);
    message = new SipResponse(Number(code), reason);
  } else {
    const parts = startLine.split(' ');
    if (parts.length !== 3 || parts.some((p) => p.length === 0)) throw new SipParseError('Bad request line');
    const [method, uriText, version] = parts as [string, string, string];
    checkVersion(version);
    if (!isToken(method)) throw new SipParseError('Bad method');
    const uri = parseUri(uriText, 'Request-URI');
    if (uri.kind === 'sip' && uri.headers.length > 0) throw new SipParseError('Request-URI: headers not allowed');
    message = new SipRequest(method, uri);
  }

  // --- header fields (§7.3), folding undone -----------------------------------------------------------------
  const raw: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const c0 = line.charCodeAt(0);
    if (c0 === 0x20 || c0 === 0x09) {
      const last = raw[raw.length - 1];
      if (!last) throw new SipParseError('Continuation line without header');
      last[1] += ` ${line.replace(/^[ \t]+/, '')}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) throw new SipParseError('Header line without colon');
    const name = line.slice(0, colon).replace(/[ \t]+$/, '');
    if (!isToken(name)) throw new SipParseError('Bad header name');
    raw.push([name, line.slice(colon + 1)]);
  }
  const contentLengths: string[] = [];
  const headers = message.headers;
  for (const [name, value] of raw) {
    if (headerKey(name) === 'content-length') contentLengths.push(value.trim());
    else headers.append(name, value);
  }

  // --- body framing (§18.3, §20.14) -------------------------------------------------------------------------
  const available = bytes.length - section.bodyStart;
  let bodyLength: number;
  if (contentLengths.length === 0) {
    if (opts.framing === 'stream') throw new SipParseError('Missing Content-Length');
    bodyLength = available;
  } else {
    if (new Set(contentLengths).size > 1) throw new SipParseError('Multiple Content-Length headers');
    const n = parseBoundedInt(contentLengths[0]!, maxSize);
    if (n === undefined) throw new SipParseError('Content-Length: bad value');
    if (n > available) throw new SipParseError('Content-Length larger than message');
    bodyLength = n;
  }
  message.body = bytes.slice(section.bodyStart, section.bodyStart + bodyLength);

  // --- mandatory and structural headers (§8.1.1, §8.2.2) ----------------------------------------------------
  message.vias();
  message.from();
  message.to();
  message.callId();
  const cseq = message.cseq();
  message.maxForwards();
  message.contentType();
  message.contacts();
  message.routes();
  message.recordRoutes();
  if (message.kind === 'request' && cseq.method !== message.method) throw new SipParseError('CSeq method does not match');
  return message;
}

/** What a UAS needs to answer a request it could not parse (§8.2.6.2 copies these headers). */
export interface SalvagedRequest {
  method: string | undefined;
  via: string[];
  from: string | undefined;
  to: string | undefined;
  callId: string | undefined;
  cseq: string | undefined;
}

const latin1 = new TextDecoder('latin1');

/**
 * Best-effort extraction of Via/From/To/Call-ID/CSeq from bytes `parseSipMessage` refused, so the transport
 * layer can send 400 (§21.4.1). Returns undefined for anything that is not a request. Values are raw text;
 * the caller must still parse the Via it routes to.
 */
export function salvageRequest(bytes: Uint8Array, maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE): SalvagedRequest | undefined {
  const limited = bytes.subarray(0, Math.min(bytes.length, maxMessageSize));
  const section = findHeaderSection(limited);
  const text = latin1.decode(section ? limited.subarray(section.start, section.end) : limited);
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const startLine = lines[0]?.replace(/^[\r\n]+/, '') ?? '';
  if (/^SIP\//i.test(startLine) || !/^[A-Za-z0-9\-.!%*_+`'~]+ /.test(startLine)) return undefined;
  const method = startLine.split(' ')[0];
  const out: SalvagedRequest = { method, via: [], from: undefined, to: undefined, callId: undefined, cseq: undefined };
  for (const line of lines.slice(1)) {
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) continue;
    const colon = line.indexOf(':');
    if (colon <= 0 || line[0] === ' ' || line[0] === '\t') continue;
    const key = headerKey(line.slice(0, colon).trim());
    const value = line.slice(colon + 1).trim();
    if (value.length === 0) continue;
    if (key === 'via') out.via.push(value);
    else if (key === 'from') out.from ??= value;
    else if (key === 'to') out.to ??= value;
    else if (key === 'call-id') out.callId ??= value;
    else if (key === 'cseq') out.cseq ??= value;
  }
  return out;
}
