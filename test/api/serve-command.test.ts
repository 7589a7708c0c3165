// `cardline serve` as a real process (kept under test/api: the command is the API's entry point)
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../store/helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/cardline.js', import.meta.url));

interface Run { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> }

/** Every started server, killed after each test: a failed assertion must not leave one running (the file would hang). */
const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function serve(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CARDLINE_LOG_LEVEL: 'info', ...env } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
  started.push(child);
  const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { child, out: () => out, err: () => err, exit };
}

async function until(f: () => boolean, what: string, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('cardline serve: first start prints the URL and a one-time key; it works; SIGTERM stops it cleanly; the next start reuses the key', async () => {
  const t = tempDir('cardline-serve-');
  try {
    const dataDir = join(t.dir, 'data');
    const a = serve(['--port', '0', '--data-dir', dataDir]);
    await until(() => /generated API key/.test(a.out()), 'startup output');
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(a.out())?.[1];
    const key = /shown once, store it now\): (cl_\S+)/.exec(a.out())?.[1];
    assert.ok(url && key, a.out());
    assert.match(a.out(), new RegExp(`data in ${join(dataDir, 'cardline.db').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.equal((await fetch(`${url}/health`)).status, 200);
    assert.equal((await fetch(`${url}/v1/sessions`)).status, 401);
    assert.equal((await fetch(`${url}/v1/sessions`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
    // the payment-session service is wired: a session is created, and left open when the server stops
    const created = await fetch(`${url}/v1/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ callId: 'call-1', merchantId: 'acme', intent: 'tokenize', startCapture: true }),
    });
    assert.equal(created.status, 201);
    const sessionId = ((await created.json()) as { id: string }).id;
    a.child.kill('SIGTERM');
    assert.equal(await a.exit, 0);
    assert.match(a.out(), /SIGTERM, shutting down\ncardline: stopped\n$/);
    assert.ok(!a.err().includes(key), 'the key is never logged');
    // only a hash of the key is kept: no file in the data dir (database, WAL, secrets) holds the key itself
    for (const f of readdirSync(dataDir)) assert.ok(!readFileSync(join(dataDir, f)).toString('latin1').includes(key), f);
    assert.equal(statSync(join(dataDir, 'callback-secret')).mode & 0o777, 0o600);

    const b = serve(['--port', '0'], { CARDLINE_DATA_DIR: dataDir });
    await until(() => /listening on/.test(b.out()), 'second startup');
    assert.doesNotMatch(b.out(), /generated API key/);
    const url2 = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(b.out())?.[1];
    assert.equal((await fetch(`${url2}/v1/sessions`, { headers: { 'x-api-key': key } })).status, 200, 'same key after restart');
    // the open session was expired at shutdown (its card data died with the process) and is read from SQLite
    const after = await fetch(`${url2}/v1/sessions/${sessionId}`, { headers: { 'x-api-key': key } });
    assert.equal(after.status, 200);
    assert.equal(((await after.json()) as { state: string }).state, 'expired');
    b.child.kill('SIGINT');
    assert.equal(await b.exit, 0);
  } finally { t.cleanup(); }
});

test('cardline serve: a bad port is a usage error (exit 2); an invalid config is a runtime error (exit 1) with one line', async () => {
  const bad = serve(['--port', 'http']);
  assert.equal(await bad.exit, 2);
  assert.match(bad.err(), /--port must be 0-65535/);
  const t = tempDir('cardline-serve-');
  try {
    const cfg = serve(['--port', '0', '--data-dir', t.dir], { CARDLINE_LOG_LEVEL: 'loud' });
    assert.equal(await cfg.exit, 1);
    assert.match(cfg.err(), /^cardline: error \[invalid-config\]: .*\/logLevel/m);
  } finally { t.cleanup(); }
});
