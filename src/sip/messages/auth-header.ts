/**
 * WWW-Authenticate / Proxy-Authenticate / Authorization / Proxy-Authorization (RFC 3261 §20.7, §20.27, §20.28,
 * §20.44, §25.1; RFC 7616 §3.3–3.4 for the Digest parameters):
 *
 *   challenge   = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
 *   credentials = ("Digest" LWS digest-response) / other-response
 *   auth-param  = auth-param-name EQUAL ( token / quoted-string )
 *
 * These headers are the §7.3.1 exception: their commas separate parameters, so they are never list-split.
 * Values are stored unquoted; `serializeAuthHeader` quotes them the way RFC 7616 writes each parameter.
 */
import { quote, Scanner } from './grammar.ts';

export interface AuthHeader {
  /** Scheme as written, e.g. "Digest" (compare case-insensitively). */
  scheme: string;
  /** Parameter names lower-cased; values with quoting resolved. */
  params: Map<string, string>;
}

export function parseAuthHeader(text: string, header: string): AuthHeader {
  const s = new Scanner(text, header);
  s.skipWs();
  const scheme = s.token('auth scheme');
  const params = new Map<string, string>();
  if (!s.skipWs()) {
    s.end();
    return { scheme, params };
  }
  let first = true;
  while (!s.done) {
    if (!first) {
      s.expectSep(',', 'comma between auth parameters');
      if (s.done) break; // tolerate a trailing comma
    }
    first = false;
    s.skipWs();
    const name = s.token('auth parameter name').toLowerCase();
    s.expectSep('=', 'auth parameter =');
    let value: string;
    if (s.peek() === '"') {
      const raw = s.quotedString('auth parameter');
      value = raw.slice(1, -1).replace(/\\(.)/g, '$1');
    } else {
      value = s.token('auth parameter value');
    }
    if (!params.has(name)) params.set(name, value);
    s.skipWs();
  }
  return { scheme, params };
}

/** Parameters RFC 7616 writes as tokens; `qop` is a token only in credentials (a quoted list in challenges). */
const UNQUOTED = new Set(['algorithm', 'stale', 'nc', 'userhash']);

export function serializeAuthHeader(h: AuthHeader, kind: 'challenge' | 'credentials'): string {
  const parts: string[] = [];
  for (const [k, v] of h.params) {
    const bare = UNQUOTED.has(k) || (k === 'qop' && kind === 'credentials');
    if (bare && !/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(v)) throw new TypeError('bad auth parameter token');
    parts.push(`${k}=${bare ? v : quote(v)}`);
  }
  return parts.length > 0 ? `${h.scheme} ${parts.join(', ')}` : h.scheme;
}
