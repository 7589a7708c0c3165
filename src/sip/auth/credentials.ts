/**
 * Where digest credentials come from: configuration entries matched to the challenged request (house style 7: a
 * port, so a vault-backed store can replace the in-memory one). An entry applies when every field it sets matches:
 * the challenge realm, and/or the host of the request's target URI.
 */
import type { SipRequest } from '../messages/index.ts';

export interface SipCredentials {
  username: string;
  password: string;
}

export interface CredentialEntry extends SipCredentials {
  /** Only for this realm (case-sensitive, RFC 7616 §3.3). */
  realm?: string;
  /** Only for requests whose Request-URI host is this (case-insensitive). */
  host?: string;
}

export interface CredentialStore {
  lookup(realm: string, request: SipRequest): SipCredentials | undefined;
}

/** First matching entry wins; more specific entries should be listed first. */
export class StaticCredentialStore implements CredentialStore {
  readonly #entries: readonly CredentialEntry[];

  constructor(entries: readonly CredentialEntry[]) {
    this.#entries = entries.map((e) => ({ ...e }));
  }

  lookup(realm: string, request: SipRequest): SipCredentials | undefined {
    const host = request.uri.kind === 'sip' ? request.uri.host.toLowerCase() : undefined;
    const e = this.#entries.find((x) => (x.realm === undefined || x.realm === realm) && (x.host === undefined || x.host.toLowerCase() === host));
    return e ? { username: e.username, password: e.password } : undefined;
  }
}
