/**
 * SIP and SIPS URIs (RFC 3261 §19.1, grammar §25.1), with other schemes (tel:, urn:, http:…) kept opaque.
 *
 *   SIP-URI  = "sip:"  [ userinfo ] hostport uri-parameters [ headers ]
 *   SIPS-URI = "sips:" [ userinfo ] hostport uri-parameters [ headers ]
 *   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 *   hostport = host [ ":" port ];  host = hostname / IPv4address / IPv6reference ("[" IPv6address "]")
 *   uri-parameters = *( ";" uri-parameter );  headers = "?" header *( "&" header );  header = hname "=" hvalue
 *
 * Components are kept in their escaped wire form so a URI we forward is byte-identical to the one we received
 * (esc01 in RFC 4475 §3.1.1.3 escapes characters that need no escaping); `uriEquals` unescapes for comparison
 * as §19.1.4 requires. Parameter names are case-insensitive and stored lower-cased.
 */
import { isIP, isIPv6 } from 'node:net';
import { allIn, HEADER_CHARS, HOST_CHARS, isIn, PARAM_CHARS, parseBoundedInt, PASSWORD_CHARS, USER_CHARS } from './grammar.ts';
import { SipParseError } from './sip-parse-error.ts';

export interface SipUri {
  readonly kind: 'sip';
  scheme: 'sip' | 'sips';
  /** Escaped form, as on the wire; undefined when the URI has no userinfo. */
  user: string | undefined;
  /** Escaped form. RFC 3261 §19.1.1 deprecates passwords in URIs; they are parsed so they can be refused. */
  password: string | undefined;
  /** hostname, IPv4 address or IPv6 reference with its brackets, e.g. `[2001:db8::1]`. */
  host: string;
  port: number | undefined;
  /** URI parameters, names lower-cased; `null` for a parameter without a value (`;lr`). */
  params: Map<string, string | null>;
  /** Escaped header name/value pairs after `?`. */
  headers: Array<[string, string]>;
}

/** Any other absolute URI (RFC 3986), e.g. `tel:+15551234567`: kept as text, compared case-sensitively. */
export interface AbsoluteUri {
  readonly kind: 'absolute';
  /** Lower-cased scheme. */
  scheme: string;
  /** Everything after `scheme:`. */
  value: string;
}

export type Uri = SipUri | AbsoluteUri;

export interface SipUriInit {
  scheme?: 'sip' | 'sips';
  user?: string;
  host: string;
  port?: number;
  params?: Iterable<[string, string | null]> | Record<string, string | null>;
  headers?: Array<[string, string]>;
}

/** Builds a SIP URI; `user` must already be escaped (see `escapeUser`). Throws `sip-malformed` on bad parts. */
export function sipUri(init: SipUriInit): SipUri {
  const params = new Map<string, string | null>();
  if (init.params) {
    const entries = Symbol.iterator in init.params ? init.params : Object.entries(init.params);
    for (const [k, v] of entries as Iterable<[string, string | null]>) params.set(k.toLowerCase(), v);
  }
  const uri: SipUri = {
    kind: 'sip', scheme: init.scheme ?? 'sip', user: init.user, password: undefined, host: init.host,
    port: init.port, params, headers: init.headers ?? [],
  };
  return parseUri(serializeUri(uri)) as SipUri; // validates every part with the one parser
}

export function isSipUri(u: Uri): u is SipUri {
  return u.kind === 'sip';
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1) */
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;

export function parseUri(text: string, what = 'URI'): Uri {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SipParseError(`${what}: missing scheme`);
  const scheme = text.slice(0, colon);
  if (!SCHEME_RE.test(scheme)) throw new SipParseError(`${what}: bad scheme`);
  const lower = scheme.toLowerCase();
  const rest = text.slice(colon + 1);
  if (lower === 'sip' || lower === 'sips') return parseSipUriBody(lower, rest, what);
  // absoluteURI: printable ASCII or UTF-8, no white space, no delimiters that end a name-addr.
  if (rest.length === 0 || /[\x00-\x20\x7f<>"]/.test(rest)) throw new SipParseError(`${what}: bad characters`);
  return { kind: 'absolute', scheme: lower, value: rest };
}

function parseSipUriBody(scheme: 'sip' | 'sips', rest: string, what: string): SipUri {
  let user: string | undefined;
  let password: string | undefined;
  // No component after userinfo may hold an unescaped "@", so the first one ends userinfo.
  const at = rest.indexOf('@');
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    user = pc >= 0 ? userinfo.slice(0, pc) : userinfo;
    if (pc >= 0) {
      password = userinfo.slice(pc + 1);
      if (password.length > 0 && !allIn(PASSWORD_CHARS, password, true)) throw new SipParseError(`${what}: bad password`);
    }
    if (!allIn(USER_CHARS, user, true)) throw new SipParseError(`${what}: bad user part`);
  }
  // hostport
  let i = 0;
  let host: string;
  if (hostPart[0] === '[') {
    const close = hostPart.indexOf(']');
    if (close < 0) throw new SipParseError(`${what}: unterminated IPv6 reference`);
    host = hostPart.slice(0, close + 1);
    if (!isIPv6(host.slice(1, -1))) throw new SipParseError(`${what}: bad IPv6 reference`);
    i = close + 1;
  } else {
    while (i < hostPart.length && isIn(HOST_CHARS, hostPart.charCodeAt(i))) i++;
    host = hostPart.slice(0, i);
    if (!isHostname(host)) throw new SipParseError(`${what}: bad host`);
  }
  let port: number | undefined;
  if (hostPart[i] === ':') {
    const start = ++i;
    while (i < hostPart.length && hostPart.charCodeAt(i) >= 0x30 && hostPart.charCodeAt(i) <= 0x39) i++;
    port = parseBoundedInt(hostPart.slice(start, i), 65535);
    if (port === undefined) throw new SipParseError(`${what}: bad port`);
  }
  // uri-parameters and headers
  const params = new Map<string, string | null>();
  const headers: Array<[string, string]> = [];
  let tail = hostPart.slice(i);
  const q = tail.indexOf('?');
  const headerPart = q >= 0 ? tail.slice(q + 1) : undefined;
  if (q >= 0) tail = tail.slice(0, q);
  if (tail.length > 0) {
    if (tail[0] !== ';') throw new SipParseError(`${what}: unexpected characters after host`);
    for (const p of tail.slice(1).split(';')) {
      const eq = p.indexOf('=');
      const name = eq >= 0 ? p.slice(0, eq) : p;
      const value = eq >= 0 ? p.slice(eq + 1) : null;
      if (!allIn(PARAM_CHARS, name, true)) throw new SipParseError(`${what}: bad parameter name`);
      if (value !== null && !allIn(PARAM_CHARS, value, true)) throw new SipParseError(`${what}: bad parameter value`);
      const key = name.toLowerCase();
      if (!params.has(key)) params.set(key, value);
    }
  }
  if (headerPart !== undefined) {
    for (const h of headerPart.split('&')) {
      const eq = h.indexOf('=');
      if (eq < 0) throw new SipParseError(`${what}: URI header without "="`);
      const name = h.slice(0, eq);
      const value = h.slice(eq + 1);
      if (!allIn(HEADER_CHARS, name, true)) throw new SipParseError(`${what}: bad URI header name`);
      if (value.length > 0 && !allIn(HEADER_CHARS, value, true)) throw new SipParseError(`${what}: bad URI header value`);
      headers.push([name, value]);
    }
  }
  return { kind: 'sip', scheme, user, password, host, port, params, headers };
}

/** hostname = *( domainlabel "." ) toplabel [ "." ] / IPv4address — labels of alphanum and "-". */
function isHostname(h: string): boolean {
  if (h.length === 0 || h.length > 255) return false;
  if (isIP(h) === 4) return true;
  const labels = h.endsWith('.') ? h.slice(0, -1).split('.') : h.split('.');
  return labels.every((l) => l.length > 0 && l.length <= 63 && l[0] !== '-' && l[l.length - 1] !== '-');
}

export function serializeUri(u: Uri): string {
  if (u.kind === 'absolute') {
    if (!SCHEME_RE.test(u.scheme) || u.value.length === 0 || /[\x00-\x20\x7f<>"]/.test(u.value)) {
      throw new TypeError('not a valid absolute URI');
    }
    return `${u.scheme}:${u.value}`;
  }
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += `${u.user}${u.password !== undefined ? `:${u.password}` : ''}@`;
  s += u.host;
  if (u.port !== undefined) s += `:${u.port}`;
  for (const [k, v] of u.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  if (u.headers.length > 0) s += `?${u.headers.map(([k, v]) => `${k}=${v}`).join('&')}`;
  return s;
}

export function cloneUri<U extends Uri>(u: U): U {
  if (u.kind === 'absolute') return { ...u };
  return { ...u, params: new Map(u.params), headers: u.headers.map(([k, v]) => [k, v] as [string, string]) } as U;
}

/** Percent-decodes a URI component (RFC 3986 §2.1); bytes that are not UTF-8 decode as Latin-1. */
export function unescapeUriComponent(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** Escapes a string for the user part of a SIP URI (characters outside `user` are percent-encoded). */
export function escapeUser(s: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(s)) {
    out += b < 128 && isIn(USER_CHARS, b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Parameters that must match when present in either URI (RFC 3261 §19.1.4). */
const STRICT_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'];

/**
 * URI equivalence, RFC 3261 §19.1.4: userinfo case-sensitive, host and parameters case-insensitive, escapes
 * resolved, an explicit port differs from an absent one, user/ttl/method/maddr/transport must match when
 * present in either, other parameters only when present in both, and every URI header must match.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'absolute' || b.kind === 'absolute') {
    return a.kind === 'absolute' && b.kind === 'absolute' && a.scheme === b.scheme && a.value === b.value;
  }
  if (a.scheme !== b.scheme) return false;
  const ue = (x: string | undefined) => (x === undefined ? undefined : unescapeUriComponent(x));
  if (ue(a.user) !== ue(b.user) || ue(a.password) !== ue(b.password)) return false;
  if (unescapeUriComponent(a.host).toLowerCase() !== unescapeUriComponent(b.host).toLowerCase()) return false;
  if (a.port !== b.port) return false;
  const pv = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : unescapeUriComponent(v).toLowerCase());
  for (const name of STRICT_PARAMS) if (pv(a.params.get(name)) !== pv(b.params.get(name))) return false;
  for (const [k, v] of a.params) if (b.params.has(k) && pv(v) !== pv(b.params.get(k))) return false;
  if (a.headers.length !== b.headers.length) return false;
  const hmap = (h: Array<[string, string]>) => new Map(h.map(([k, v]) => [unescapeUriComponent(k).toLowerCase(), unescapeUriComponent(v)]));
  const ha = hmap(a.headers);
  const hb = hmap(b.headers);
  for (const [k, v] of ha) if (hb.get(k) !== v) return false;
  return true;
}
