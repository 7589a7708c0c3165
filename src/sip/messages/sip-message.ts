/**
 * SIP requests and responses (RFC 3261 §7) with typed, cached accessors for the headers the core reads.
 * Accessors parse on first use and cache until the headers change; a malformed value throws `SipParseError`.
 * `parseSipMessage` has already run the accessors for every header it validates, so on a parsed message
 * they do not throw.
 */
import { parseAuthHeader, type AuthHeader } from './auth-header.ts';
import { parseCSeq, type CSeq } from './cseq.ts';
import { allIn, parseBoundedInt, splitList, WORD_CHARS } from './grammar.ts';
import { parseMediaType, type MediaType } from './media-type.ts';
import { parseNameAddr, tagOf, type NameAddr } from './name-addr.ts';
import { SipHeaders } from './sip-headers.ts';
import { SipParseError } from './sip-parse-error.ts';
import { cloneUri, type Uri } from './sip-uri.ts';
import { parseVia, type Via } from './via.ts';

export const SIP_VERSION = 'SIP/2.0';

abstract class SipMessageBase {
  headers: SipHeaders;
  /** The message body (§7.4), raw bytes; Content-Length is derived from its length when serialized. */
  body: Uint8Array;
  #cache = new Map<string, { version: number; value: unknown }>();

  constructor(headers: SipHeaders, body: Uint8Array) {
    this.headers = headers;
    this.body = body;
  }

  #cached<T>(key: string, compute: () => T): T {
    const hit = this.#cache.get(key);
    if (hit && hit.version === this.headers.version) return hit.value as T;
    const value = compute();
    this.#cache.set(key, { version: this.headers.version, value });
    return value;
  }

  #single(name: string): string {
    const all = this.headers.getAll(name);
    if (all.length === 0) throw new SipParseError(`Missing ${name}`);
    // RFC 4475 §3.3.9 (multi01): a second Call-ID, To, From or CSeq makes the request malformed.
    if (all.length > 1) throw new SipParseError(`Multiple ${name} headers`);
    return all[0]!;
  }

  /** Via list, top (most recent hop) first. */
  vias(): Via[] {
    return this.#cached('via', () => {
      const list = this.headers.getAll('Via').map(parseVia);
      if (list.length === 0) throw new SipParseError('Missing Via');
      return list;
    });
  }

  /** The top Via alone (the one transactions match on and responses are routed by); lower ones are not parsed. */
  topVia(): Via {
    return this.#cached('top-via', () => {
      const v = this.headers.get('Via');
      if (v === undefined) throw new SipParseError('Missing Via');
      return parseVia(v);
    });
  }

  from(): NameAddr {
    return this.#cached('from', () => parseNameAddr(this.#single('From'), 'From'));
  }

  to(): NameAddr {
    return this.#cached('to', () => parseNameAddr(this.#single('To'), 'To'));
  }

  fromTag(): string | undefined {
    return tagOf(this.from());
  }

  toTag(): string | undefined {
    return tagOf(this.to());
  }

  /** Call-ID = word [ "@" word ] (§20.8), compared byte-for-byte. */
  callId(): string {
    return this.#cached('call-id', () => {
      const v = this.#single('Call-ID');
      const parts = v.split('@');
      if (parts.length > 2 || !parts.every((p) => allIn(WORD_CHARS, p))) throw new SipParseError('Call-ID: bad value');
      return v;
    });
  }

  cseq(): CSeq {
    return this.#cached('cseq', () => parseCSeq(this.#single('CSeq')));
  }

  /** Contact list; `[]` for the `*` wildcard (REGISTER only, §10.2.2) — see `contactWildcard()`. */
  contacts(): NameAddr[] {
    return this.#cached('contact', () => {
      const values = this.headers.getAll('Contact');
      if (values.length === 1 && values[0] === '*') return [];
      if (values.includes('*')) throw new SipParseError('Contact: * must stand alone');
      return values.map((v) => parseNameAddr(v, 'Contact'));
    });
  }

  contactWildcard(): boolean {
    const values = this.headers.getAll('Contact');
    return values.length === 1 && values[0] === '*';
  }

  routes(): NameAddr[] {
    return this.#cached('route', () => this.headers.getAll('Route').map((v) => parseNameAddr(v, 'Route', { requireBrackets: true })));
  }

  recordRoutes(): NameAddr[] {
    return this.#cached('record-route', () =>
      this.headers.getAll('Record-Route').map((v) => parseNameAddr(v, 'Record-Route', { requireBrackets: true })));
  }

  /** Max-Forwards = 1*DIGIT, 0–255 (§20.22); undefined when absent. */
  maxForwards(): number | undefined {
    return this.#cached('max-forwards', () => {
      const all = this.headers.getAll('Max-Forwards');
      if (all.length === 0) return undefined;
      if (all.length > 1) throw new SipParseError('Multiple Max-Forwards headers');
      const n = parseBoundedInt(all[0]!, 255);
      if (n === undefined) throw new SipParseError('Max-Forwards: bad value');
      return n;
    });
  }

  contentType(): MediaType | undefined {
    return this.#cached('content-type', () => {
      const all = this.headers.getAll('Content-Type');
      if (all.length === 0) return undefined;
      if (all.length > 1) throw new SipParseError('Multiple Content-Type headers');
      return parseMediaType(all[0]!);
    });
  }

  /** Expires as delta-seconds; §20.19: a malformed value is treated as 3600, so it never throws. */
  expires(): number | undefined {
    const v = this.headers.get('Expires');
    if (v === undefined) return undefined;
    return parseBoundedInt(v, 0xffffffff) ?? 3600;
  }

  /** Option tags of Require / Supported / Proxy-Require / Unsupported / Allow (comma lists). */
  tokens(name: 'Require' | 'Supported' | 'Proxy-Require' | 'Unsupported' | 'Allow'): string[] {
    return this.headers.getAll(name).flatMap((v) => splitList(v, name));
  }

  /** WWW-Authenticate, Proxy-Authenticate, Authorization or Proxy-Authorization fields, parsed. */
  authHeaders(name: 'WWW-Authenticate' | 'Proxy-Authenticate' | 'Authorization' | 'Proxy-Authorization'): AuthHeader[] {
    return this.#cached(`auth:${name}`, () => this.headers.getAll(name).map((v) => parseAuthHeader(v, name)));
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  /** Method token, case-sensitive (§7.1). */
  method: string;
  uri: Uri;

  constructor(method: string, uri: Uri, headers: SipHeaders = new SipHeaders(), body: Uint8Array = new Uint8Array(0)) {
    super(headers, body);
    this.method = method;
    this.uri = uri;
  }

  clone(): SipRequest {
    return new SipRequest(this.method, cloneUri(this.uri), this.headers.clone(), this.body.slice());
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers: SipHeaders = new SipHeaders(), body: Uint8Array = new Uint8Array(0)) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }

  clone(): SipResponse {
    return new SipResponse(this.status, this.reason, this.headers.clone(), this.body.slice());
  }
}

export type SipMessage = SipRequest | SipResponse;
