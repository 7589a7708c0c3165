/**
 * A person's SIP identity (the agent's address of record, e.g. `sip:alice@pbx.example.com`) and whether a call
 * leg's URI belongs to it. Used to find "my current call": the agent leg's target URI is compared with the
 * signed-in agent's identity.
 *
 * RFC 3261 §19.1.4 compares SIP URIs component-wise: the user part case-sensitively (after unescaping), the
 * host case-insensitively. It also makes port, transport and other parameters significant, and never equates
 * `sip:` with `sips:`. Identity is "who", not "where": the gateway's route target usually carries a port or a
 * `;transport=` the admin did not type (and a TLS route turns `sip:` into `sips:`), so this comparison keeps the
 * §19.1.4 rules for user and host and deliberately ignores scheme, port, parameters and headers.
 */
import { SipParseError } from './sip-parse-error.ts';
import { parseUri, unescapeUriComponent } from './sip-uri.ts';

export interface SipIdentity {
  /** unescaped user part (case-sensitive, RFC 3261 §19.1.4) */
  user: string;
  /** host, lower-cased (case-insensitive, RFC 3261 §19.1.4) */
  host: string;
}

/** At most this long: a user profile field, not a whole SIP header. */
export const SIP_IDENTITY_MAX = 256;

/**
 * Parses `sip:user@host[:port][;params]` (or the same in `<…>`). A user part is required: an identity names a
 * person, not a host. Throws `SipParseError` on anything else.
 */
export function parseSipIdentity(text: string): SipIdentity {
  if (text.length > SIP_IDENTITY_MAX) throw new SipParseError('SIP identity: too long');
  const t = text.trim();
  const bare = t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1) : t;
  const u = parseUri(bare, 'SIP identity');
  if (u.kind !== 'sip') throw new SipParseError('SIP identity: must be a sip: or sips: URI');
  if (u.user === undefined || u.user === '') throw new SipParseError('SIP identity: a user part is required');
  if (u.password !== undefined) throw new SipParseError('SIP identity: no password in the URI (RFC 3261 §19.1.1)');
  return { user: unescapeUriComponent(u.user), host: u.host.toLowerCase() };
}

/** The identity's canonical text (`sip:user@host`), what is stored and shown. */
export function formatSipIdentity(id: SipIdentity): string {
  const user = id.user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) => encodeURIComponent(c));
  return `sip:${user}@${id.host}`;
}

/** Whether `uri` (a call leg's URI) belongs to `identity`; false when either does not parse. */
export function sameSipIdentity(identity: string, uri: string): boolean {
  let a: SipIdentity;
  let b: SipIdentity;
  try {
    a = parseSipIdentity(identity);
    b = parseSipIdentity(uri);
  } catch {
    return false;
  }
  return a.user === b.user && a.host === b.host;
}
