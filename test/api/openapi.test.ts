import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestServer, type TestServer } from './helpers/server.ts';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
  'x-cardline-permission'?: string;
  parameters?: { in: string; name: string }[];
}
interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  security: unknown[];
}

let s: TestServer;
let doc: Doc;
before(async () => {
  s = await startTestServer({ payments: true });
  const res = await fetch(`${s.url}/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  doc = await res.json() as Doc;
});
after(async () => { await s.close(); });

test('the document validates against the OpenAPI 3.0 JSON Schema', async () => {
  const v = new Validator();
  const result = await v.validate(doc as unknown as Record<string, unknown>);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
  assert.equal(doc.openapi, '3.0.3');
  assert.equal(doc.info.title, 'Cardline API');
});

test('every registered route except the document itself is present, with its permission', () => {
  const toOpenApi = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');
  for (const r of s.app.cardline.routes) {
    if (r.url === '/openapi.json') continue;
    const op = doc.paths[toOpenApi(r.url)]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.url} missing from /openapi.json`);
    assert.equal(op['x-cardline-permission'], r.permission);
    if (r.permission === 'public') assert.deepEqual(op.security, [], `${r.url} is public`);
    else assert.equal(op.security, undefined, `${r.url} inherits the document's API-key security`);
  }
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  assert.equal(documented.length, s.app.cardline.routes.length - 1);
});

test('every operation documents a success schema and the shared error body; every $ref resolves', () => {
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const ok = Object.entries(op.responses).find(([code]) => /^2\d\d$/.test(code));
      assert.ok(ok, `${method} ${path} has a 2xx response`);
      assert.ok(Object.values(ok[1].content ?? {}).some((c) => c.schema !== undefined), `${method} ${path} 2xx has a schema`);
      for (const code of ['4XX', '5XX']) {
        assert.deepEqual(op.responses[code]?.content?.['application/json']?.schema, { $ref: '#/components/schemas/ErrorBody' }, `${method} ${path} ${code}`);
      }
    }
  }
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  assert.ok(refs.length > 0);
  for (const r of refs) {
    const name = /#\/components\/schemas\/([^"]+)"/.exec(r)?.[1];
    assert.ok(name !== undefined && doc.components.schemas[name] !== undefined, `unresolved ${r}`);
  }
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKeyHeader', 'bearerAuth', 'sessionCookie']);
  assert.ok(doc.components.schemas.SessionEvent, 'the event shape pushed over WebSocket/SSE/callbacks is documented');
});

test('no response or pushed-event schema has a place for card data', () => {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (typeof v !== 'object' || v === null) return;
    for (const [k, child] of Object.entries(v)) {
      if (k === 'properties' && typeof child === 'object' && child !== null) for (const p of Object.keys(child)) names.add(p);
      walk(child);
    }
  };
  // responses and shared components only: the digits endpoint necessarily *accepts* keypad digits
  for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) walk(op.responses);
  walk(doc.components.schemas);
  assert.ok(names.has('last4') && names.has('digitCount'), 'the walk reaches the session schema');
  for (const n of names) assert.doesNotMatch(n, /^(pan|cardNumber|card_number|cvv|cvc|securityCode|expiry|digits?)$/i, n);
});
