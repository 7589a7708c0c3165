/**
 * The built-in recorder on a real relay over real UDP sockets (127.0.0.1), paced in real time: a caller sends speech,
 * a noise burst, then (secure mode on) a card number, expiry and security code as keypad tones, then speech again;
 * the agent sends the same burst at the same instant and a 440 Hz tone during the secure span only.
 *
 * Checked for `pause` and `masked` (run concurrently): the WAV reads back (our parser and `sox --i`) as stereo 16-bit
 * 8 kHz with sizes patched; its caller channel has ZERO digits by Cardline's detector and by spandsp's while the
 * secure sink got every key; `pause` cuts the span out of both channels (no 440 Hz), `masked` keeps the timeline;
 * the two channels are aligned (cross-correlation of the burst); files are 0600 in a 0700 directory; the metadata
 * holds the call and its spans in file time, and neither it nor the WAV holds the card digits.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectDtmf, type DtmfDigit, parseWav } from '../../src/dsp/index.ts';
import { Call, CallState, MediaRelay, type LegMedia } from '../../src/gateway/index.ts';
import { RtpPortAllocator, serializeRtp } from '../../src/media/index.ts';
import { Recorder, type RecordingMetadata } from '../../src/recording/index.ts';
import { cardEntry, keysMismatch } from '../support/card-entry.ts';
import { concat, goertzelPower, silence, speechClips, whiteNoise } from '../support/corpus.ts';
import { spandspDetect } from '../support/spandsp.ts';
import { audioPackets, close, FRAME, HOST, PCMU, peer, waitFor } from '../gateway/support/rtp-peer.ts';

const PAN = '4111111111111111';
const EXPIRY = '1229';
const CVV = '737';
const RATE = 8000;

function leg(port: number): LegMedia {
  return { codec: 'PCMU', payloadType: PCMU, telephoneEventPayloadType: 101, remote: { address: HOST, port } };
}

function tone(freq: number, n: number, amp: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / RATE));
  return out;
}

function padTo(x: Int16Array, n: number): Int16Array {
  const out = new Int16Array(n);
  out.set(x.subarray(0, n));
  return out;
}

function sox(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sox', args, (err, stdout, stderr) => (err ? reject(new Error(String(stderr))) : resolve(String(stdout))));
  });
}

/** The lag (samples, b relative to a) in ±maxLag with the highest normalised cross-correlation over [from, to). */
function bestLag(a: Int16Array, b: Int16Array, from: number, to: number, maxLag: number): { lag: number; corr: number } {
  let best = { lag: 0, corr: -1 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = from; i < to; i++) {
      const x = a[i] ?? 0;
      const y = b[i + lag] ?? 0;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const corr = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
    if (corr > best.corr) best = { lag, corr };
  }
  return best;
}

interface CallRun {
  mode: 'pause' | 'masked';
  dir: string;
  meta: RecordingMetadata;
  wav: Uint8Array;
  jsonText: string;
  sinkDigits: string;
  /** Wall time of the secure span and of the call (first packet to close), ms. */
  secureMs: number;
  callMs: number;
  preSecureMs: number;
  agentToneSamples: number;
}

// ---- the call's audio (20 ms packets) ---------------------------------------------------------------------------
const PRE = RATE; // 1 s before secure mode: 0.3 s silence, 0.2 s burst, 0.5 s speech
const BURST_AT = 2400;
const BURST = whiteNoise(1600, 6000, 77);

async function callAudio(): Promise<{ caller: Int16Array; agent: Int16Array; secureFrom: number; secureTo: number; typed: string }> {
  const clips = await speechClips();
  const speechA = padTo((clips[0] as { samples: Int16Array }).samples, 4000);
  const speechB = padTo((clips[1] as { samples: Int16Array }).samples, RATE);
  const entry = cardEntry({ name: 'rec', groups: [`${PAN}#`, `${EXPIRY}#`, `${CVV}#`], levelDbm0: -8 });
  const keypad = padTo(entry.input, Math.ceil(entry.input.length / FRAME) * FRAME);
  const pre = concat(silence(BURST_AT), BURST, speechA);
  assert.equal(pre.length, PRE);
  const caller = concat(pre, keypad, speechB);
  const agent = concat(silence(BURST_AT), BURST, silence(PRE - BURST_AT - BURST.length), tone(440, keypad.length, 8000), silence(speechB.length));
  return { caller, agent, secureFrom: PRE, secureTo: PRE + keypad.length, typed: entry.typed };
}

async function runCall(mode: 'pause' | 'masked', allocator: RtpPortAllocator, audio: Awaited<ReturnType<typeof callAudio>>): Promise<CallRun> {
  const dir = join(mkdtempSync(join(tmpdir(), 'cardline-rec-')), 'recordings');
  const recorder = new Recorder({ dir, secureSpan: mode, lagMs: 1000, toleranceMs: 1500 });
  const call = new Call({ sipCallId: `rec-${mode}@127.0.0.1`, caller: 'sip:alice@127.0.0.1', callee: 'sip:pay@127.0.0.1', agent: 'sip:agent@127.0.0.1' });
  const digits: DtmfDigit[] = [];
  const relay = await MediaRelay.open({ allocator, onDigit: (d) => digits.push(d), tap: recorder.tapFor(call) });
  const callerPeer = await peer();
  const agentPeer = await peer();
  try {
    relay.configure(leg(callerPeer.port), leg(agentPeer.port));
    call.control = { get secure() { return relay.secure; }, setSecure: (on) => relay.setSecure(on), hangup: async () => {} };
    call.transition(CallState.Answered);
    const cp = audioPackets(audio.caller, { ssrc: 0x1111, seq0: 65000, ts0: 4294900000 });
    const ap = audioPackets(audio.agent, { ssrc: 0x2222, seq0: 10, ts0: 12345 });
    const t0 = performance.now();
    let secureAt = 0;
    let secureEnd = 0;
    for (let i = 0; i < cp.length; i++) {
      const due = t0 + i * 20;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (i * FRAME === audio.secureFrom || i * FRAME === audio.secureTo) {
        // secure mode switches between packets as the relay sees them: a loaded machine may have delayed this loop
        // (then it sends several packets at once) — the relay must have taken every packet sent so far
        await waitFor(() => relay.stats.callerToAgent.received >= i && relay.stats.agentToCaller.received >= i, 10_000, 'the relay');
      }
      if (i * FRAME === audio.secureFrom) {
        call.setSecure(true, 'api');
        secureAt = performance.now();
      }
      if (i * FRAME === audio.secureTo) {
        call.setSecure(false, 'api');
        secureEnd = performance.now();
      }
      callerPeer.socket.send(serializeRtp(cp[i] as (typeof cp)[number]), relay.caller.pair.rtpPort, HOST);
      agentPeer.socket.send(serializeRtp(ap[i] as (typeof ap)[number]), relay.agent.pair.rtpPort, HOST);
    }
    await waitFor(() => agentPeer.received.length >= cp.length - 4 && callerPeer.received.length >= ap.length - 1, 10_000);
    call.transition(CallState.Ended);
    await relay.close();
    const callMs = performance.now() - t0;
    const meta = await recorder.finished(call.id);
    assert.ok(meta, 'a recording was made');
    await recorder.close();
    const agentToneSamples = audio.secureTo - audio.secureFrom;
    return {
      mode, dir, meta, wav: readFileSync(join(dir, `${call.id}.wav`)), jsonText: readFileSync(join(dir, `${call.id}.json`), 'utf8'),
      sinkDigits: digits.join(''), secureMs: secureEnd - secureAt, callMs, preSecureMs: secureAt - t0, agentToneSamples,
    };
  } finally {
    await relay.close();
    await close(callerPeer.socket);
    await close(agentPeer.socket);
  }
}

describe('built-in recorder on the relay (real UDP, real time)', { timeout: 120_000 }, () => {
  let allocator: RtpPortAllocator;
  const runs = new Map<'pause' | 'masked', CallRun>();
  let typed = '';
  before(async () => {
    const base = 46000 + (process.pid % 200) * 10;
    allocator = new RtpPortAllocator({ address: HOST, minPort: base, maxPort: base + 9 });
    const audio = await callAudio();
    typed = audio.typed;
    assert.equal(keysMismatch(detectDtmf(audio.caller).map((e) => e.digit).join(''), typed), null, 'the fixture carries the keys');
    const [p, m] = await Promise.all([runCall('pause', allocator, audio), runCall('masked', allocator, audio)]);
    runs.set('pause', p);
    runs.set('masked', m);
  });
  after(async () => {
    await allocator.close();
    for (const r of runs.values()) rmSync(join(r.dir, '..'), { recursive: true, force: true });
  });

  for (const mode of ['pause', 'masked'] as const) {
    it(`${mode}: valid stereo 16-bit 8 kHz WAV (our parser and sox), sizes patched, 0600 in 0700`, async () => {
      const r = runs.get(mode) as CallRun;
      const w = parseWav(r.wav);
      assert.equal(w.sampleRate, 8000);
      assert.equal(w.channels.length, 2);
      assert.equal(w.format.bitsPerSample, 16);
      assert.equal(w.channels[0]?.length, r.meta.recording.frames);
      assert.equal(r.wav.length, 44 + r.meta.recording.frames * 4, 'nothing after the data chunk');
      assert.equal(new DataView(r.wav.buffer, r.wav.byteOffset).getUint32(4, true), r.wav.length - 8, 'RIFF size patched');
      const info = await sox(['--i', join(r.dir, r.meta.recording.file)]);
      assert.match(info, /Channels\s*:\s*2/);
      assert.match(info, /Sample Rate\s*:\s*8000/);
      assert.match(info, /Precision\s*:\s*16-bit/);
      assert.match(info, new RegExp(`= ${r.meta.recording.frames} samples`));
      assert.equal(statSync(r.dir).mode & 0o777, 0o700);
      assert.equal(statSync(join(r.dir, r.meta.recording.file)).mode & 0o777, 0o600);
      assert.equal(statSync(join(r.dir, `${r.meta.callId}.json`)).mode & 0o777, 0o600);
    });

    it(`${mode}: the caller channel has zero digits (Cardline and spandsp) while the secure sink got every key`, async () => {
      const r = runs.get(mode) as CallRun;
      assert.equal(keysMismatch(r.sinkDigits, typed), null, 'the secure sink received the whole card');
      const left = parseWav(r.wav).channels[0] as Int16Array;
      assert.equal(detectDtmf(left).length, 0, 'Cardline detector: no digit in the recording');
      assert.equal((await spandspDetect(left)).length, 0, 'spandsp: no digit in the recording');
      assert.equal((await spandspDetect(left, { sensitive: true })).length, 0, 'spandsp (sensitive): no digit');
    });

    it(`${mode}: the channels are aligned (cross-correlation of the burst both sides sent together)`, () => {
      const r = runs.get(mode) as CallRun;
      const [left, right] = parseWav(r.wav).channels as [Int16Array, Int16Array];
      // find the burst on the agent channel (silence before it), then correlate around it
      let onset = right.findIndex((v) => Math.abs(v) > 3000);
      assert.ok(onset >= 0 && onset < 3 * RATE, 'the burst is in the recording');
      onset = Math.max(0, onset - 200);
      const { lag, corr } = bestLag(right, left, onset, onset + BURST.length, 800);
      // the same noise burst on both sides: a clear peak (a packet spliced by a timeline correction may lower it;
      // unrelated audio correlates near 0)
      assert.ok(corr > 0.5, `correlation ${corr.toFixed(2)}`);
      assert.ok(Math.abs(lag) <= 160, `channels ${lag} samples apart (≤ 20 ms expected)`);
    });

    it(`${mode}: metadata names the call, its secure span in file time, and holds no card digits`, () => {
      const r = runs.get(mode) as CallRun;
      const m = r.meta;
      assert.deepEqual(JSON.parse(r.jsonText), m);
      assert.equal(m.sipCallId, `rec-${mode}@127.0.0.1`);
      assert.equal(m.caller, 'sip:alice@127.0.0.1');
      assert.equal(m.agent, 'sip:agent@127.0.0.1');
      assert.ok(m.endedAt !== null && m.recording.complete && m.recording.error === null);
      assert.equal(m.secureSpans.length, 1);
      const span = m.secureSpans[0];
      assert.ok(span && span.startedBy === 'api' && span.endedBy === 'api' && span.end !== null);
      const fileMs = (m.recording.frames / RATE) * 1000;
      const tol = 250;
      assert.ok(Math.abs((span.fileStartMs ?? -1) - r.preSecureMs) < tol, `span starts at ${span.fileStartMs} ms of file time, ${r.preSecureMs.toFixed(0)} ms of call`);
      if (mode === 'pause') {
        assert.equal(span.fileEndMs, span.fileStartMs, 'the span is cut: one point in file time');
        assert.equal(m.pauses.length, 1);
        const p = m.pauses[0];
        assert.ok(p && Math.abs(p.durationMs - r.secureMs) < tol, `pause ${p?.durationMs} ms, span ${r.secureMs.toFixed(0)} ms`);
        assert.equal(p.fileOffsetMs, span.fileStartMs);
        assert.ok(Math.abs(fileMs + p.durationMs - r.callMs) < 2 * tol, `file ${fileMs} ms + pause ${p.durationMs} ms ≈ call ${r.callMs.toFixed(0)} ms`);
      } else {
        assert.equal(m.pauses.length, 0);
        assert.ok(Math.abs((span.fileEndMs ?? 0) - (span.fileStartMs ?? 0) - r.secureMs) < tol, 'the span keeps its length');
        assert.ok(Math.abs(fileMs - r.callMs) < 2 * tol, `file ${fileMs} ms ≈ call ${r.callMs.toFixed(0)} ms`);
      }
      for (const secret of [PAN, `${PAN}#`, `${EXPIRY}#`, `${CVV}#`, typed, `"${CVV}"`, `:${CVV},`]) {
        assert.ok(!r.jsonText.includes(secret), 'card data in the metadata');
      }
      assert.ok(!Buffer.from(r.wav).toString('latin1').includes(PAN), 'the PAN as text in the WAV');
    });

    it(`${mode}: the agent's audio of the secure span is ${mode === 'pause' ? 'cut out' : 'kept'}`, () => {
      const r = runs.get(mode) as CallRun;
      const right = parseWav(r.wav).channels[1] as Int16Array;
      // 440 Hz energy, measured in 20 ms windows: how much of the agent's tone is in the file
      let toneWindows = 0;
      for (let i = 0; i + FRAME <= right.length; i += FRAME) {
        if (goertzelPower(right, 440, i, i + FRAME) > 0.1 * goertzelPower(tone(440, FRAME, 8000), 440, 0, FRAME)) toneWindows++;
      }
      const expected = r.agentToneSamples / FRAME;
      if (mode === 'pause') assert.ok(toneWindows <= 5, `${toneWindows} of ${expected} tone frames left in a paused recording`);
      else assert.ok(toneWindows >= expected - 10, `${toneWindows} of ${expected} tone frames kept`);
    });
  }
});
