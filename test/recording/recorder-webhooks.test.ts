/**
 * External-recorder pause/resume webhooks against local HTTP receivers: every secure-mode change of a call becomes a
 * signed POST (verified with the merchants' helper), in order, with increasing timestamps and the reason; a 500 is
 * retried with the same delivery id; the bodies hold only the documented fields (no digits, no card data).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SIGNATURE_HEADER, verifyCallbackSignature } from '../../src/api/index.ts';
import { isCardlineError } from '../../src/errors/index.ts';
import { Call, CallState } from '../../src/gateway/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { RecorderWebhooks, recordingFromConfig, type RecordingWebhookEvent } from '../../src/recording/index.ts';
import { startReceiver } from '../api/helpers/receiver.ts';

const SECRET_A = 'whsec_recorder_a_0123456789abcdef';
const SECRET_B = 'whsec_recorder_b_0123456789abcdef';
const PAN = '4111111111111111';
const CVV = '737';

function answeredCall(): Call {
  const call = new Call({ sipCallId: 'wh-1@127.0.0.1', caller: 'sip:alice@127.0.0.1', callee: 'sip:pay@127.0.0.1', agent: 'sip:agent@127.0.0.1' });
  let secure = false;
  call.control = { get secure() { return secure; }, setSecure: (on) => { secure = on; }, hangup: async () => {} };
  call.transition(CallState.Answered);
  return call;
}

async function tick(ms = 3): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('recorder pause/resume webhooks', () => {
  it('signed, in order, increasing timestamps, reasons; a 500 is retried with the same delivery id', async () => {
    const a = await startReceiver();
    const b = await startReceiver((i) => ({ status: i === 0 ? 500 : 200 }));
    const logLines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (l: string) => { logLines.push(l); } } });
    const hooks = new RecorderWebhooks({
      targets: [{ url: a.url, secret: SECRET_A }, { url: b.url, secret: SECRET_B }], allowHttp: true, backoffMs: 50, maxBackoffMs: 200, logger,
    });
    try {
      const call = answeredCall();
      hooks.watch(call);
      call.setSecure(true, 'api');
      await tick();
      call.setSecure(false, 'trigger');
      await tick();
      call.setSecure(true, 'policy');
      await tick();
      call.transition(CallState.Ended); // ends the open span: resume, reason call-ended
      await a.waitFor(4);
      await b.waitFor(5);
      await hooks.idle();
      assert.deepEqual(hooks.stats(), { queued: 0, delivered: 8, failed: 0, dropped: 0, retries: 1 });

      const events = a.received.map((r) => JSON.parse(r.body) as RecordingWebhookEvent);
      assert.deepEqual(events.map((e) => [e.type, e.reason, e.sequence]), [
        ['recording.pause', 'api', 1], ['recording.resume', 'trigger', 2], ['recording.pause', 'policy', 3], ['recording.resume', 'call-ended', 4],
      ]);
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as RecordingWebhookEvent;
        const r = a.received[i];
        assert.deepEqual(Object.keys(e).sort(), ['at', 'atMs', 'callId', 'id', 'reason', 'sequence', 'sipCallId', 'type']);
        assert.equal(e.callId, call.id);
        assert.equal(e.sipCallId, 'wh-1@127.0.0.1');
        assert.equal(new Date(e.atMs).toISOString(), e.at);
        if (i > 0) assert.ok(e.atMs > (events[i - 1] as RecordingWebhookEvent).atMs, 'timestamps increase');
        assert.equal(r?.headers['cardline-event'], e.type);
        assert.equal(r?.headers['cardline-delivery'], e.id);
        const header = r?.headers[SIGNATURE_HEADER.toLowerCase()] as string;
        assert.deepEqual(verifyCallbackSignature({ header, body: r?.body ?? '', secret: SECRET_A }).ok, true);
        assert.deepEqual(verifyCallbackSignature({ header, body: r?.body ?? '', secret: SECRET_B }), { ok: false, reason: 'mismatch' });
        assert.equal(verifyCallbackSignature({ header, body: (r?.body ?? '').replace('pause', 'resume'), secret: SECRET_A }).ok, i % 2 === 1);
      }
      // the spans on the call match what the recorders were told
      assert.deepEqual(call.view().secureSpans.map((s) => [s.start, s.end]), [[events[0]?.at, events[1]?.at], [events[2]?.at, events[3]?.at]]);

      // recorder B: first attempt 500, the retry carries the same delivery id and attempt 2; order kept
      const bIds = b.received.map((r) => r.headers['cardline-delivery']);
      assert.equal(bIds[0], bIds[1]);
      assert.deepEqual(b.received.map((r) => r.headers['cardline-attempt']), ['1', '2', '1', '1', '1']);
      assert.deepEqual(b.received.slice(1).map((r) => (JSON.parse(r.body) as RecordingWebhookEvent).sequence), [1, 2, 3, 4]);
      for (const r of b.received) assert.equal(verifyCallbackSignature({ header: r.headers[SIGNATURE_HEADER.toLowerCase()] as string, body: r.body, secret: SECRET_B }).ok, true);

      // hygiene: no card data in any body or log line; logs name the host only
      for (const text of [...a.received, ...b.received].map((r) => r.body).concat(logLines)) {
        assert.ok(!text.includes(PAN) && !new RegExp(`"${CVV}"|:${CVV}[,}]`).test(text), 'card data leaked');
        assert.ok(!text.includes('tenant=t1'), 'URL query in a log line');
      }
      assert.ok(logLines.some((l) => l.includes('will retry')));
    } finally {
      await hooks.close(100);
      await a.close();
      await b.close();
    }
  });

  it('gives up after maxAttempts (counted), never blocks the call; close drops what still waits', async () => {
    const r = await startReceiver(() => ({ status: 503 }));
    const hooks = new RecorderWebhooks({ targets: [{ url: r.url, secret: SECRET_A }], allowHttp: true, backoffMs: 10, maxBackoffMs: 20, maxAttempts: 3, logger: createLogger({ level: 'silent' }) });
    try {
      const call = answeredCall();
      hooks.watch(call);
      call.setSecure(true, 'api');
      assert.equal(call.secure, true, 'the call goes on while the recorder is down');
      await r.waitFor(3);
      await hooks.idle();
      assert.equal(hooks.stats().failed, 1);
      assert.equal(r.received.length, 3);
    } finally {
      await hooks.close(50);
      await r.close();
    }
  });

  it('config: bad URL, short or missing secret are invalid-config naming the entry; secretEnv is read', () => {
    const gw = { recorderWebhooks: [{ url: 'ftp://x/', secret: SECRET_A }] } as unknown as Parameters<typeof recordingFromConfig>[0];
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(isCardlineError(e) && e.code === 'invalid-config', String(e));
        return e.message;
      }
      assert.fail('no error');
    };
    assert.match(err(() => recordingFromConfig(gw, { dataDir: '/tmp' })), /recorderWebhooks\[0\]\.url/);
    const noSecret = { recorderWebhooks: [{ url: 'https://rec.example/', secretEnv: 'CARDLINE_TEST_UNSET_SECRET' }] } as unknown as Parameters<typeof recordingFromConfig>[0];
    assert.match(err(() => recordingFromConfig(noSecret, { dataDir: '/tmp', env: {} })), /recorderWebhooks\[0\]/);
    const fromEnv = recordingFromConfig(noSecret, { dataDir: '/tmp', env: { CARDLINE_TEST_UNSET_SECRET: SECRET_B } });
    assert.ok(fromEnv.webhooks && fromEnv.onCallStarted && fromEnv.recorder === null && fromEnv.tapFor === undefined);
    assert.throws(() => new RecorderWebhooks({ targets: [{ url: 'https://rec.example/', secret: 'short' }] }), /at least 16/);
  });
});
