import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { CLIENT_ROUTES, routeUrl, type RouteSpec } from '../../web/src/api-routes.ts';
import { CallRegistry, registerCallRoutes } from '../../src/gateway/index.ts';
import { startSecureServer, type SecureServer } from '../auth/helpers.ts';

/**
 * The console's API client against the server's own OpenAPI document: every (method, path) in `CLIENT_ROUTES`
 * exists in `/openapi.json` with the same path parameters, and every query name the client sends is a declared
 * query parameter of that operation. The client's source sends nothing except through the table.
 */
interface Param { name: string; in: string }
type OpenApi = { paths: Record<string, Record<string, { parameters?: Param[] }>> };

/** What is wrong with one table entry against the document (empty: nothing). */
function mismatches(doc: OpenApi, name: string, r: RouteSpec): string[] {
  const op = doc.paths[r.path]?.[r.method.toLowerCase()];
  if (op === undefined) return [`${name}: ${r.method} ${r.path} is not in the OpenAPI document`];
  const params = op.parameters ?? [];
  const out: string[] = [];
  const pathNames = [...r.path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]).sort();
  const docPath = params.filter((p) => p.in === 'path').map((p) => p.name).sort();
  if (JSON.stringify(pathNames) !== JSON.stringify(docPath)) out.push(`${name}: path parameters ${pathNames.join(',')} vs documented ${docPath.join(',')}`);
  const docQuery = new Set(params.filter((p) => p.in === 'query').map((p) => p.name));
  for (const q of r.query ?? []) if (!docQuery.has(q)) out.push(`${name}: query parameter ${q} is not documented for ${r.method} ${r.path}`);
  return out;
}

describe('API client ↔ OpenAPI document', { timeout: 60_000 }, () => {
  let s: SecureServer;
  let doc: OpenApi;

  before(async () => {
    // the calls routes exist when the media gateway runs: registered here over an empty registry
    s = await startSecureServer({ settings: true, build: { console: true }, routes: (app) => registerCallRoutes(app, new CallRegistry()) });
    const r = await fetch(`${s.url}/openapi.json`);
    assert.equal(r.status, 200);
    doc = await r.json() as OpenApi;
  });
  after(async () => { await s?.close(); });

  test('every route the client calls exists with the same path and query parameters', () => {
    const problems = Object.entries(CLIENT_ROUTES).flatMap(([name, r]) => mismatches(doc, name, r));
    assert.deepEqual(problems, []);
    assert.ok(Object.keys(CLIENT_ROUTES).length >= 30);
  });

  test('the check fails for a route, a method, a path parameter or a query name the server does not have', () => {
    assert.equal(mismatches(doc, 'x', { method: 'GET', path: '/v1/nowhere' }).length, 1);
    assert.equal(mismatches(doc, 'x', { method: 'DELETE', path: '/v1/users' }).length, 1);
    assert.equal(mismatches(doc, 'x', { method: 'GET', path: '/v1/users/{userId}' }).length, 1);
    assert.equal(mismatches(doc, 'x', { method: 'GET', path: '/v1/sessions', query: ['limit', 'colour'] }).length, 1);
  });

  test('the client reaches the API only through the table (no hand-built /v1 URL anywhere else in web/src)', () => {
    const src = readFileSync(new URL('../../web/src/api-client.ts', import.meta.url), 'utf8');
    assert.ok(src.includes("from './api-routes.ts'"));
    assert.equal(src.match(/fetch\(/g)?.length, 1, 'one fetch call, in #request');
    const dir = new URL('../../web/src/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'api-routes.ts');
    assert.ok(files.length >= 6);
    for (const file of files) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      assert.ok(!/['`"]\/v1\//.test(text), `${file} builds a /v1 URL outside CLIENT_ROUTES`);
      if (file !== 'api-client.ts') assert.ok(!/fetch\(|new WebSocket\(/.test(text), `${file} calls the API directly`);
    }
  });

  test('routeUrl encodes path parameters and refuses undeclared query names', () => {
    assert.equal(routeUrl('setConnector', { merchantId: '*' }), '/v1/settings/connectors/*');
    assert.equal(routeUrl('updateUser', { id: 'a/b' }), '/v1/users/a%2Fb');
    assert.equal(routeUrl('auditEvents', {}, { action: 'auth.', outcome: '', limit: 5 }), '/v1/audit/events?action=auth.&limit=5');
    assert.throws(() => routeUrl('listUsers', {}, { role: 'agent' }), /not declared/);
    assert.throws(() => routeUrl('submit'), /missing/);
  });
});
