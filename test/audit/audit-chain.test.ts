import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import {
  AuditLog, checkpointMac, exportAudit, GENESIS_HASH, readAnchor, recordHash, verifyAuditTrail, type AuditEventsTable,
} from '../../src/audit/index.ts';
import { openSecurityDb } from '../../src/auth/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import { appendMany, auditFixture, type AuditFixture } from './helpers.ts';

const verify = (f: AuditFixture) => verifyAuditTrail({ db: f.db, key: f.key, anchorPath: f.anchorPath });

/** Recomputes every hash from `fromSeq` on, as an attacker without the audit key would after an edit. */
async function rechain(f: AuditFixture, fromSeq: number): Promise<void> {
  const rows = await f.db.selectFrom('audit_events').selectAll().orderBy('seq', 'asc').execute();
  let prev = GENESIS_HASH;
  for (const r of rows) {
    if (Number(r.seq) >= fromSeq) {
      const fixed: AuditEventsTable = { ...r, seq: Number(r.seq), prev_hash: prev, hash: '' };
      fixed.hash = recordHash(fixed);
      await f.db.updateTable('audit_events').set({ prev_hash: fixed.prev_hash, hash: fixed.hash }).where('seq', '=', r.seq).execute();
      prev = fixed.hash;
    } else {
      prev = r.hash;
    }
  }
}

test('an untouched trail verifies: chained records, checkpoints every N, anchor file', async () => {
  const f = await auditFixture({ every: 10 });
  try {
    await appendMany(f, 25);
    const r = await verify(f);
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.equal(r.records, 25);
    assert.equal(r.checkpoints, 2);
    assert.equal(r.unsealed, 5);
    const rows = await f.db.selectFrom('audit_events').selectAll().orderBy('seq', 'asc').execute();
    assert.equal(rows[0]?.prev_hash, GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]?.prev_hash, rows[i - 1]?.hash);
    assert.deepEqual(readAnchor(f.anchorPath), { seq: 2, recordSeq: 20, headHash: rows[19]?.hash, mac: (await f.db.selectFrom('audit_checkpoints').select('mac').where('seq', '=', 2).executeTakeFirstOrThrow()).mac });
    await f.log.close();
    const sealed = await verify(f);
    assert.equal(sealed.unsealed, 0, 'close seals the tail');
    assert.equal(sealed.checkpoints, 3);
  } finally { await f.close(); }
});

test('tampering is detected and the first broken record named: edit, delete, insert, reorder', async () => {
  const cases: [string, (f: AuditFixture) => Promise<void>, RegExp, number][] = [
    ['edit', async (f) => { await f.db.updateTable('audit_events').set({ outcome: 'failure', detail_json: '{"i":600}' }).where('seq', '=', 7).execute(); }, /edited/, 7],
    ['edit + rehash the record', async (f) => {
      const r = await f.db.selectFrom('audit_events').selectAll().where('seq', '=', 7).executeTakeFirstOrThrow();
      const forged = { ...r, seq: 7, actor_id: 'usr_innocent' };
      await f.db.updateTable('audit_events').set({ actor_id: 'usr_innocent', hash: recordHash(forged) }).where('seq', '=', 7).execute();
    }, /link to record 7 is broken/, 8],
    ['delete', async (f) => { await f.db.deleteFrom('audit_events').where('seq', '=', 12).execute(); }, /record 12 is missing/, 12],
    ['insert', async (f) => {
      // make room at 5 by shifting everything after it up by one, then insert a forged record 5
      const rows = await f.db.selectFrom('audit_events').selectAll().where('seq', '>=', 5).orderBy('seq', 'desc').execute();
      for (const r of rows) await f.db.updateTable('audit_events').set({ seq: Number(r.seq) + 1 }).where('seq', '=', r.seq).execute();
      const prev = await f.db.selectFrom('audit_events').selectAll().where('seq', '=', 4).executeTakeFirstOrThrow();
      const forged: AuditEventsTable = { ...prev, seq: 5, action: 'test.forged', prev_hash: prev.hash, hash: '' };
      forged.hash = recordHash(forged);
      await f.db.insertInto('audit_events').values(forged).execute();
    }, /record 6: .*edited|link to record 5/, 6],
    ['reorder', async (f) => {
      const a = await f.db.selectFrom('audit_events').selectAll().where('seq', '=', 3).executeTakeFirstOrThrow();
      const b = await f.db.selectFrom('audit_events').selectAll().where('seq', '=', 4).executeTakeFirstOrThrow();
      await f.db.updateTable('audit_events').set({ seq: -1 }).where('seq', '=', 3).execute();
      await f.db.updateTable('audit_events').set({ seq: 3 }).where('seq', '=', 4).execute();
      await f.db.updateTable('audit_events').set({ seq: 4 }).where('seq', '=', -1).execute();
      assert.notEqual(a.hash, b.hash);
    }, /record 3/, 3],
  ];
  for (const [name, tamper, reason, seq] of cases) {
    const f = await auditFixture({ every: 10 });
    try {
      await appendMany(f, 25);
      assert.equal((await verify(f)).ok, true);
      await tamper(f);
      const r = await verify(f);
      assert.equal(r.ok, false, `${name} not detected`);
      assert.equal(r.firstBroken?.kind, 'record', `${name}: ${JSON.stringify(r.firstBroken)}`);
      assert.equal(r.firstBroken?.seq, seq, `${name}: ${JSON.stringify(r.problems)}`);
      assert.match(r.problems.map((p) => `record ${p.seq}: ${p.reason}`).join('\n'), reason, name);
    } finally { await f.close(); }
  }
});

test('an attacker who rewrites the whole chain consistently (no key) is caught by the checkpoint MACs', async () => {
  const f = await auditFixture({ every: 10 });
  try {
    await appendMany(f, 25);
    await f.db.updateTable('audit_events').set({ actor_id: 'usr_scapegoat' }).where('seq', '=', 14).execute();
    await rechain(f, 14);
    const r = await verify(f);
    assert.equal(r.ok, false);
    assert.ok(r.problems.every((p) => p.kind !== 'record'), 'the chain itself is consistent again');
    assert.equal(r.firstBroken?.kind, 'checkpoint');
    assert.equal(r.firstBroken?.recordSeq, 20);
    assert.match(r.firstBroken?.reason ?? '', /records 11-20 differ from what was sealed/);
    // forging the checkpoint too needs the key: with a guessed key the MAC fails
    const cp = await f.db.selectFrom('audit_checkpoints').selectAll().where('seq', '=', 2).executeTakeFirstOrThrow();
    const head = await f.db.selectFrom('audit_events').select('hash').where('seq', '=', 20).executeTakeFirstOrThrow();
    const fields = { seq: 2, record_seq: 20, head_hash: head.hash, at: cp.at, prev_mac: cp.prev_mac };
    await f.db.updateTable('audit_checkpoints').set({ head_hash: head.hash, mac: checkpointMac(Buffer.alloc(32, 7), fields) }).where('seq', '=', 2).execute();
    const r2 = await verify(f);
    assert.match(r2.problems.map((p) => p.reason).join('\n'), /MAC does not verify/);
  } finally { await f.close(); }
});

test('truncating the tail after a checkpoint is detected, even with the checkpoints deleted too (anchor file)', async () => {
  const f = await auditFixture({ every: 10 });
  try {
    await appendMany(f, 25);
    await f.db.deleteFrom('audit_events').where('seq', '>', 15).execute();
    const r = await verify(f);
    assert.equal(r.ok, false);
    assert.equal(r.firstBroken?.kind, 'checkpoint');
    assert.match(r.firstBroken?.reason ?? '', /sealed record 20 is missing \(trail truncated after record 15\)/);

    await f.db.deleteFrom('audit_checkpoints').where('seq', '=', 2).execute();
    const r2 = await verify(f);
    assert.equal(r2.ok, false, 'records and their checkpoint gone: the anchor still names checkpoint 2');
    assert.equal(r2.firstBroken?.kind, 'anchor');
    assert.match(r2.firstBroken?.reason ?? '', /checkpoint 2 \(sealing record 20\) named by the anchor file is missing/);
  } finally { await f.close(); }
});

test('deleting a middle checkpoint, and a missing anchor file, are reported', async () => {
  const f = await auditFixture({ every: 5 });
  try {
    await appendMany(f, 20);
    await f.db.deleteFrom('audit_checkpoints').where('seq', '=', 2).execute();
    const r = await verify(f);
    assert.match(r.problems.map((p) => p.reason).join('\n'), /checkpoint 2 is missing/);
    rmSync(f.anchorPath);
    writeFileSync(f.anchorPath, 'garbage');
    assert.match((await verify(f)).problems.map((p) => p.reason).join('\n'), /not a valid audit anchor/);
  } finally { await f.close(); }
});

test('single writer: concurrent appends from two connections never fork the chain', async () => {
  const f = await auditFixture({ every: 50 });
  const other = await openSecurityDb(join(f.dir, 'cardline.db'));
  const second = new AuditLog({ db: other.db as never, key: f.key, clock: f.clock, anchorPath: f.anchorPath, checkpointEvery: 50, checkpointIntervalMs: 0 });
  try {
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 150; i++) {
      const log = i % 2 === 0 ? f.log : second;
      writes.push(log.append({ actor: { kind: 'system', id: `w${i % 2}` }, action: 'test.concurrent', outcome: 'success', detail: { i } }));
    }
    await Promise.all(writes);
    await second.close();
    await f.log.close();
    const r = await verify(f);
    assert.equal(r.ok, true, JSON.stringify(r.problems.slice(0, 3)));
    assert.equal(r.records, 150);
    const seqs = (await f.db.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map((x) => Number(x.seq));
    assert.deepEqual(seqs, Array.from({ length: 150 }, (_, i) => i + 1));
  } finally {
    await other.close();
    await f.close();
  }
});

test('time-based checkpoints: an overdue seal happens on the next append', async () => {
  const f = await auditFixture({ every: 1000, intervalMs: 5 * 60_000 });
  try {
    await appendMany(f, 3);
    await f.log.checkpoint();
    await appendMany(f, 2);
    assert.equal((await verify(f)).unsealed, 2);
    f.clock.t += 5 * 60_000;
    await appendMany(f, 1);
    const r = await verify(f);
    assert.equal(r.unsealed, 0);
    assert.equal(r.checkpoints, 2);
  } finally { await f.close(); }
});

test('query by time range, actor, action prefix and outcome; exports are CSV-injection safe', async () => {
  const f = await auditFixture();
  try {
    await appendMany(f, 20);
    const all = await f.log.query();
    assert.equal(all.length, 20);
    const from = all[5]?.at ?? '';
    const to = all[10]?.at ?? '';
    assert.deepEqual((await f.log.query({ from, to })).map((r) => r.seq), [6, 7, 8, 9, 10]);
    assert.ok((await f.log.query({ actorId: 'usr_1' })).every((r) => r.actorId === 'usr_1'));
    assert.equal((await f.log.query({ action: 'test.event-2' })).length, 5);
    assert.equal((await f.log.query({ action: 'test.*' })).length, 20);
    assert.equal((await f.log.query({ action: 'nope.' })).length, 0);
    assert.equal((await f.log.query({ outcome: 'failure' })).length, 4);
    assert.deepEqual((await f.log.query({ afterSeq: 18 })).map((r) => r.seq), [19, 20]);

    await f.log.append({ actor: { kind: 'user', id: 'u', name: '=HYPERLINK("http://evil","x")' }, action: 'test.csv', outcome: 'success', detail: { note: '+1+2', other: '@SUM(A1)', q: 'say "hi"\nnext' } });
    const [rec] = await f.log.query({ action: 'test.csv' });
    assert.ok(rec);
    const csv = exportAudit([rec], 'csv');
    const [header, row] = csv.split('\r\n');
    assert.match(header ?? '', /^"seq","at","actorKind"/);
    assert.ok(row?.includes(`"'=HYPERLINK(""http://evil"",""x"")"`), row);
    assert.ok(!/(^|,)"[=+\-@]/.test(row ?? ''), 'no cell starts with a formula character');
    assert.ok(!row?.includes('\n'), 'control characters were neutralised at append');
    const jsonl = exportAudit(await f.log.query(), 'jsonl').trim().split('\n');
    assert.equal(jsonl.length, 21);
    assert.equal((JSON.parse(jsonl[20] ?? '{}') as { hash: string }).hash, rec.hash);
  } finally { await f.close(); }
});

test('an append refuses detail keys that look like secrets', async () => {
  const f = await auditFixture();
  try {
    for (const k of ['password', 'newPassword', 'apiKey', 'totpSecret', 'recoveryCodes', 'sessionToken', 'pan', 'digits']) {
      await assert.rejects(f.log.append({ actor: { kind: 'system' }, action: 'test.leak', outcome: 'success', detail: { [k]: 'x' } }), (e) => isCardlineError(e), k);
    }
    assert.equal((await f.log.query()).length, 0);
    const n = await sql<{ n: number }>`select count(*) as n from audit_events`.execute(f.db);
    assert.equal(Number(n.rows[0]?.n), 0);
  } finally { await f.close(); }
});
