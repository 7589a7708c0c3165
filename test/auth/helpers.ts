import { randomBytes } from 'node:crypto';
import { startTestServer, type TestServer, type TestServerOptions } from '../api/helpers/server.ts';
import { base32Decode, totp, type Ctx, type User, type UserRole } from '../../src/auth/index.ts';

/** A clock the tests move by hand; shared by every security service of a test server. */
export class FakeClock {
  t: number;
  constructor(start = Date.UTC(2026, 10, 3, 9, 0, 0)) { this.t = start; }
  now = (): number => this.t;
  advance(ms: number): void { this.t += ms; }
}

export const SYSTEM_CTX: Ctx = { actor: { kind: 'system', id: 'test', name: 'test' }, ip: null, userAgent: null };

/** Strong, unique, never in the deny list. */
export function strongPassword(): string {
  return `Vq7!${randomBytes(9).toString('base64url')}#mZ`;
}

export interface SecureServer extends TestServer {
  clock: FakeClock;
}

export async function startSecureServer(o: TestServerOptions & { clock?: FakeClock } = {}): Promise<SecureServer> {
  const clock = o.clock ?? new FakeClock();
  const s = await startTestServer({ payments: true, ...o, now: clock.now });
  return Object.assign(s, { clock });
}

export interface TestUser {
  user: User;
  password: string;
  /** TOTP seed once enrolled */
  secret: Buffer | null;
}

export async function createUser(s: SecureServer, username: string, role: UserRole, extra: { mfaRequired?: boolean; teamId?: string | null; merchantId?: string | null } = {}): Promise<TestUser> {
  const security = s.security;
  if (security === null) throw new Error('no security');
  const password = strongPassword();
  const user = await security.auth.createUser({ username, password, role, ...extra }, SYSTEM_CTX);
  return { user, password, secret: null };
}

/** Enrols TOTP through the service (as the user would via the API) and returns the seed. */
export async function enrol(s: SecureServer, u: TestUser): Promise<Buffer> {
  const security = s.security;
  if (security === null) throw new Error('no security');
  const e = await security.auth.beginEnrolment(u.user.id, SYSTEM_CTX);
  const secret = base32Decode(e.secret);
  await security.auth.confirmEnrolment(u.user.id, totp(secret, s.clock.now()), null, SYSTEM_CTX);
  u.secret = secret;
  // the confirming step is spent: the next login needs the next step
  s.clock.advance(30_000);
  return secret;
}

export interface Res<T = Record<string, unknown>> { status: number; body: T; headers: Headers }

export async function call<T = Record<string, unknown>>(s: TestServer, method: string, path: string, o: { token?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(s.url + path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const text = await res.text();
  let body: unknown = text;
  try { body = text === '' ? null : JSON.parse(text); } catch { /* text bodies (CSV, JSON lines) */ }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** Full bearer-token login (password, then TOTP if enrolled). */
export async function loginToken(s: SecureServer, u: TestUser): Promise<string> {
  const r = await call<{ stage: string; token: string }>(s, 'POST', '/v1/auth/login', { body: { username: u.user.username, password: u.password, session: 'token' } });
  if (r.status !== 200) throw new Error(`login ${r.status} ${JSON.stringify(r.body)}`);
  if (r.body.stage === 'full') return r.body.token;
  if (r.body.stage !== 'mfa-pending' || u.secret === null) throw new Error(`stage ${r.body.stage}`);
  const v = await call<{ token: string; stage: string }>(s, 'POST', '/v1/auth/mfa/verify', { token: r.body.token, body: { code: totp(u.secret, s.clock.now()) } });
  if (v.status !== 200) throw new Error(`mfa ${v.status} ${JSON.stringify(v.body)}`);
  s.clock.advance(30_000);
  return v.body.token;
}
