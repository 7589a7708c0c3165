/**
 * The UAS side of digest authentication (RFC 3261 §22.1, RFC 7616 §3.3/§3.5), used to test our client against a
 * strict verifier and available to a future registrar or inbound trunk check.
 *
 * Nonces are stateless and tamper-evident: base64url(timestamp ‖ random ‖ HMAC-SHA-256(secret, timestamp ‖ random)),
 * expired after `nonceTtlMs` (then `stale=true` is offered, §22.4). Every comparison of secret-derived values uses
 * `timingSafeEqual` (house style 11). A replayed (nonce, nc) pair is refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseUri, serializeAuthHeader, uriEquals, type AuthHeader, type SipRequest } from '../messages/index.ts';
import { digestResponse, parseAlgorithm, type DigestAlgorithm } from './digest.ts';

export interface DigestServerOptions {
  realm: string;
  /** Looks up the password for a user in the realm. */
  password(username: string): string | undefined;
  algorithms?: DigestAlgorithm[];
  /** HMAC key for nonces; random by default. */
  secret?: Uint8Array;
  nonceTtlMs?: number;
  now?: () => number;
}

export type DigestVerdict = { ok: true; username: string } | { ok: false; stale: boolean };

export class DigestServer {
  readonly realm: string;
  readonly #opts: DigestServerOptions;
  readonly #secret: Uint8Array;
  readonly #seen = new Map<string, number>();

  constructor(opts: DigestServerOptions) {
    this.realm = opts.realm;
    this.#opts = opts;
    this.#secret = opts.secret ?? randomBytes(32);
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }

  #mac(data: Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(data).digest();
  }

  newNonce(): string {
    const head = Buffer.alloc(8 + 12);
    head.writeBigUInt64BE(BigInt(this.#now()));
    randomBytes(12).copy(head, 8);
    return Buffer.concat([head, this.#mac(head)]).toString('base64url');
  }

  /** One WWW-Authenticate (or Proxy-Authenticate) value per configured algorithm, strongest first. */
  challenges(stale = false): string[] {
    const nonce = this.newNonce();
    return (this.#opts.algorithms ?? ['SHA-256', 'MD5']).map((a) => serializeAuthHeader({
      scheme: 'Digest',
      params: new Map([['realm', this.realm], ['nonce', nonce], ['algorithm', a], ['qop', 'auth'], ...(stale ? [['stale', 'true'] as [string, string]] : [])]),
    }, 'challenge'));
  }

  /** Checks one Authorization / Proxy-Authorization against `request`. */
  verify(request: SipRequest, header: AuthHeader): DigestVerdict {
    const p = header.params;
    const fail = (stale = false): DigestVerdict => ({ ok: false, stale });
    if (header.scheme.toLowerCase() !== 'digest' || p.get('realm') !== this.realm) return fail();
    const algorithm = parseAlgorithm(p.get('algorithm'));
    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (!algorithm || !(this.#opts.algorithms ?? ['SHA-256', 'MD5']).includes(algorithm) || !username || !nonce || !uri || !response) return fail();
    // The nonce must be ours and fresh.
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 20 + 32) return fail();
    const expect = this.#mac(raw.subarray(0, 20));
    if (!timingSafeEqual(expect, raw.subarray(20))) return fail();
    const age = this.#now() - Number(raw.readBigUInt64BE(0));
    if (age < 0 || age > (this.#opts.nonceTtlMs ?? 300_000)) return fail(true);
    // §22.4: the digest-uri names the Request-URI; credentials for another URI are not valid here.
    let sameUri = false;
    try {
      sameUri = uriEquals(parseUri(uri), request.uri);
    } catch {
      sameUri = false;
    }
    if (!sameUri) return fail();
    const qop = p.get('qop');
    const nc = p.get('nc');
    const cnonce = p.get('cnonce');
    if (qop !== undefined && (qop !== 'auth' || !nc || !/^[0-9a-fA-F]{8}$/.test(nc) || !cnonce)) return fail();
    const password = this.#opts.password(username);
    if (password === undefined) return fail();
    const wanted = digestResponse({
      algorithm, username, realm: this.realm, password, method: request.method, uri, nonce,
      ...(qop === 'auth' ? { qop: 'auth' as const, nc: nc!, cnonce: cnonce! } : {}),
    });
    const a = Buffer.from(wanted, 'utf8');
    const b = Buffer.from(response.toLowerCase(), 'utf8');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return fail();
    if (qop !== undefined) {
      const n = parseInt(nc!, 16);
      const last = this.#seen.get(nonce) ?? 0;
      if (n <= last) return fail(); // replay
      this.#seen.set(nonce, n);
    }
    return { ok: true, username };
  }
}
