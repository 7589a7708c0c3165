import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertPasswordPolicy, commonPasswords, hashPassword, needsRehash, passwordProblems, verifyPassword, MIN_PASSWORD_LENGTH,
} from '../../src/auth/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';

const FAST = { ln: 10, r: 8, p: 1 };

test('scrypt hash: PHC-style string with its parameters, random salt, verify, rehash on parameter change', async () => {
  const h = await hashPassword('correct horse battery staple', FAST);
  assert.match(h, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(h, await hashPassword('correct horse battery staple', FAST), 'salted');
  assert.equal(await verifyPassword('correct horse battery staple', h), true);
  assert.equal(await verifyPassword('correct horse battery stapl', h), false);
  assert.equal(await verifyPassword('Correct horse battery staple', h), false);
  assert.equal(needsRehash(h, FAST), false);
  assert.equal(needsRehash(h, { ln: 17, r: 8, p: 1 }), true);
  // NFKC: the same password typed with a compatibility form verifies
  assert.equal(await verifyPassword('ﬁsh and chips forever', await hashPassword('fish and chips forever', FAST)), true);
  await assert.rejects(verifyPassword('x', '$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43)), (e) => isCardlineError(e));
  await assert.rejects(verifyPassword('x', 'plaintext'), (e) => isCardlineError(e));
});

test('default cost is OWASP\'s scrypt recommendation (N=2^17, r=8, p=1)', async () => {
  const t0 = performance.now();
  const h = await hashPassword('a sufficiently long passphrase');
  const ms = performance.now() - t0;
  assert.match(h, /^\$scrypt\$ln=17,r=8,p=1\$/);
  assert.ok(ms > 50, `hashing took ${ms.toFixed(0)} ms: suspiciously cheap`);
});

test('policy: length 12-128, deny list incl. decorated and leetspeak variants, username/email, repetition', () => {
  assert.ok(commonPasswords().size >= 3000, `deny list has ${commonPasswords().size} entries`);
  const refused: [string, string][] = [
    ['short1!A', 'too-short'],
    ['x'.repeat(129), 'too-long'],
    ['password1234', 'common'],
    ['P@ssw0rd2024!', 'common'],
    ['Liverpool2024', 'common'],
    ['qwertyuiop123', 'common'],
    ['iloveyou1234!', 'common'],
    ['dragondragon', 'common'],
    ['Sunshine12345', 'common'],
    ['correct horse battery staple', 'common'],
    ['aaaaaaaaaaaaaaaa', 'repetitive'],
    ['abcabcabcabcabc', 'repetitive'],
    ['abcdefghijklmn', 'repetitive'],
    ['1212121212121', 'repetitive'],
  ];
  for (const [pw, reason] of refused) assert.ok(passwordProblems(pw).includes(reason as never), `${pw}: ${passwordProblems(pw).join(',')}`);
  assert.ok(passwordProblems('alice-in-chains-77', { username: 'alice' }).includes('contains-username'));
  assert.ok(passwordProblems('my j.smith key 2026!', { email: 'j.smith@example.com' }).includes('contains-username'));
  assert.ok(passwordProblems('Henderson plays chess', { displayName: 'Sam Henderson' }).includes('contains-username'));
  for (const ok of ['violet harbour tractor psalm', 'Vq7!tT2pLx9#mZ', 'zebra-lantern-orbit-57', 'ünïcødé pässwörd ok']) {
    assert.deepEqual(passwordProblems(ok, { username: 'alice' }), [], ok);
  }
  assert.equal([...'x'.repeat(MIN_PASSWORD_LENGTH)].length, 12);
});

test('a refusal names the reasons, never the password', () => {
  try {
    assertPasswordPolicy('P@ssw0rd2024!');
    assert.fail('accepted');
  } catch (e) {
    assert.ok(isCardlineError(e));
    assert.equal(e.code, 'weak-password');
    assert.equal(e.status, 422);
    assert.ok(!e.message.includes('P@ssw0rd2024!'));
    assert.match(e.message, /common/);
  }
});
