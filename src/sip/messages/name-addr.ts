/**
 * name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route, Refer-To…
 * (RFC 3261 §20.10, §20.20, §20.30, §20.34, §20.39; grammar §25.1):
 *
 *   ( name-addr / addr-spec ) *( SEMI generic-param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 *   generic-param = token [ EQUAL gen-value ];  gen-value = token / host / quoted-string
 *
 * §20.10: "if the URI is not enclosed in angle brackets, any semicolon-delimited parameters are header-
 * parameters, not URI parameters", and a URI holding a comma, question mark or semicolon MUST be enclosed —
 * so an addr-spec ends at the first ";" and may not contain "?" (RFC 4475 §3.1.2.13, regbadct).
 */
import { GEN_VALUE_CHARS, quote, Scanner, TOKEN_CHARS, unquote } from './grammar.ts';
import { cloneUri, parseUri, serializeUri, type Uri } from './sip-uri.ts';

export type Params = Map<string, string | null>;

export interface NameAddr {
  /** Display name with quoting and quoted-pairs resolved; undefined when absent. */
  displayName: string | undefined;
  uri: Uri;
  /** Header parameters, names lower-cased; quoted values keep their quotes (use `unquote`). */
  params: Params;
}

/** Parses `*( SEMI generic-param )` from the scanner's position to the end of the value. */
export function parseParams(s: Scanner): Params {
  const params: Params = new Map();
  while (s.trySep(';')) {
    const name = s.token('parameter name').toLowerCase();
    let value: string | null = null;
    if (s.trySep('=')) {
      if (s.peek() === '"') value = s.quotedString('parameter value');
      else {
        value = s.run(GEN_VALUE_CHARS);
        if (value.length === 0) s.fail('empty parameter value');
      }
    }
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

export function serializeParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) {
    if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(k)) throw new TypeError('bad parameter name');
    if (v !== null && !/^(?:"(?:[^"\\\r\n]|\\[\x00-\x09\x0b\x0c\x0e-\x7f])*"|[A-Za-z0-9\-.!%*_+`'~:[\]]+)$/.test(v)) {
      throw new TypeError('bad parameter value');
    }
    out += v === null ? `;${k}` : `;${k}=${v}`;
  }
  return out;
}

export interface ParseNameAddrOptions {
  /** Route and Record-Route allow only the name-addr form (RFC 3261 §20.30, §20.34). */
  requireBrackets?: boolean;
}

export function parseNameAddr(text: string, header: string, opts: ParseNameAddrOptions = {}): NameAddr {
  const s = new Scanner(text, header);
  s.skipWs();
  let displayName: string | undefined;
  let bracketed = false;
  if (s.peek() === '"') {
    displayName = unquote(s.quotedString('display name'));
    s.skipWs();
    if (s.peek() !== '<') s.fail('expected < after display name');
    bracketed = true;
  } else if (s.peek() === '<') {
    bracketed = true;
  } else {
    // display-name = *(token LWS): read tokens; a "<" after them makes this a name-addr.
    const save = s.pos;
    const words: string[] = [];
    for (;;) {
      const t = s.run(TOKEN_CHARS);
      if (t.length === 0) break;
      words.push(t);
      s.skipWs();
    }
    if (words.length > 0 && s.peek() === '<') {
      displayName = words.join(' ');
      bracketed = true;
    } else s.pos = save;
  }
  let uriText: string;
  if (bracketed) {
    s.pos++; // "<"
    const close = s.text.indexOf('>', s.pos);
    if (close < 0) s.fail('unterminated <');
    uriText = s.text.slice(s.pos, close);
    s.pos = close + 1;
  } else {
    if (opts.requireBrackets) s.fail('URI must be enclosed in <>');
    const start = s.pos;
    while (!s.done && s.peek() !== ';' && s.peek() !== ' ' && s.peek() !== '\t') s.pos++;
    uriText = s.text.slice(start, s.pos);
    if (uriText.includes('?') || uriText.includes(',')) s.fail('URI with ? or , must be enclosed in <>');
  }
  const uri = parseUri(uriText, header);
  const params = parseParams(s);
  s.end();
  return { displayName, uri, params };
}

export function serializeNameAddr(na: NameAddr): string {
  const dn = na.displayName !== undefined ? `${quote(na.displayName)} ` : '';
  return `${dn}<${serializeUri(na.uri)}>${serializeParams(na.params)}`;
}

export function cloneNameAddr(na: NameAddr): NameAddr {
  return { displayName: na.displayName, uri: cloneUri(na.uri), params: new Map(na.params) };
}

/** The `tag` parameter of From/To (RFC 3261 §19.3). */
export function tagOf(na: NameAddr): string | undefined {
  const t = na.params.get('tag');
  return t === null || t === undefined ? undefined : t;
}
