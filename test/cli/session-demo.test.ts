import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SANDBOX_TEST_CARDS } from '../../src/connectors/index.ts';

const bin = fileURLToPath(new URL('../../bin/cardline.js', import.meta.url));

function runDemo(args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'session', 'demo', '--json', ...args], { encoding: 'utf8', timeout: 60_000 });
  const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; session: { state: string; last4: string | null; brand: string | null } });
  return { ...r, events };
}

/** Every digit run of the card and the security code the demo types must be absent from everything it prints. */
function assertNoCardData(text: string, pan: string, cvv: string) {
  assert.ok(!text.includes(pan), 'full PAN printed');
  assert.ok(!text.includes(pan.slice(0, 12)), 'PAN beyond last four printed');
  assert.ok(!new RegExp(`(^|[^0-9])${cvv}([^0-9]|$)`).test(text.replace(/ps_[0-9a-f]+|ch_sandbox_[0-9a-f]+|tok_[0-9a-z_]+|demo-call-[0-9]+|127\.0\.0\.1:[0-9]+/g, '')), 'security code printed');
}

test('session demo: keypad audio → masker → API → sandbox charge succeeds, masked events only', () => {
  const r = runDemo([]);
  assert.equal(r.status, 0, r.stderr);
  const types = r.events.map((e) => e.type);
  assert.ok(types.includes('field.completed'));
  assert.equal(types.at(-1), 'session.succeeded');
  const last = r.events.at(-1)!;
  assert.equal(last.session.last4, '1111');
  assert.equal(last.session.brand, 'visa');
  assert.match(r.stdout, /24 key presses masked/);
  assertNoCardData(r.stdout + r.stderr, SANDBOX_TEST_CARDS.visa, '123');
});

test('session demo: a declined card ends failed with a stable code, exit 0', () => {
  const r = runDemo(['--card', 'declined']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.events.at(-1)?.session.state, 'failed');
  assert.match(r.stdout, /error card-declined/);
  assertNoCardData(r.stdout + r.stderr, SANDBOX_TEST_CARDS.declined, '123');
});

test('session demo: bad flags are usage errors (exit 2)', () => {
  const r = spawnSync(process.execPath, [bin, 'session', 'demo', '--card', 'nope'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /\[usage\]/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
