/**
 * Header field names: case-insensitive (RFC 3261 §7.3.1), with compact forms (§7.3.3 and later RFCs), and
 * the set of headers whose value is a comma-separated list (§7.3.1: only those may be split or combined).
 */

/** Compact form → full name. RFC 3261 §7.3.3 (c e f i k l m s t v), RFC 6665 (o u), RFC 3515 (r),
 * RFC 3892 (b), RFC 4028 (x), RFC 3841 (a d j), RFC 8224 (y), RFC 4474 (n). */
const COMPACT: Record<string, string> = {
  a: 'Accept-Contact', b: 'Referred-By', c: 'Content-Type', d: 'Request-Disposition', e: 'Content-Encoding',
  f: 'From', i: 'Call-ID', j: 'Reject-Contact', k: 'Supported', l: 'Content-Length', m: 'Contact',
  n: 'Identity-Info', o: 'Event', r: 'Refer-To', s: 'Subject', t: 'To', u: 'Allow-Events', v: 'Via',
  x: 'Session-Expires', y: 'Identity',
};

/** Canonical spellings of well-known headers, so a message we forward reads the way peers expect. */
const CANONICAL_LIST = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Diversion',
  'Error-Info', 'Event', 'Expires', 'From', 'History-Info', 'Identity', 'Identity-Info', 'In-Reply-To',
  'Max-Forwards', 'MIME-Version', 'Min-Expires', 'Min-SE', 'Organization', 'P-Asserted-Identity',
  'P-Preferred-Identity', 'Path', 'Priority', 'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization',
  'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-To', 'Referred-By', 'Reject-Contact', 'Replaces',
  'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'Security-Client',
  'Security-Server', 'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'Subject',
  'Subscription-State', 'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning',
  'WWW-Authenticate',
];
const CANONICAL = new Map(CANONICAL_LIST.map((n) => [n.toLowerCase(), n]));

/**
 * Headers whose grammar is `#element` (a comma list). Authorization, WWW-Authenticate and the Proxy-* pair are
 * the §7.3.1 exceptions (their commas separate parameters), and free-text headers (Subject, Date, User-Agent…)
 * are not lists either.
 */
const LIST_HEADERS = new Set([
  'accept', 'accept-contact', 'accept-encoding', 'accept-language', 'alert-info', 'allow', 'allow-events',
  'call-info', 'contact', 'content-encoding', 'content-language', 'diversion', 'error-info', 'history-info',
  'in-reply-to', 'p-asserted-identity', 'p-preferred-identity', 'path', 'proxy-require', 'reason',
  'record-route', 'reject-contact', 'request-disposition', 'require', 'route', 'security-client',
  'security-server', 'security-verify', 'service-route', 'supported', 'unsupported', 'via', 'warning',
]);

/** Lower-case full name: the key every lookup uses (`v`, `VIA` and `Via` are one header). */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const full = COMPACT[lower];
    if (full) return full.toLowerCase();
  }
  return lower;
}

/** Canonical spelling of a known header (compact forms expanded); unknown names are kept as written. */
export function canonicalHeaderName(name: string): string {
  const key = headerKey(name);
  return CANONICAL.get(key) ?? (name.length === 1 ? key : name);
}

export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(headerKey(name));
}
