import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSecureServer, type SecureServer } from '../auth/helpers.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { startCardline } from '../../src/server/index.ts';
import { tempDir } from '../store/helpers/fixtures.ts';

const run = promisify(execFile);

describe('console assets served by the Cardline server', () => {
  let s: SecureServer;
  before(async () => { s = await startSecureServer({ build: { console: true } }); });
  after(async () => { await s.close(); });

  test('GET /console/ is the page with a strict CSP; app.js is the bundle; both revalidate by ETag', async () => {
    const page = await fetch(`${s.url}/console/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /<cardline-agent-panel>/);
    assert.match(html, /<script type="module" src="\.\/app\.js"><\/script>/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');

    const js = await fetch(`${s.url}/console/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    const body = await js.text();
    assert.ok(body.includes('cardline-agent-panel'), 'the bundle defines the element');
    assert.ok(body.length > 10_000 && body.length < 300_000, `bundle size ${body.length}`);
    const tag = js.headers.get('etag');
    assert.ok(tag !== null);
    const again = await fetch(`${s.url}/console/app.js`, { headers: { 'if-none-match': tag } });
    assert.equal(again.status, 304);
  });

  test('console routes are public (the page holds no data) and documented as HTML and JavaScript', async () => {
    const doc = await (await fetch(`${s.url}/openapi.json`)).json() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
    assert.ok(doc.paths['/console/']?.get?.responses['200']?.content?.['text/html']);
    assert.ok(doc.paths['/console/app.js']?.get?.responses['200']?.content?.['text/javascript']);
    assert.ok(doc.paths['/console/embed']?.get?.responses['200']?.content?.['text/html']);
    const pub = s.app.cardline.routes.filter((r) => r.url.startsWith('/console'));
    assert.equal(pub.length, 3);
    assert.ok(pub.every((r) => r.permission === 'public'));
  });

  test('the API paths the browser client calls exist in the OpenAPI document with those methods', async () => {
    const doc = await (await fetch(`${s.url}/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    // kept in step with web/src/api-client.ts
    const used: [string, string][] = [
      ['post', '/v1/auth/login'], ['post', '/v1/auth/mfa/verify'], ['get', '/v1/auth/me'], ['post', '/v1/auth/logout'],
      ['post', '/v1/sessions'], ['post', '/v1/sessions/{id}/capture'], ['post', '/v1/sessions/{id}/submit'],
      ['post', '/v1/sessions/{id}/cancel'], ['get', '/v1/sessions/{id}/events'],
      ['get', '/v1/sessions'], ['get', '/v1/audit/events'], ['get', '/v1/audit/verify'], ['get', '/v1/audit/export'],
    ];
    for (const [method, path] of used) assert.ok(doc.paths[path]?.[method] !== undefined, `${method} ${path}`);
  });

  test('the front-end sources type-check (strict, DOM lib) — the root tsconfig does not cover web/', async () => {
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'web/tsconfig.json'], { timeout: 60_000 });
  });
});

test('the composition root (npm start) serves the console; API-only servers do not', async () => {
  const dir = tempDir();
  const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: 0, dataDir: dir.dir } });
  const running = await startCardline({ config, logger: createLogger({ level: 'silent' }) });
  try {
    const page = await fetch(`${running.url}/console/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<cardline-agent-panel>/);
  } finally {
    await running.close();
    dir.cleanup();
  }
  const plain = await startSecureServer();
  try {
    assert.equal((await fetch(`${plain.url}/console/`)).status, 404);
  } finally {
    await plain.close();
  }
});
