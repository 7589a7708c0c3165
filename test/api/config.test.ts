// Tests for src/config (kept under test/api: config is part of the API engineer's scope and has no test dir of its own)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  API_KEY_HASH_FILE, CALLBACK_SECRET_FILE, defaultConfig, ensureApiKey, ensureCallbackSecret, hashApiKey, loadConfig,
} from '../../src/config/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import { tempDir } from '../store/helpers/fixtures.ts';

const code = (f: () => unknown) => { try { f(); return 'ok'; } catch (e) { return isCardlineError(e) ? `${e.code}: ${e.message}` : `other: ${String(e)}`; } };

test('defaults: loopback, 8080, ./.data, no keys yet', () => {
  const c = loadConfig({ env: {}, cwd: '/srv/app' });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.dataDir, '/srv/app/.data');
  assert.deepEqual(c.apiKeySha256, []);
  assert.equal(c.callbacks.secret, null);
  assert.equal(c.callbacks.allowHttp, false);
  assert.deepEqual(c, defaultConfig('/srv/app'));
});

test('precedence: defaults < JSON file < environment < overrides; nested objects merge', () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'cardline.json');
    writeFileSync(file, JSON.stringify({ host: '0.0.0.0', port: 9000, dataDir: 'data', events: { heartbeatMs: 5000 }, callbacks: { maxAttempts: 3 } }));
    const c = loadConfig({ env: { CARDLINE_PORT: '9100', CARDLINE_API_KEY: 'k1', CARDLINE_API_KEY_SHA256: `${'a'.repeat(64)}, ${'B'.repeat(64)}`, CARDLINE_CALLBACK_ALLOW_HTTP: 'true' }, file, cwd: t.dir, overrides: { port: 0 } });
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.port, 0);
    assert.equal(c.dataDir, join(t.dir, 'data'));
    assert.equal(c.events.heartbeatMs, 5000);
    assert.equal(c.events.bufferSize, 64, 'nested defaults kept');
    assert.equal(c.callbacks.maxAttempts, 3);
    assert.equal(c.callbacks.allowHttp, true);
    assert.deepEqual(c.apiKeySha256, ['a'.repeat(64), 'b'.repeat(64), hashApiKey('k1')]);
    assert.ok(!JSON.stringify(c).includes('"k1"'), 'the plain key is not kept');
    const viaEnvFile = loadConfig({ env: { CARDLINE_CONFIG: 'cardline.json', CARDLINE_DATA_DIR: '/var/lib/cardline' }, cwd: t.dir });
    assert.equal(viaEnvFile.port, 9000);
    assert.equal(viaEnvFile.dataDir, '/var/lib/cardline');
  } finally { t.cleanup(); }
});

test('invalid configuration → invalid-config naming the path, never the secret value', () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ callbacks: { secret: 'short-secret' } }));
    const msg = code(() => loadConfig({ env: {}, file, cwd: t.dir }));
    assert.match(msg, /^invalid-config: The configuration is not valid: \/callbacks\/secret/);
    assert.ok(!msg.includes('short-secret'));
    writeFileSync(file, '{"apiKey": "cl_secret_in_broken_json",');
    const broken = code(() => loadConfig({ env: {}, file, cwd: t.dir }));
    assert.match(broken, /^invalid-config: .*not valid JSON/);
    assert.ok(!broken.includes('cl_secret'));
    assert.match(code(() => loadConfig({ env: { CARDLINE_PORT: 'eighty' } })), /^invalid-config: The configuration is not valid: CARDLINE_PORT/);
    assert.match(code(() => loadConfig({ env: { CARDLINE_PORT: '70000' } })), /^invalid-config: The configuration is not valid: \/port/);
    assert.match(code(() => loadConfig({ env: { CARDLINE_API_KEY_SHA256: 'xyz' } })), /^invalid-config: The configuration is not valid: \/apiKeySha256/);
    writeFileSync(file, JSON.stringify({ connectors: { default: { type: 'paypal' } } }));
    assert.match(code(() => loadConfig({ env: {}, file, cwd: t.dir })), /^invalid-config: The configuration is not valid: \/connectors/);
    writeFileSync(file, JSON.stringify({ connectors: { merchants: { acme: { type: 'webhook', url: 'https://pay.acme.example/x', secret: 's' } } } }));
    assert.equal(loadConfig({ env: {}, file, cwd: t.dir }).connectors?.merchants?.acme?.type, 'webhook');
    writeFileSync(file, JSON.stringify({ unknownKey: 1 }));
    assert.match(code(() => loadConfig({ env: {}, file, cwd: t.dir })), /^invalid-config/);
    assert.match(code(() => loadConfig({ env: {}, file: join(t.dir, 'missing.json'), cwd: t.dir })), /^invalid-config: The configuration is not valid: cannot read/);
  } finally { t.cleanup(); }
});

test('first start: an API key is generated once, only its hash is stored (0600), later starts reuse it', () => {
  const t = tempDir();
  try {
    const dir = join(t.dir, 'data');
    const first = ensureApiKey(dir, []);
    assert.equal(first.source, 'generated');
    assert.match(first.generatedKey ?? '', /^cl_[A-Za-z0-9_-]{43}$/);
    const stored = readFileSync(join(dir, API_KEY_HASH_FILE), 'utf8');
    assert.equal(stored.trim(), hashApiKey(first.generatedKey ?? ''));
    assert.ok(!stored.includes(first.generatedKey ?? 'x'));
    assert.equal(statSync(join(dir, API_KEY_HASH_FILE)).mode & 0o777, 0o600);
    const second = ensureApiKey(dir, []);
    assert.deepEqual(second, { hashes: first.hashes, generatedKey: null, source: 'data-dir' });
    assert.deepEqual(ensureApiKey(dir, ['c'.repeat(64)]), { hashes: ['c'.repeat(64)], generatedKey: null, source: 'config' });
    writeFileSync(join(dir, API_KEY_HASH_FILE), 'not-a-hash\n');
    assert.match(code(() => ensureApiKey(dir, [])), /^invalid-config/);
  } finally { t.cleanup(); }
});

test('first start: a callback signing secret is generated once (0600) unless configured', () => {
  const t = tempDir();
  try {
    const a = ensureCallbackSecret(t.dir, null);
    assert.equal(a.generated, true);
    assert.ok(a.secret.length >= 32);
    assert.equal(statSync(join(t.dir, CALLBACK_SECRET_FILE)).mode & 0o777, 0o600);
    assert.deepEqual(ensureCallbackSecret(t.dir, null), { secret: a.secret, generated: false });
    assert.deepEqual(ensureCallbackSecret(t.dir, 'configured-secret-0123'), { secret: 'configured-secret-0123', generated: false });
  } finally { t.cleanup(); }
});
