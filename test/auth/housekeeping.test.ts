import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { call, createUser, loginToken, startSecureServer } from './helpers.ts';

test('housekeeping drops login sessions a week past expiry and idle, unlocked throttle counters only', async () => {
  const s = await startSecureServer();
  try {
    const sec = s.security;
    assert.ok(sec);
    const u = await createUser(s, 'house.keeper', 'agent', { mfaRequired: false });
    await loginToken(s, u);
    for (let i = 0; i < 5; i++) await call(s, 'POST', '/v1/auth/login', { body: { username: `spray-${i}`, password: 'Autumn2026!!' } });
    for (let i = 0; i < 5; i++) await call(s, 'POST', '/v1/auth/login', { body: { username: 'house.keeper', password: 'wrong one here' } });
    const count = async (t: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(t)}`.execute(sec.db)).rows[0]?.n);
    assert.equal(await count('auth_sessions'), 1);
    assert.equal(await count('auth_throttle'), 7, '5 sprayed names, 1 locked account, 1 address');
    assert.deepEqual(await sec.auth.purge(), { sessions: 0, throttle: 0 }, 'nothing is old yet');
    s.clock.advance(31 * 60_000);
    assert.deepEqual(await sec.auth.purge(), { sessions: 0, throttle: 7 });
    s.clock.advance(8 * 24 * 3600_000);
    assert.deepEqual(await sec.auth.purge(), { sessions: 1, throttle: 0 });
  } finally {
    await s.close();
  }
});
