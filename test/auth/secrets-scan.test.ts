import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base32Decode, totp } from '../../src/auth/index.ts';
import { call, createUser, enrol, loginToken, startSecureServer, strongPassword } from './helpers.ts';

/**
 * A full run of everything secret-bearing (users created over the API, cookie and token logins, TOTP enrolment
 * and verification, recovery codes, password changes, API keys created and rotated, CSRF tokens), then every log
 * line the server wrote and every byte of every file in the data directory (database, WAL, shared memory, key
 * files' neighbours) is searched for each secret: zero hits (PCI DSS 4.0 req. 8.3.2, 10.3; issue 5).
 */
test('no password, TOTP seed, recovery code, API key, session or CSRF token appears in any log line or database file', async () => {
  const s = await startSecureServer();
  const secrets = new Map<string, string>(); // value → what it is
  const binary: Buffer[] = [];
  const keep = (what: string, v: string | null | undefined) => { if (v) secrets.set(v, what); };
  try {
    const root = await createUser(s, 'scan.root', 'admin');
    keep('password', root.password);
    const seed = await enrol(s, root);
    binary.push(seed);
    const admin = await loginToken(s, root);
    keep('session token', admin);

    // a user created over HTTP, first login with a cookie, enrolment through the API
    const pw = strongPassword();
    keep('password', pw);
    const made = await call<{ id: string }>(s, 'POST', '/v1/users', { token: admin, body: { username: 'scan.agent', password: pw, role: 'agent', merchantId: 'acme', teamId: 'red' } });
    assert.equal(made.status, 201);
    const login = await call<{ stage: string; csrfToken: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'scan.agent', password: pw } });
    assert.equal(login.body.stage, 'enrolment');
    const jar = Object.fromEntries(login.headers.getSetCookie().map((c) => (c.split(';')[0] ?? '').split('=') as [string, string]));
    keep('session cookie', jar.cardline_session);
    keep('csrf token', login.body.csrfToken);
    const cookie = { cookie: `cardline_session=${jar.cardline_session}`, 'x-csrf-token': login.body.csrfToken };
    const e = await call<{ secret: string; otpauthUri: string }>(s, 'POST', '/v1/auth/mfa/enrol', { headers: cookie });
    assert.equal(e.status, 200);
    keep('totp seed (base32)', e.body.secret);
    keep('otpauth uri', e.body.otpauthUri);
    const agentSeed = base32Decode(e.body.secret);
    binary.push(agentSeed);
    keep('totp seed (hex)', agentSeed.toString('hex'));
    keep('totp seed (base64)', agentSeed.toString('base64'));
    const conf = await call<{ recoveryCodes: string[]; csrfToken: string }>(s, 'POST', '/v1/auth/mfa/confirm', { headers: cookie, body: { code: totp(agentSeed, s.clock.now()) } });
    assert.equal(conf.status, 200, JSON.stringify(conf.body));
    for (const c of conf.body.recoveryCodes) { keep('recovery code', c); keep('recovery code (normalised)', c.replace(/-/g, '')); }
    const full = Object.fromEntries(conf.headers.getSetCookie().map((c) => (c.split(';')[0] ?? '').split('=') as [string, string]));
    keep('session cookie', full.cardline_session);
    keep('csrf token', conf.body.csrfToken);
    s.clock.advance(30_000);

    // wrong and right passwords, a recovery-code login, a password change, an admin reset
    const wrong = 'Wr0ng-but-secret-password!';
    keep('wrong password', wrong);
    assert.equal((await call(s, 'POST', '/v1/auth/login', { body: { username: 'scan.agent', password: wrong } })).status, 401);
    const t = await call<{ token: string }>(s, 'POST', '/v1/auth/login', { body: { username: 'scan.agent', password: pw, session: 'token' } });
    keep('pending token', t.body.token);
    const v = await call<{ token: string }>(s, 'POST', '/v1/auth/mfa/verify', { token: t.body.token, body: { recoveryCode: conf.body.recoveryCodes[0] } });
    assert.equal(v.status, 200);
    keep('session token', v.body.token);
    const pw2 = strongPassword();
    keep('password', pw2);
    assert.equal((await call(s, 'POST', '/v1/auth/password', { token: v.body.token, body: { currentPassword: pw, newPassword: pw2 } })).status, 200);
    const pw3 = strongPassword();
    keep('password', pw3);
    assert.equal((await call(s, 'POST', `/v1/users/${made.body.id}/password`, { token: admin, body: { password: pw3 } })).status, 200);
    const weak = 'Password2026!';
    keep('refused password', weak);
    assert.equal((await call(s, 'POST', '/v1/users', { token: admin, body: { username: 'weakling', password: weak, role: 'agent' } })).status, 422);

    // API keys: create, use, rotate
    const k = await call<{ key: string; apiKey: { id: string } }>(s, 'POST', '/v1/api-keys', { token: admin, body: { name: 'scan key' } });
    keep('api key', k.body.key);
    assert.equal((await call(s, 'GET', '/v1/sessions', { token: k.body.key })).status, 200);
    const r = await call<{ key: string }>(s, 'POST', `/v1/api-keys/${k.body.apiKey.id}/rotate`, { token: admin });
    keep('api key', r.body.key);
    keep('api key', s.key);
    assert.equal((await call(s, 'GET', '/v1/sessions', { headers: { 'x-api-key': r.body.key } })).status, 200);
    // a mistyped key and a bogus token are not echoed either
    keep('bogus key', 'cl_this_is_not_a_key_but_is_still_a_secret_value');
    assert.equal((await call(s, 'GET', '/v1/sessions', { token: 'cl_this_is_not_a_key_but_is_still_a_secret_value' })).status, 401);
    await call(s, 'POST', '/v1/auth/logout', { token: admin });
    await s.security?.audit.checkpoint();
    await new Promise((res) => setTimeout(res, 200));

    assert.ok(s.logs.length >= 20, `${s.logs.length} log lines captured`);
    const logText = s.logs.join('');
    const files = readdirSync(s.dir).filter((f) => f.startsWith('cardline.db'));
    assert.ok(files.includes('cardline.db') && files.some((f) => f.endsWith('-wal')), files.join(','));
    const contents = files.map((f) => ({ f, bytes: readFileSync(join(s.dir, f)) }));
    assert.ok(secrets.size >= 25, `${secrets.size} secrets`);
    for (const [value, what] of secrets) {
      assert.ok(!logText.includes(value), `a ${what} is in the logs`);
      for (const { f, bytes } of contents) assert.equal(bytes.indexOf(Buffer.from(value, 'utf8')), -1, `a ${what} is in ${f}`);
    }
    for (const b of binary) for (const { f, bytes } of contents) assert.equal(bytes.indexOf(b), -1, `a raw TOTP seed is in ${f}`);
    // and the audit trail, exported, carries none of them either
    const exported = JSON.stringify(await s.security?.audit.query({ limit: 100_000 }));
    for (const [value, what] of secrets) assert.ok(!exported.includes(value), `a ${what} is in the audit trail`);
  } finally {
    await s.close();
  }
});
