import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { main } from '../../src/cli/main.ts';
import { call, createUser, enrol, loginToken, startSecureServer } from '../auth/helpers.ts';

async function cli(args: string[], stdin?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(['node', 'cardline', ...args], {
    stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, ...(stdin !== undefined ? { stdin: async () => stdin } : {}),
  });
  return { status, stdout, stderr };
}

test('cardline admin create / apikey / audit verify / audit export on a data directory; verify exits 1 naming the broken record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardline-cli-audit-'));
  try {
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ auth: { scrypt: { ln: 14, r: 8, p: 1 } } }));
    const d = ['-c', cfg, '-d', join(dir, 'data')];
    const password = 'violet-harbour-tractor-57';
    const created = await cli(['admin', 'create', ...d, '--username', 'first.admin', '--password-stdin'], `${password}\n`);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /created admin first\.admin \(usr_[0-9a-f]{16}\)/);
    assert.match(created.stdout, /otpauth:\/\/totp\/Cardline:first\.admin\?secret=[A-Z2-7]{32}/);
    assert.ok(!created.stdout.includes(password));
    const weak = await cli(['admin', 'create', ...d, '--username', 'second', '--password-stdin'], 'password1234');
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /\[weak-password\]/);
    assert.ok(!weak.stderr.includes('password1234'));
    const dup = await cli(['admin', 'create', ...d, '--username', 'FIRST.admin', '--password-stdin'], password);
    assert.match(dup.stderr, /\[user-exists\]/);

    const key = await cli(['apikey', 'create', ...d, '--name', 'media-1', '--permissions', 'sessions:digits']);
    assert.equal(key.status, 0, key.stderr);
    const keyId = /API key ([0-9a-f]{12})/.exec(key.stdout)?.[1] ?? '';
    assert.match(key.stdout, /shown once, store it now\): cl_[A-Za-z0-9_-]{43}/);
    assert.match((await cli(['apikey', 'list', ...d])).stdout, new RegExp(`${keyId}\\s+media-1\\s+cl_\\S{4}\\s+active\\s+sessions:digits`));
    assert.equal((await cli(['apikey', 'revoke', ...d, keyId])).status, 0);
    assert.match((await cli(['apikey', 'list', ...d, '--all'])).stdout, /revoked/);
    assert.equal((await cli(['admin', 'reset-mfa', ...d, '--username', 'first.admin'])).status, 0);

    const ok = await cli(['audit', 'verify', ...d]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /audit trail intact/);

    const csv = await cli(['audit', 'export', ...d, '--format', 'csv', '--action', 'apikey.*']);
    assert.equal(csv.status, 0);
    const rows = csv.stdout.trim().split('\r\n');
    assert.equal(rows.length, 3, csv.stdout);
    assert.match(rows[1] ?? '', /"apikey\.create"/);
    const jsonl = await cli(['audit', 'export', ...d]);
    const actions = jsonl.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action);
    assert.ok(actions.includes('user.create') && actions.includes('auth.mfa-reset') && actions.includes('report.export'), actions.join(' '));

    // tamper with record 3 behind Cardline's back
    const raw = new BetterSqlite3(join(dir, 'data', 'cardline.db'));
    raw.prepare('update audit_events set actor_name = ? where seq = 3').run('someone-else');
    raw.close();
    const broken = await cli(['audit', 'verify', ...d]);
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, /BROKEN record 3: content does not match its hash/);
    assert.match(broken.stderr, /\[audit-chain-broken\]: .*first broken record 3/);
    const asJson = await cli(['audit', 'verify', ...d, '--json']);
    assert.equal((JSON.parse(asJson.stdout) as { firstBroken: { seq: number } }).firstBroken.seq, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auditors search, verify and export the trail over HTTP; the export is itself audited; others are refused', async () => {
  const s = await startSecureServer();
  try {
    const auditor = await createUser(s, 'the.auditor', 'auditor');
    await enrol(s, auditor);
    const token = await loginToken(s, auditor);
    await call(s, 'POST', '/v1/auth/login', { body: { username: 'the.auditor', password: 'not-the-password', session: 'token' } });
    const ev = await call<{ events: { action: string; outcome: string; ip: string; actorId: string }[]; nextAfterSeq: number | null }>(s, 'GET', '/v1/audit/events?action=auth.*', { token });
    assert.equal(ev.status, 200);
    assert.ok(ev.body.events.some((e) => e.action === 'auth.login' && e.outcome === 'failure' && e.ip === '127.0.0.1'));
    assert.ok(ev.body.events.every((e) => e.action.startsWith('auth.')));
    const page = await call<{ events: { seq: number }[]; nextAfterSeq: number | null }>(s, 'GET', '/v1/audit/events?limit=2', { token });
    assert.equal(page.body.events.length, 2);
    assert.equal(page.body.nextAfterSeq, page.body.events[1]?.seq);
    const v = await call<{ ok: boolean; records: number }>(s, 'GET', '/v1/audit/verify', { token });
    assert.equal(v.body.ok, true);
    assert.ok(v.body.records > 3);
    const res = await fetch(`${s.url}/v1/audit/export?format=csv&action=auth.*`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="cardline-audit\.csv"/);
    assert.match(await res.text(), /^"seq","at","actorKind"/);
    const exported = await call<{ events: { action: string; actorId: string; detail: Record<string, unknown> }[] }>(s, 'GET', '/v1/audit/events?action=report.export', { token });
    assert.equal(exported.body.events.length, 1);
    assert.equal(exported.body.events[0]?.actorId, auditor.user.id);
    assert.equal(exported.body.events[0]?.detail.format, 'csv');
    // an admin cannot read the trail it could cover up; an agent neither
    const admin = await createUser(s, 'an.admin', 'admin');
    await enrol(s, admin);
    assert.equal((await call(s, 'GET', '/v1/audit/events', { token: await loginToken(s, admin) })).status, 403);
  } finally {
    await s.close();
  }
});
