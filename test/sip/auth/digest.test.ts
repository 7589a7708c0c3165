import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DigestClient, DigestServer, digestResponse, StaticCredentialStore } from '../../../src/sip/auth/index.ts';
import { createResponse, parseAuthHeader, serializeAuthHeader } from '../../../src/sip/messages/index.ts';
import { testRequest } from '../support/messages.ts';

describe('digest computation (known answers)', () => {
  it('RFC 2617 §3.5 (MD5, qop=auth)', () => {
    assert.equal(digestResponse({
      algorithm: 'MD5', username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET',
      uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
    }), '6629fae49393a05397450978507c4ef1');
  });

  it('RFC 7616 §3.9.1 (SHA-256 and MD5)', () => {
    const base = {
      username: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', qop: 'auth' as const, nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    assert.equal(digestResponse({ ...base, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    assert.equal(digestResponse({ ...base, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
  });
});

describe('DigestClient against DigestServer', () => {
  const server = new DigestServer({ realm: 'carrier.example', password: (u) => (u === 'trunk1' ? 's3cret' : undefined) });
  const store = new StaticCredentialStore([
    { realm: 'other.example', username: 'nobody', password: 'x' },
    { realm: 'carrier.example', host: '127.0.0.1', username: 'trunk1', password: 's3cret' },
  ]);

  function challenge(status: 401 | 407, algorithms = server.challenges()) {
    const req = testRequest({ method: 'INVITE', uri: 'sip:+15551230000@127.0.0.1:5080' });
    const res = createResponse(req, status, { headers: algorithms.map((c) => [status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate', c]) });
    return { req, res };
  }

  it('answers a 401 with SHA-256 (strongest offered), qop=auth, nc and cnonce; the server accepts it once', () => {
    const { req, res } = challenge(401);
    const client = new DigestClient(store);
    const auth = client.authorize(req, res)!;
    assert.equal(auth.length, 1);
    assert.equal(auth[0]!.name, 'Authorization');
    const p = auth[0]!.value.params;
    assert.equal(p.get('algorithm'), 'SHA-256');
    assert.equal(p.get('qop'), 'auth');
    assert.equal(p.get('nc'), '00000001');
    assert.equal(p.get('uri'), 'sip:+15551230000@127.0.0.1:5080');
    const wire = serializeAuthHeader(auth[0]!.value, 'credentials');
    assert.match(wire, /^Digest username="trunk1", realm="carrier\.example", nonce="[^"]+", uri="sip:\+15551230000@127\.0\.0\.1:5080", response="[0-9a-f]{64}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="[0-9a-f]+"$/);
    const parsed = parseAuthHeader(wire, 'Authorization');
    assert.deepEqual(server.verify(req, parsed), { ok: true, username: 'trunk1' });
    assert.deepEqual(server.verify(req, parsed), { ok: false, stale: false }, 'replayed nc refused');
    const again = client.authorize(req, res)!;
    assert.equal(again[0]!.value.params.get('nc'), '00000002');
    assert.deepEqual(server.verify(req, again[0]!.value), { ok: true, username: 'trunk1' });
  });

  it('answers a 407 with Proxy-Authorization; MD5 when that is all that is offered', () => {
    const md5 = new DigestServer({ realm: 'carrier.example', password: () => 's3cret', algorithms: ['MD5'] });
    const { req, res } = challenge(407, md5.challenges());
    const auth = new DigestClient(store).authorize(req, res)!;
    assert.equal(auth[0]!.name, 'Proxy-Authorization');
    assert.equal(auth[0]!.value.params.get('algorithm'), 'MD5');
    assert.equal(md5.verify(req, auth[0]!.value).ok, true);
  });

  it('wrong password, tampered fields, foreign nonce, stale nonce: refused', () => {
    const { req, res } = challenge(401);
    const bad = new DigestClient(new StaticCredentialStore([{ username: 'trunk1', password: 'wrong' }])).authorize(req, res)!;
    assert.equal(server.verify(req, bad[0]!.value).ok, false);
    const good = new DigestClient(store).authorize(req, res)![0]!.value;
    const tampered = { scheme: 'Digest', params: new Map(good.params).set('uri', 'sip:evil@127.0.0.1') };
    assert.equal(server.verify(req, tampered).ok, false);
    const elsewhere = testRequest({ method: 'INVITE', uri: 'sip:+15559999999@127.0.0.1:5080' });
    assert.equal(server.verify(elsewhere, good).ok, false, 'credentials computed for another Request-URI');
    const other = new DigestServer({ realm: 'carrier.example', password: () => 's3cret' });
    assert.equal(other.verify(req, good).ok, false, 'nonce from another secret');
    let now = 1_000_000;
    const timed = new DigestServer({ realm: 'carrier.example', password: () => 's3cret', now: () => now, nonceTtlMs: 1000 });
    const t = challenge(401, timed.challenges());
    const creds = new DigestClient(store).authorize(t.req, t.res)![0]!.value;
    now += 5000;
    assert.deepEqual(timed.verify(t.req, creds), { ok: false, stale: true });
  });

  it('no credentials, unknown algorithm or scheme: nothing to answer', () => {
    const { req, res } = challenge(401, ['Digest realm="unknown.example", nonce="n", algorithm=MD5']);
    assert.equal(new DigestClient(store).authorize(req, res), undefined);
    const r2 = challenge(401, ['Digest realm="carrier.example", nonce="n", algorithm=SHA-1']).res;
    assert.equal(new DigestClient(store).authorize(req, r2), undefined);
    const r3 = challenge(401, ['Basic realm="carrier.example"']).res;
    assert.equal(new DigestClient(store).authorize(req, r3), undefined);
  });
});
