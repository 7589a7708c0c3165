import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.ts';

test('cardline --help exits 0 and lists commands', async () => {
  let out = '';
  const code = await main(['node', 'cardline', '--help'], { stdout: (s) => { out += s; }, stderr: () => {} });
  assert.equal(code, 0);
  assert.match(out, /Usage: cardline/);
});

test('unknown command is a usage error (exit 2)', async () => {
  let err = '';
  const code = await main(['node', 'cardline', 'nope'], { stdout: () => {}, stderr: (s) => { err += s; } });
  assert.equal(code, 2);
  assert.match(err, /unknown command/);
});
