/**
 * The UAC side of digest authentication (RFC 3261 §22.2, §22.3): answer a 401 (WWW-Authenticate → Authorization) or
 * 407 (Proxy-Authenticate → Proxy-Authorization) by re-sending the request with credentials for every challenge we
 * can meet. It picks the strongest supported algorithm per realm (RFC 8760 §2.4), prefers qop=auth over auth-int
 * and counts nonces (nc) per nonce value. Challenges it cannot meet (unknown algorithm or scheme, no credentials)
 * are left out; if none can be met the caller gets `undefined` and treats the 401/407 as final.
 */
import { randomBytes } from 'node:crypto';
import { serializeUri, type AuthHeader, type SipRequest, type SipResponse } from '../messages/index.ts';
import type { CredentialStore } from './credentials.ts';
import { algorithmRank, digestResponse, parseAlgorithm, type DigestAlgorithm } from './digest.ts';

export interface AuthorizationHeader {
  name: 'Authorization' | 'Proxy-Authorization';
  value: AuthHeader;
}

interface Chosen {
  challenge: AuthHeader;
  algorithm: DigestAlgorithm;
  name: AuthorizationHeader['name'];
}

export class DigestClient {
  readonly #store: CredentialStore;
  readonly #nc = new Map<string, number>();

  constructor(store: CredentialStore) {
    this.#store = store;
  }

  /** The credentials to add to `request` (same method and URI as the challenged one), or undefined. */
  authorize(request: SipRequest, response: SipResponse): AuthorizationHeader[] | undefined {
    const proxy = response.status === 407;
    const challenges = response.authHeaders(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    const name = proxy ? 'Proxy-Authorization' : 'Authorization';
    const byRealm = new Map<string, Chosen>();
    for (const c of challenges) {
      if (c.scheme.toLowerCase() !== 'digest') continue;
      const realm = c.params.get('realm');
      const nonce = c.params.get('nonce');
      const algorithm = parseAlgorithm(c.params.get('algorithm'));
      if (realm === undefined || nonce === undefined || !algorithm) continue;
      const prev = byRealm.get(realm);
      if (!prev || algorithmRank(algorithm) > algorithmRank(prev.algorithm)) byRealm.set(realm, { challenge: c, algorithm, name });
    }
    const out: AuthorizationHeader[] = [];
    for (const [realm, chosen] of byRealm) {
      const creds = this.#store.lookup(realm, request);
      if (!creds) continue;
      const header = this.#answer(request, chosen, realm, creds.username, creds.password);
      if (header) out.push(header);
    }
    return out.length > 0 ? out : undefined;
  }

  #answer(request: SipRequest, chosen: Chosen, realm: string, username: string, password: string): AuthorizationHeader | undefined {
    const c = chosen.challenge.params;
    const nonce = c.get('nonce')!;
    const offered = (c.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter((q) => q.length > 0);
    let qop: 'auth' | 'auth-int' | undefined;
    if (offered.includes('auth')) qop = 'auth';
    else if (offered.includes('auth-int')) qop = 'auth-int';
    else if (offered.length > 0) return undefined; // only unknown qop values: cannot answer
    // RFC 7616 §3.4: "nc ... the hexadecimal count of the number of requests ... sent with the nonce value".
    const count = (this.#nc.get(nonce) ?? 0) + 1;
    this.#nc.set(nonce, count);
    if (this.#nc.size > 64) this.#nc.delete(this.#nc.keys().next().value!);
    const nc = count.toString(16).padStart(8, '0');
    const cnonce = randomBytes(12).toString('hex');
    const uri = serializeUri(request.uri);
    const response = digestResponse({
      algorithm: chosen.algorithm, username, realm, password, method: request.method, uri, nonce,
      ...(qop ? { qop, nc, cnonce } : {}), ...(qop === 'auth-int' ? { body: request.body } : {}),
    });
    const params = new Map<string, string>([['username', username], ['realm', realm], ['nonce', nonce], ['uri', uri], ['response', response], ['algorithm', chosen.algorithm]]);
    const opaque = c.get('opaque');
    if (opaque !== undefined) params.set('opaque', opaque);
    if (qop) {
      params.set('qop', qop);
      params.set('nc', nc);
      params.set('cnonce', cnonce);
    }
    return { name: chosen.name, value: { scheme: 'Digest', params } };
  }
}
