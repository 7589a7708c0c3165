/**
 * Via (RFC 3261 §20.42, §18; RFC 3581 rport; RFC 5923 alias):
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 *   via-params    = via-ttl / via-maddr / via-received / via-branch / response-port / via-extension
 *   via-received  = "received" EQUAL (IPv4address / IPv6address)
 *   response-port = "rport" [EQUAL 1*DIGIT]                                   (RFC 3581 §3)
 */
import { isIP, isIPv6 } from 'node:net';
import { HOST_CHARS, isToken, parseBoundedInt, Scanner } from './grammar.ts';
import { parseParams, serializeParams, type Params } from './name-addr.ts';

/** RFC 3261 §8.1.1.7: a branch that begins with this cookie was made by an RFC 3261 element. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  /** protocol-name, normally "SIP". */
  protocol: string;
  /** protocol-version, normally "2.0". */
  version: string;
  /** Upper-cased transport token: UDP, TCP, TLS, SCTP, WS, WSS or an extension. */
  transport: string;
  /** sent-by host: hostname, IPv4 or bracketed IPv6 reference. */
  host: string;
  port: number | undefined;
  params: Params;
}

export function parseVia(text: string): Via {
  const s = new Scanner(text, 'Via');
  s.skipWs();
  const protocol = s.token('protocol name');
  s.expectSep('/', 'sent-protocol /');
  const version = s.token('protocol version');
  s.expectSep('/', 'sent-protocol /');
  const transport = s.token('transport').toUpperCase();
  if (!s.skipWs()) s.fail('expected white space before sent-by');
  let host: string;
  if (s.peek() === '[') {
    const close = s.text.indexOf(']', s.pos);
    if (close < 0) s.fail('unterminated IPv6 reference');
    host = s.text.slice(s.pos, close + 1);
    if (!isIPv6(host.slice(1, -1))) s.fail('bad IPv6 reference');
    s.pos = close + 1;
  } else {
    host = s.run(HOST_CHARS);
    if (host.length === 0) s.fail('expected sent-by host');
  }
  let port: number | undefined;
  if (s.trySep(':')) {
    const digits = s.run(DIGITS);
    port = parseBoundedInt(digits, 65535);
    if (port === undefined) s.fail('bad sent-by port');
  }
  const params = parseParams(s);
  s.end();
  // Typed parameters (§20.42, RFC 3581): refuse values that would mislead response routing.
  const received = params.get('received');
  if (received !== undefined && (received === null || isIP(received.replace(/^\[|\]$/g, '')) === 0)) s.fail('bad received');
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null && parseBoundedInt(rport, 65535) === undefined) s.fail('bad rport');
  const branch = params.get('branch');
  if (branch !== undefined && (branch === null || !isToken(branch))) s.fail('bad branch');
  const ttl = params.get('ttl');
  if (ttl !== undefined && (ttl === null || parseBoundedInt(ttl, 255) === undefined)) s.fail('bad ttl');
  return { protocol, version, transport, host, port, params };
}

const DIGITS = (() => {
  const set = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) set[c] = 1;
  return set;
})();

export function serializeVia(v: Via): string {
  if (!isToken(v.protocol) || !isToken(v.version) || !isToken(v.transport)) throw new TypeError('bad Via sent-protocol');
  if (!/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$/.test(v.host)) throw new TypeError('bad Via host');
  const port = v.port !== undefined ? `:${v.port}` : '';
  return `${v.protocol}/${v.version}/${v.transport} ${v.host}${port}${serializeParams(v.params)}`;
}

export function viaBranch(v: Via): string | undefined {
  return v.params.get('branch') ?? undefined;
}

export function cloneVia(v: Via): Via {
  return { ...v, params: new Map(v.params) };
}
