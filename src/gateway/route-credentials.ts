/**
 * Digest credentials per route (RFC 3261 §22.2: a UAC answering 401/407 re-sends with credentials for the realm).
 * A challenge is answered with the credentials of the route whose target is the challenged request's URI; an
 * in-dialog request (BYE, re-INVITE) goes to the agent's Contact instead, so it falls back to the first route with
 * the same host. `realm`, when set, must equal the challenge's realm (case-sensitive, RFC 7616 §3.3).
 *
 * Passwords stay in memory only: never logged, never in an error message (`passwordEnv` errors name the variable).
 */
import { CardlineError } from '../errors/index.ts';
import { parseUri, type CredentialStore, type SipCredentials, type SipRequest, type Uri, uriEquals } from '../sip/index.ts';

export interface RouteAuthConfig {
  username: string;
  password?: string | undefined;
  /** Name of an environment variable holding the password. */
  passwordEnv?: string | undefined;
  realm?: string | undefined;
}

interface Entry extends SipCredentials {
  target: Uri;
  host: string | undefined;
  realm: string | undefined;
}

function hostOf(u: Uri): string | undefined {
  return u.kind === 'sip' ? u.host.toLowerCase() : undefined;
}

export class RouteCredentialStore implements CredentialStore {
  readonly #entries: readonly Entry[];

  /** Resolves `passwordEnv` from `env` now (startup): a missing variable is an `invalid-config` error. */
  constructor(routes: ReadonlyArray<{ target: string; auth?: RouteAuthConfig | undefined }>, env: NodeJS.ProcessEnv = process.env) {
    const entries: Entry[] = [];
    routes.forEach((r, i) => {
      if (!r.auth) return;
      let password = r.auth.password;
      if (r.auth.passwordEnv !== undefined) {
        const v = env[r.auth.passwordEnv];
        if (v === undefined || v === '') throw new CardlineError('invalid-config', `gateway.routes[${i}].auth.passwordEnv: environment variable ${r.auth.passwordEnv} is not set`);
        password = v;
      }
      if (password === undefined) throw new CardlineError('invalid-config', `gateway.routes[${i}].auth: no password or passwordEnv`);
      let target: Uri;
      try {
        target = parseUri(r.target);
      } catch {
        throw new CardlineError('invalid-config', `gateway.routes[${i}].target is not a valid SIP URI`);
      }
      entries.push({ target, host: hostOf(target), realm: r.auth.realm, username: r.auth.username, password });
    });
    this.#entries = entries;
  }

  get size(): number {
    return this.#entries.length;
  }

  lookup(realm: string, request: SipRequest): SipCredentials | undefined {
    const fits = this.#entries.filter((e) => e.realm === undefined || e.realm === realm);
    const host = hostOf(request.uri);
    const e = fits.find((x) => uriEquals(x.target, request.uri)) ?? fits.find((x) => x.host !== undefined && x.host === host);
    return e ? { username: e.username, password: e.password } : undefined;
  }
}
