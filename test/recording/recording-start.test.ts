/**
 * Recording wired by the composition root: `startCardline` with `gateway.recording` and `gateway.recorderWebhooks`.
 * A call placed through Cardline's SIP side (in-process UAs, RTP from test sockets), secure mode on and off by the
 * API, hang-up: the external recorder got signed pause/resume naming the SIP Call-ID with reason `api`, and the
 * built-in recorder wrote `<dataDir>/recordings/<call id>.wav|json` (0700 directory) with the span as a pause.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SIGNATURE_HEADER, verifyCallbackSignature } from '../../src/api/index.ts';
import { generateApiKey, hashApiKey, loadConfig } from '../../src/config/index.ts';
import { parseWav } from '../../src/dsp/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { serializeRtp } from '../../src/media/index.ts';
import type { RecordingMetadata, RecordingWebhookEvent } from '../../src/recording/index.ts';
import { startCardline } from '../../src/server/index.ts';
import { type IncomingInvite, UserAgentCore } from '../../src/sip/dialogs/index.ts';
import { SipStack } from '../../src/sip/transactions/index.ts';
import { UdpTransport } from '../../src/sip/transport/index.ts';
import { startReceiver } from '../api/helpers/receiver.ts';
import { audioPackets, close, HOST, peer, waitFor } from '../gateway/support/rtp-peer.ts';
import { whiteNoise } from '../support/audio.ts';

const SECRET = 'whsec_external_recorder_0123456789';
const SDP = (port: number) => `v=0\r\no=- 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=sendrecv\r\n`;

function sdpPort(body: Uint8Array): number {
  const m = /m=audio (\d+) /.exec(new TextDecoder().decode(body));
  assert.ok(m, 'an audio m-line');
  return Number(m[1]);
}

describe('recording from the config, through startCardline', { timeout: 60_000 }, () => {
  it('built-in recorder files and external-recorder webhooks for a call with a secure span', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardline-recstart-'));
    const sips: Array<{ ua: UserAgentCore; stack: SipStack }> = [];
    const sipPeer = async () => {
      const stack = new SipStack({ transports: [new UdpTransport()], timers: { T1: 20, T2: 160, T4: 200 } });
      await stack.start();
      const ua = new UserAgentCore({ stack });
      sips.push({ ua, stack });
      return { ua, port: stack.layer.transports[0]?.local.port ?? 0 };
    };
    const caller = await sipPeer();
    const agent = await sipPeer();
    const callerRtp = await peer();
    const agentRtp = await peer();
    const rx = await startReceiver();
    const key = generateApiKey();
    const base = 47000 + (process.pid % 100) * 10;
    const config = loadConfig({ env: {}, overrides: { host: HOST, port: 0, dataDir: dir } });
    config.apiKeySha256 = [hashApiKey(key)];
    config.callbacks.allowHttp = true;
    config.gateway = {
      sip: { host: HOST, port: 0, transports: ['udp'] },
      media: { address: HOST, minPort: base, maxPort: base + 9 },
      routes: [{ requestUri: '^sip:pay@', target: `sip:agent@${HOST}:${agent.port}` }],
      recording: { secureSpan: 'pause' },
      recorderWebhooks: [{ url: rx.url, secret: SECRET }],
    };
    const running = await startCardline({ config, logger: createLogger({ level: 'silent' }) });
    try {
      assert.ok(running.gateway && running.recording?.recorder && running.recording.webhooks);
      const recDir = join(dir, 'recordings');
      assert.equal(statSync(recDir).mode & 0o777, 0o700);
      const sipPort = running.gateway.stack.layer.transports[0]?.local.port ?? 0;
      let agentSidePort = 0;
      agent.ua.onInvite = (inv: IncomingInvite) => {
        agentSidePort = sdpPort(inv.request.body);
        inv.accept({ body: SDP(agentRtp.port) });
      };
      const out = caller.ua.invite({ uri: `sip:pay@${HOST}:${sipPort}`, from: '<sip:alice@example.com>', body: SDP(callerRtp.port) });
      const outcome = await out.outcome;
      assert.equal(outcome.kind, 'answered');
      if (outcome.kind !== 'answered') return;
      const callerSidePort = sdpPort(outcome.response.body);
      const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const list = (await (await fetch(`${running.url}/v1/calls`, { headers: auth })).json()) as { calls: Array<{ id: string; sipCallId: string }> };
      const call = list.calls[0];
      assert.ok(call);

      // 1.5 s of audio each way in real time; secure mode on for the middle 0.5 s
      const cp = audioPackets(whiteNoise(12_000, 3000, 1), { ssrc: 1, seq0: 1, ts0: 0 });
      const ap = audioPackets(whiteNoise(12_000, 3000, 2), { ssrc: 2, seq0: 1, ts0: 0 });
      const t0 = performance.now();
      for (let i = 0; i < cp.length; i++) {
        const wait = t0 + i * 20 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (i === 25 || i === 50) {
          const res = await fetch(`${running.url}/v1/calls/${call.id}/secure`, { method: 'POST', headers: auth, body: JSON.stringify({ on: i === 25 }) });
          assert.equal(res.status, 200);
        }
        callerRtp.socket.send(serializeRtp(cp[i] as (typeof cp)[number]), callerSidePort, HOST);
        agentRtp.socket.send(serializeRtp(ap[i] as (typeof ap)[number]), agentSidePort, HOST);
      }
      await waitFor(() => agentRtp.received.length >= cp.length - 4, 10_000);
      await outcome.dialog.bye();
      await waitFor(() => running.gateway?.b2bua.registry.size === 0, 10_000, 'the call to end');
      const meta = (await running.recording.recorder.finished(call.id)) as RecordingMetadata;
      assert.ok(meta, 'a recording');
      await rx.waitFor(2);
      await running.recording.webhooks.idle();

      // external recorder: pause then resume, signed, naming the call
      const events = rx.received.map((r) => JSON.parse(r.body) as RecordingWebhookEvent);
      assert.deepEqual(events.map((e) => [e.type, e.reason, e.callId, e.sipCallId]), [
        ['recording.pause', 'api', call.id, call.sipCallId], ['recording.resume', 'api', call.id, call.sipCallId],
      ]);
      assert.ok((events[1]?.atMs ?? 0) > (events[0]?.atMs ?? 0));
      for (const r of rx.received) {
        assert.equal(verifyCallbackSignature({ header: r.headers[SIGNATURE_HEADER.toLowerCase()] as string, body: r.body, secret: SECRET }).ok, true);
      }

      // built-in recorder: the files, the span as a cut, the metadata agreeing with the call and the webhooks
      const wav = parseWav(readFileSync(join(recDir, `${call.id}.wav`)));
      assert.equal(wav.channels.length, 2);
      assert.equal(wav.channels[0]?.length, meta.recording.frames);
      assert.deepEqual(JSON.parse(readFileSync(join(recDir, `${call.id}.json`), 'utf8')), meta);
      assert.equal(meta.sipCallId, call.sipCallId);
      assert.equal(meta.endReason, 'caller-bye-received');
      assert.equal(meta.pauses.length, 1);
      assert.deepEqual([meta.secureSpans[0]?.start, meta.secureSpans[0]?.end], [events[0]?.at, events[1]?.at]);
      const pause = meta.pauses[0];
      assert.ok(pause && pause.durationMs > 300 && pause.durationMs < 1500, `pause ${pause?.durationMs} ms`);
      assert.ok(meta.recording.durationMs > 500 && meta.recording.durationMs < 1600, `file ${meta.recording.durationMs} ms`);
      assert.deepEqual(running.recording.recorder.stats(), { active: 0, completed: 1, empty: 0, errors: {} });
    } finally {
      await running.close();
      for (const p of sips) p.ua.close();
      await Promise.all(sips.map((p) => p.stack.close()));
      await close(callerRtp.socket);
      await close(agentRtp.socket);
      await rx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
