/**
 * GET /v1/recordings/:callId on the real API server with the production identity stack: an auditor reads a finished
 * recording's metadata (schema-checked, equal to the file); a service key without `audit:read` is refused, no
 * credential is 401, an unknown call is `recording-not-found`, a non-UUID is refused by the schema.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Call, CallState } from '../../src/gateway/index.ts';
import { Recorder, registerRecordingRoutes, type RecordingMetadata } from '../../src/recording/index.ts';
import { call, createUser, enrol, loginToken, type SecureServer, startSecureServer } from '../auth/helpers.ts';

describe('recordings API', () => {
  let s: SecureServer;
  let recorder: Recorder;
  let meta: RecordingMetadata;
  let auditor = '';
  const tmp = mkdtempSync(join(tmpdir(), 'cardline-recapi-'));
  before(async () => {
    let now = 0;
    recorder = new Recorder({ dir: join(tmp, 'recordings'), now: () => now });
    s = await startSecureServer({ routes: (app) => registerRecordingRoutes(app, recorder) });
    // one short recording with a secure span (virtual clock)
    const c = new Call({ sipCallId: 'api@h', caller: 'sip:a@h', callee: 'sip:b@h', agent: 'sip:c@h' });
    let secure = false;
    c.control = { get secure() { return secure; }, setSecure: (on) => { secure = on; }, hangup: async () => {} };
    c.transition(CallState.Answered);
    const tap = recorder.tapFor(c);
    for (let i = 0; i < 30; i++) {
      now += 20;
      if (i === 10) c.setSecure(true, 'api');
      if (i === 20) c.setSecure(false, 'session-ended');
      tap.audio('caller', new Int16Array(160).fill(5), i * 160);
    }
    c.transition(CallState.Ended);
    tap.close();
    meta = (await recorder.finished(c.id)) as RecordingMetadata;
    const u = await createUser(s, 'a.auditor', 'auditor');
    await enrol(s, u);
    auditor = await loginToken(s, u);
  });
  after(async () => {
    await s.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('an auditor reads the metadata; others are refused', async () => {
    const r = await call<RecordingMetadata>(s, 'GET', `/v1/recordings/${meta.callId}`, { token: auditor });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, meta);
    assert.deepEqual(r.body.secureSpans.map((x) => [x.startedBy, x.endedBy]), [['api', 'session-ended']]);
    assert.equal(r.body.pauses.length, 1);
    assert.equal((await call(s, 'GET', `/v1/recordings/${meta.callId}`, { token: s.key })).status, 403, 'a service key lacks audit:read');
    assert.equal((await call(s, 'GET', `/v1/recordings/${meta.callId}`)).status, 401);
  });

  it('unknown call → 404 recording-not-found; a non-UUID never reaches the disk', async () => {
    const missing = await call<{ error: { code: string } }>(s, 'GET', '/v1/recordings/00000000-0000-4000-8000-000000000000', { token: auditor });
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'recording-not-found']);
    const bad = await call<{ error: { code: string } }>(s, 'GET', `/v1/recordings/${encodeURIComponent('../../etc/passwd')}`, { token: auditor });
    assert.equal(bad.status, 400);
    assert.equal(await recorder.metadata('../x'), null);
  });
});
