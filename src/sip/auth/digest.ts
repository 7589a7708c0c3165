/**
 * HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 2617 §3.2.2, RFC 7616 §3.4; algorithms for SIP: RFC 8760):
 *
 *   A1 = username ":" realm ":" password                       (-sess: H(A1) ":" nonce ":" cnonce)
 *   A2 = method ":" digest-uri                                 (qop=auth-int: A2 ":" H(entity-body))
 *   response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2))   with qop
 *            = KD(H(A1), nonce ":" H(A2))                             without qop (RFC 2069 compatibility)
 *   KD(secret, data) = H(secret ":" data)
 * H is MD5, SHA-256 or SHA-512/256 (lower-case hex). All hashing is `node:crypto` (house style 11).
 */
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

export const SUPPORTED_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-512-256', 'SHA-512-256-sess', 'SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/** Strength order for choosing among several challenges (RFC 8760 §2.4: use the strongest one supported). */
export function algorithmRank(a: DigestAlgorithm): number {
  return a.startsWith('SHA-512-256') ? 3 : a.startsWith('SHA-256') ? 2 : 1;
}

/** Case-insensitive match of an `algorithm=` value; absent means MD5 (RFC 2617 §3.2.1). */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  return SUPPORTED_ALGORITHMS.find((a) => a.toLowerCase() === value.toLowerCase());
}

function hashName(a: DigestAlgorithm): string {
  return a.startsWith('SHA-512-256') ? 'sha512-256' : a.startsWith('SHA-256') ? 'sha256' : 'md5';
}

export function digestHash(a: DigestAlgorithm, data: string | Uint8Array): string {
  return createHash(hashName(a)).update(data).digest('hex');
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  /** digest-uri: the Request-URI as written in the request (§22.4). */
  uri: string;
  nonce: string;
  /** `auth` or `auth-int`; undefined for the RFC 2069 form. */
  qop?: 'auth' | 'auth-int';
  /** 8 hex digits. */
  nc?: string;
  cnonce?: string;
  /** Needed for qop=auth-int. */
  body?: Uint8Array;
}

export function digestResponse(d: DigestInput): string {
  const H = (s: string | Uint8Array) => digestHash(d.algorithm, s);
  let ha1 = H(`${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const a2 = d.qop === 'auth-int' ? `${d.method}:${d.uri}:${H(d.body ?? new Uint8Array(0))}` : `${d.method}:${d.uri}`;
  const ha2 = H(a2);
  return d.qop ? H(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`) : H(`${ha1}:${d.nonce}:${ha2}`);
}
