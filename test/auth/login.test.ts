import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, totp } from '../../src/auth/index.ts';
import { call, createUser, enrol, loginToken, startSecureServer, type SecureServer } from './helpers.ts';

/** Cookie jar for one browser: name → value, from Set-Cookie headers. */
function cookies(headers: Headers): Record<string, { value: string; attrs: string }> {
  const out: Record<string, { value: string; attrs: string }> = {};
  for (const c of headers.getSetCookie()) {
    const [pair = '', ...attrs] = c.split(';');
    const i = pair.indexOf('=');
    out[pair.slice(0, i).trim()] = { value: pair.slice(i + 1), attrs: attrs.join(';').trim() };
  }
  return out;
}

describe('login over HTTP (real server, SQLite file, fake clock)', () => {
  let s: SecureServer;
  before(async () => { s = await startSecureServer(); });
  after(async () => { await s.close(); });

  test('without MFA (agent with MFA turned off): cookie session, HttpOnly SameSite=Strict, CSRF on state changes, logout revokes', async () => {
    const u = await createUser(s, 'agent.nomfa', 'agent', { mfaRequired: false, merchantId: 'acme' });
    const login = await call<{ stage: string; token: string | null; csrfToken: string; user: { username: string } }>(s, 'POST', '/v1/auth/login', { body: { username: 'Agent.NoMFA ', password: u.password } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.stage, 'full');
    assert.equal(login.body.token, null, 'cookie sessions do not expose the token to script');
    const jar = cookies(login.headers);
    const session = jar.cardline_session;
    const csrf = jar.cardline_csrf;
    assert.ok(session && csrf);
    assert.match(session.attrs, /HttpOnly/i);
    assert.match(session.attrs, /SameSite=Strict/i);
    assert.match(session.attrs, /Path=\//);
    assert.doesNotMatch(session.attrs, /Secure/i, 'plain HTTP on loopback: Secure would stop the browser sending it (auto mode)');
    assert.doesNotMatch(csrf.attrs, /HttpOnly/i, 'the console script must read the CSRF token');
    assert.equal(csrf.value, login.body.csrfToken);
    const cookieHeader = { cookie: `cardline_session=${session.value}; cardline_csrf=${csrf.value}` };

    const me = await call<{ user: { username: string }; stage: string; via: string; permissions: string[] }>(s, 'GET', '/v1/auth/me', { headers: cookieHeader });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.username, 'agent.nomfa');
    assert.equal(me.body.via, 'cookie');
    assert.ok(me.body.permissions.includes('sessions:write'));
    assert.ok(!me.body.permissions.includes('sessions:digits'), 'an agent never feeds digits');

    const body = { callId: 'call-1', merchantId: 'acme', intent: 'tokenize' };
    const noCsrf = await call<{ error: { code: string } }>(s, 'POST', '/v1/sessions', { headers: cookieHeader, body });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.code, 'csrf-failed');
    const wrongCsrf = await call(s, 'POST', '/v1/sessions', { headers: { ...cookieHeader, 'x-csrf-token': `${csrf.value.slice(0, -2)}xx` }, body });
    assert.equal(wrongCsrf.status, 403);
    const ok = await call<{ createdBy: string }>(s, 'POST', '/v1/sessions', { headers: { ...cookieHeader, 'x-csrf-token': csrf.value }, body });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.createdBy, u.user.id);

    const out = await call(s, 'POST', '/v1/auth/logout', { headers: { ...cookieHeader, 'x-csrf-token': csrf.value } });
    assert.equal(out.status, 200);
    assert.match(out.headers.getSetCookie().join('\n'), /cardline_session=;/);
    assert.equal((await call(s, 'GET', '/v1/auth/me', { headers: cookieHeader })).status, 401, 'the server-side session is gone');
  });

  test('bearer tokens for programs: TTL, 15-minute idle timeout and absolute expiry on the fake clock', async () => {
    const u = await createUser(s, 'robot.user', 'agent', { mfaRequired: false });
    const r = await call<{ token: string; expiresAt: string; idleExpiresAt: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'robot.user', password: u.password, session: 'token', ttlSeconds: 1800 } });
    assert.equal(r.status, 200);
    assert.match(r.body.token, /^cls_[A-Za-z0-9_-]{43}$/);
    assert.equal(Date.parse(r.body.expiresAt) - s.clock.now(), 1800_000);
    assert.equal(Date.parse(r.body.idleExpiresAt) - s.clock.now(), 15 * 60_000);
    assert.equal(r.headers.getSetCookie().length, 0, 'no cookies for token sessions');
    const token = r.body.token;
    // use keeps it alive past the idle deadline…
    for (let i = 0; i < 2; i++) {
      s.clock.advance(14 * 60_000);
      assert.equal((await call(s, 'GET', '/v1/auth/me', { token })).status, 200, `use ${i}`);
    }
    // …but not past the absolute lifetime (30 min): 28 min elapsed, 3 more
    s.clock.advance(3 * 60_000);
    assert.equal((await call(s, 'GET', '/v1/auth/me', { token })).status, 401);

    const t2 = await loginToken(s, u);
    s.clock.advance(15 * 60_000 + 1);
    assert.equal((await call(s, 'GET', '/v1/auth/me', { token: t2 })).status, 401, 'idle for more than 15 minutes');
    // a bearer token needs no CSRF token: browsers never attach it on their own
    const t3 = await loginToken(s, u);
    assert.equal((await call(s, 'POST', '/v1/sessions', { token: t3, body: { callId: 'c-2', merchantId: 'm', intent: 'tokenize' } })).status, 201);
    assert.equal((await call(s, 'POST', '/v1/auth/logout', { token: t3 })).status, 200);
    assert.equal((await call(s, 'GET', '/v1/auth/me', { token: t3 })).status, 401, 'logout revokes');
  });

  test('MFA mandatory for admin: enrolment-only session until a first valid code; then password + TOTP; replay refused; recovery codes single use', async () => {
    const u = await createUser(s, 'root.admin', 'admin');
    assert.equal(u.user.mfaRequired, true);
    const first = await call<{ stage: string; token: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'root.admin', password: u.password, session: 'token' } });
    assert.equal(first.body.stage, 'enrolment');
    const enrolOnly = first.body.token;
    assert.equal((await call(s, 'GET', '/v1/users', { token: enrolOnly })).status, 403, 'no admin work before MFA');
    assert.equal((await call(s, 'GET', '/v1/auth/me', { token: enrolOnly })).status, 200);
    const e = await call<{ secret: string; otpauthUri: string; qrSvgDataUrl: string }>(s, 'POST', '/v1/auth/mfa/enrol', { token: enrolOnly });
    assert.equal(e.status, 200);
    assert.match(e.body.otpauthUri, /^otpauth:\/\/totp\/Cardline:root\.admin\?secret=[A-Z2-7]{32}&/);
    assert.match(e.body.qrSvgDataUrl, /^data:image\/svg\+xml;base64,/);
    assert.match(Buffer.from(e.body.qrSvgDataUrl.split(',')[1] ?? '', 'base64').toString(), /<svg/);
    const secret = base32Decode(e.body.secret);
    assert.equal((await call(s, 'POST', '/v1/auth/mfa/confirm', { token: enrolOnly, body: { code: '000000' === totp(secret, s.clock.now()) ? '111111' : '000000' } })).status, 401);
    const confirmed = await call<{ recoveryCodes: string[]; token: string; stage: string }>(s, 'POST', '/v1/auth/mfa/confirm', { token: enrolOnly, body: { code: totp(secret, s.clock.now()) } });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.stage, 'full');
    assert.equal(confirmed.body.recoveryCodes.length, 10);
    assert.equal(new Set(confirmed.body.recoveryCodes).size, 10);
    assert.equal((await call(s, 'GET', '/v1/auth/me', { token: enrolOnly })).status, 401, 'the enrolment session was replaced');
    assert.equal((await call(s, 'GET', '/v1/users', { token: confirmed.body.token })).status, 200);
    assert.equal((await call(s, 'POST', '/v1/auth/mfa/enrol', { token: confirmed.body.token })).status, 409, 'already enrolled');

    // next login: password, then TOTP; the code used to confirm is spent (same step)
    const pw = await call<{ stage: string; token: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'root.admin', password: u.password, session: 'token' } });
    assert.equal(pw.body.stage, 'mfa-pending');
    const pending = pw.body.token;
    assert.equal((await call(s, 'GET', '/v1/auth/me', { token: pending })).status, 403, 'a password alone grants nothing');
    const replay = await call<{ error: { code: string } }>(s, 'POST', '/v1/auth/mfa/verify', { token: pending, body: { code: totp(secret, s.clock.now()) } });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.code, 'invalid-mfa-code');
    s.clock.advance(30_000);
    const code = totp(secret, s.clock.now());
    const ok = await call<{ stage: string; token: string }>(s, 'POST', '/v1/auth/mfa/verify', { token: pending, body: { code } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.stage, 'full');
    assert.notEqual(ok.body.token, pending, 'a new token on privilege change');
    assert.equal((await call(s, 'GET', '/v1/auth/me', { token: pending })).status, 401);
    // the same code, again, on a new login within its window: replay
    const again = await call<{ token: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'root.admin', password: u.password, session: 'token' } });
    assert.equal((await call(s, 'POST', '/v1/auth/mfa/verify', { token: again.body.token, body: { code } })).status, 401);
    // a recovery code works once
    const rc = confirmed.body.recoveryCodes[3] ?? '';
    const viaRecovery = await call<{ stage: string }>(s, 'POST', '/v1/auth/mfa/verify', { token: again.body.token, body: { recoveryCode: rc.toUpperCase() } });
    assert.equal(viaRecovery.status, 200);
    const third = await call<{ token: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'root.admin', password: u.password, session: 'token' } });
    assert.equal((await call(s, 'POST', '/v1/auth/mfa/verify', { token: third.body.token, body: { recoveryCode: rc } })).status, 401, 'single use');
    const events = (await s.security?.audit.query({ actorId: u.user.id })) ?? [];
    const actions = events.map((ev) => `${ev.action}:${ev.outcome}`);
    for (const a of ['auth.login:success', 'auth.mfa-enrol-start:success', 'auth.mfa-enrol-confirm:failure', 'auth.mfa-enrol-confirm:success', 'auth.mfa-verify:failure', 'auth.mfa-verify:success']) {
      assert.ok(actions.includes(a), `audited ${a}`);
    }
    assert.ok(events.some((ev) => ev.action === 'auth.mfa-verify' && ev.detail.method === 'recovery-code' && ev.detail.backupCodesLeft === 9));
  });

  test('agents get MFA by default; an admin can turn it off per agent; admin and supervisor cannot be exempted', async () => {
    const a = await createUser(s, 'agent.default', 'agent');
    assert.equal(a.user.mfaRequired, true);
    const sup = await createUser(s, 'sup.forced', 'supervisor', { mfaRequired: false });
    assert.equal(sup.user.mfaRequired, true);
    const admin = await createUser(s, 'admin.two', 'admin');
    await enrol(s, admin);
    const token = await loginToken(s, admin);
    const patched = await call<{ mfaRequired: boolean }>(s, 'PATCH', `/v1/users/${a.user.id}`, { token, body: { mfaRequired: false } });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.mfaRequired, false);
    assert.equal((await call<{ mfaRequired: boolean }>(s, 'PATCH', `/v1/users/${sup.user.id}`, { token, body: { mfaRequired: false } })).body.mfaRequired, true);
    assert.equal((await call<{ stage: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'agent.default', password: a.password, session: 'token' } })).body.stage, 'full');
  });
});

describe('lockout and back-off', () => {
  let s: SecureServer;
  before(async () => { s = await startSecureServer(); });
  after(async () => { await s.close(); });

  const attempt = (username: string, password: string, ip?: string) =>
    call<{ error?: { code: string }; stage?: string }>(s, 'POST', '/v1/auth/login', { body: { username, password, session: 'token' }, ...(ip ? { headers: { 'x-forwarded-for': ip } } : {}) });

  test('5 failures lock the account for 1 minute, then 2, 4 … (Retry-After); the right password is refused while locked; unknown users behave the same', async () => {
    const u = await createUser(s, 'locky', 'agent', { mfaRequired: false });
    for (let i = 0; i < 5; i++) {
      const r = await attempt('locky', 'wrong password attempt');
      assert.equal(r.status, 401, `attempt ${i}`);
      assert.deepEqual(r.body.error, { code: 'invalid-credentials', message: 'The username or password is not correct' });
    }
    const locked = await attempt('locky', u.password);
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error?.code, 'login-throttled');
    assert.equal(locked.headers.get('retry-after'), '60');
    s.clock.advance(60_000);
    assert.equal((await attempt('locky', 'wrong again, sixth')).status, 401);
    const longer = await attempt('locky', u.password);
    assert.equal(longer.status, 429);
    assert.equal(longer.headers.get('retry-after'), '120', 'exponential back-off');
    s.clock.advance(120_000);
    assert.equal((await attempt('locky', u.password)).status, 200, 'the lock expires; success resets the count');
    assert.equal((await attempt('locky', 'one more wrong')).status, 401);
    assert.equal((await attempt('locky', u.password)).status, 200);

    for (let i = 0; i < 5; i++) assert.equal((await attempt('nobody-here', 'whatever it is')).status, 401);
    const ghost = await attempt('nobody-here', 'whatever it is');
    assert.equal(ghost.status, 429, 'an unknown name locks like a real one (no enumeration)');
    assert.equal(ghost.headers.get('retry-after'), '60');

    const events = (await s.security?.audit.query({ action: 'auth.lockout' })) ?? [];
    assert.equal(events.filter((e) => e.actorId === u.user.id).length, 2);
    assert.ok(events.some((e) => e.actorKind === 'anonymous'));
    const failures = (await s.security?.audit.query({ action: 'auth.login', outcome: 'failure', actorId: u.user.id })) ?? [];
    assert.equal(failures.length, 7);
    assert.ok(failures.every((f) => f.ip === '127.0.0.1' && f.detail.reason === 'wrong-password'));
  });

  test('an admin can unlock at once', async () => {
    const u = await createUser(s, 'unlock.me', 'agent', { mfaRequired: false });
    for (let i = 0; i < 5; i++) await attempt('unlock.me', 'not the password');
    assert.equal((await attempt('unlock.me', u.password)).status, 429);
    await s.security?.auth.unlock(u.user.id, { actor: { kind: 'system', id: 't', name: null }, ip: null, userAgent: null });
    assert.equal((await attempt('unlock.me', u.password)).status, 200);
  });

  test('timing: an unknown username costs a full password hash (dummy hash), like a wrong password', async () => {
    // A cost where one hash (≈60 ms of CPU) dwarfs the request's own work, so skipping it would show. Measured in
    // process CPU time (the server runs in this process; cpuUsage includes the libuv threads that run scrypt),
    // not wall time, so a busy machine cannot make the comparison flaky.
    const slow = await startSecureServer({ securitySettings: { scrypt: { ln: 14, r: 8, p: 1 } } });
    try {
      const u = await createUser(slow, 'timing.user', 'agent', { mfaRequired: false });
      const cpu = async (name: string) => {
        const c0 = process.cpuUsage();
        await call(slow, 'POST', '/v1/auth/login', { body: { username: name, password: 'wrong password here', session: 'token' } });
        const d = process.cpuUsage(c0);
        return (d.user + d.system) / 1000;
      };
      await cpu('warm-up-name');
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 3; i++) { known.push(await cpu(u.user.username)); unknown.push(await cpu(`ghost-${i}`)); }
      const med = (a: number[]) => [...a].sort((x, y) => x - y)[1] ?? 0;
      assert.ok(med(unknown) > med(known) / 2, `CPU ms known ${known.map((x) => x.toFixed(1))}, unknown ${unknown.map((x) => x.toFixed(1))}`);
    } finally {
      await slow.close();
    }
  });
});

describe('per-address throttling', () => {
  test('many failures from one address, across accounts, lock that address only (X-Forwarded-For behind a trusted proxy)', async () => {
    const s = await startSecureServer({
      config: (c) => { c.trustProxy = true; },
      securitySettings: { ipThrottle: { threshold: 5, baseMs: 30_000, maxMs: 600_000, decayMs: 900_000 } },
    });
    try {
      const u = await createUser(s, 'victim', 'agent', { mfaRequired: false });
      const login = (username: string, password: string, ip: string) =>
        call(s, 'POST', '/v1/auth/login', { body: { username, password, session: 'token' }, headers: { 'x-forwarded-for': ip } });
      for (let i = 0; i < 5; i++) assert.equal((await login(`spray-${i}`, 'Winter2026!!', '203.0.113.9')).status, 401);
      const blocked = await login('victim', u.password, '203.0.113.9');
      assert.equal(blocked.status, 429, 'the address is locked, even with the right password');
      assert.equal(blocked.headers.get('retry-after'), '30');
      assert.equal((await login('victim', u.password, '198.51.100.4')).status, 200, 'other addresses are not affected');
      const denied = (await s.security?.audit.query({ action: 'auth.login', outcome: 'denied' })) ?? [];
      assert.ok(denied.some((e) => e.ip === '203.0.113.9' && e.actorId === u.user.id));
    } finally {
      await s.close();
    }
  });
});
