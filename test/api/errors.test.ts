import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { CardlineError } from '../../src/errors/index.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const PAN = '4111111111111111';
const CVV = '737';
let s: TestServer;

before(async () => {
  s = await startTestServer({
    routes: (app) => {
      app.post('/v1/test/echo', {
        config: { permission: 'sessions:write' },
        schema: {
          body: Type.Object({ amountMinor: Type.Integer({ minimum: 0 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }) }, { additionalProperties: false }),
          response: { 200: Type.Object({ amountMinor: Type.Integer(), currency: Type.String() }, { additionalProperties: false }) },
        },
      }, async (request) => ({ ...(request.body as object), leaked: 'x' }));
      app.get('/v1/test/boom', { config: { permission: 'sessions:read' } }, async () => {
        throw new Error('database exploded at row 12');
      });
      app.get('/v1/test/typed', { config: { permission: 'sessions:read' } }, async () => {
        throw new CardlineError('invalid-state', 'cannot submit while capturing');
      });
    },
  });
});
after(async () => { await s.close(); });

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(s.url + path, { ...init, headers: { ...s.auth, ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as { error?: { code: string; message: string } } & Record<string, unknown>, headers: res.headers };
}

const json = { 'content-type': 'application/json' };

test('malformed JSON → 400 invalid-json, and the body (with a PAN in it) is echoed nowhere', async () => {
  const r = await call('/v1/test/echo', { method: 'POST', headers: json, body: `{"pan":"${PAN}","cvv":"${CVV}",` });
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, { error: { code: 'invalid-json', message: 'The request body is not valid JSON' } });
  assert.ok(!s.logs.join('').includes(PAN));
});

test('empty JSON body → 400 invalid-json', async () => {
  const r = await call('/v1/test/echo', { method: 'POST', headers: json, body: '' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error?.code, 'invalid-json');
});

test('schema violations → 400 invalid-request naming the path, never the value', async () => {
  const wrongType = await call('/v1/test/echo', { method: 'POST', headers: json, body: JSON.stringify({ amountMinor: `${PAN}x`, currency: 'GBP' }) });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.json.error?.code, 'invalid-request');
  assert.match(wrongType.json.error?.message ?? '', /body\/amountMinor must be integer/);
  assert.ok(!wrongType.text.includes(PAN));
  const badPattern = await call('/v1/test/echo', { method: 'POST', headers: json, body: JSON.stringify({ amountMinor: 1, currency: PAN }) });
  assert.equal(badPattern.status, 400);
  assert.match(badPattern.json.error?.message ?? '', /body\/currency must match pattern/);
  assert.ok(!badPattern.text.includes(PAN));
  const extra = await call('/v1/test/echo', { method: 'POST', headers: json, body: JSON.stringify({ amountMinor: 1, currency: 'GBP', pan: PAN }) });
  assert.equal(extra.status, 400);
  assert.match(extra.json.error?.message ?? '', /body\/pan must NOT have additional properties/);
  assert.ok(!extra.text.includes(PAN));
  const missing = await call('/v1/test/echo', { method: 'POST', headers: json, body: JSON.stringify({ amountMinor: 1 }) });
  assert.match(missing.json.error?.message ?? '', /body\/currency must have required property/);
  const query = await call('/v1/sessions?limit=0');
  assert.equal(query.status, 400);
  assert.match(query.json.error?.message ?? '', /^The request does not match the schema: querystring\/limit/);
  const badDate = await call('/v1/sessions?from=yesterday');
  assert.equal(badDate.status, 400, 'date-time format is enforced');
});

test('response schemas are an allow-list: undeclared properties are not sent', async () => {
  const r = await call('/v1/test/echo', { method: 'POST', headers: json, body: JSON.stringify({ amountMinor: 250, currency: 'EUR' }) });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { amountMinor: 250, currency: 'EUR' });
});

test('unknown route → 404 not-found (with or without credentials)', async () => {
  const r = await call('/v2/nothing/here');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json, { error: { code: 'not-found', message: 'No such route' } });
  const anon = await fetch(`${s.url}/nope/${PAN}`);
  assert.equal(anon.status, 404);
  assert.equal(((await anon.json()) as { error: { code: string } }).error.code, 'not-found');
  assert.ok(!s.logs.join('').includes(PAN), 'an unmatched path is not logged');
});

test('wrong content type → 415, oversized body → 413', async () => {
  const r = await call('/v1/test/echo', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
  assert.equal(r.status, 415);
  assert.equal(r.json.error?.code, 'unsupported-media-type');
  const big = await call('/v1/test/echo', { method: 'POST', headers: json, body: JSON.stringify({ amountMinor: 1, currency: 'x'.repeat(200_000) }) });
  assert.equal(big.status, 413);
  assert.equal(big.json.error?.code, 'payload-too-large');
});

test('a CardlineError keeps its catalogue status and code', async () => {
  const r = await call('/v1/test/typed');
  assert.equal(r.status, 409);
  assert.deepEqual(r.json, { error: { code: 'invalid-state', message: 'The payment session cannot do that in its current state: cannot submit while capturing' } });
});

test('an unexpected error → 500 internal with a generic message; the detail is in the log only', async () => {
  const r = await call('/v1/test/boom');
  assert.equal(r.status, 500);
  assert.deepEqual(r.json, { error: { code: 'internal', message: 'Internal error' } });
  assert.ok(!r.text.includes('exploded'));
  const line = s.logs.find((l) => l.includes('database exploded at row 12'));
  assert.ok(line, 'detail logged');
  assert.equal(JSON.parse(line).level, 50);
  assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.ok(line.includes(r.headers.get('x-request-id') ?? 'missing'), 'the log line carries the request id');
});

test('request log lines: route pattern, status, no headers, no bodies, no query strings', async () => {
  await call(`/v1/sessions?callId=${PAN}`);
  await call('/v1/test/echo', { method: 'POST', headers: json, body: JSON.stringify({ amountMinor: 7, currency: 'USD' }) });
  const reqLines = s.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  assert.ok(reqLines.length >= 2);
  for (const l of reqLines) {
    assert.deepEqual(Object.keys(l).filter((k) => !['level', 'time', 'pid', 'hostname', 'name', 'reqId', 'msg'].includes(k)).sort(), ['method', 'ms', 'principal', 'route', 'status']);
  }
  const all = s.logs.join('');
  assert.ok(!all.includes(PAN) && !all.includes(s.key) && !all.includes('"currency"'));
});
