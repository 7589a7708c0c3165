/**
 * The recorder's parts without sockets: the timeline placement (RTP timestamps vs one wall clock), the bounded
 * stereo ring, the streaming WAV writer (readable while being written, sizes patched, 0600, failures reported once),
 * and a CallRecorder driven by a virtual clock: gaps become silence, a disk failure never reaches the call.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseWav } from '../../src/dsp/index.ts';
import type { CardlineError } from '../../src/errors/index.ts';
import { Call, CallState } from '../../src/gateway/index.ts';
import { ChannelTimeline, Recorder, StereoRing, WavStreamWriter } from '../../src/recording/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cardline-recparts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function ramp(n: number, from: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => from + i);
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  const ok = () => {
    try {
      return cond();
    } catch {
      return false; // e.g. the file is not there yet
    }
  };
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ChannelTimeline', () => {
  it('first packet ends at its arrival; later ones follow RTP time (gaps kept, wrap-around, reordering)', () => {
    const t = new ChannelTimeline(2000);
    assert.equal(t.place(0xffffff00, 160, 1000), 840);
    assert.equal(t.place(0xffffffa0, 160, 1170), 1000, 'next frame');
    assert.equal(t.place(0x00000040 + 160 * 10, 160, 2950), 840 + 0x140 + 1600, 'across the 32-bit wrap, after a gap of silence suppression');
    assert.equal(t.place(0xffffffa0, 160, 2950), 1000, 'a late, reordered packet goes back to its place');
    assert.equal(t.reanchors, 0);
  });

  it('re-anchors to the wall clock when RTP time and wall time disagree beyond the tolerance', () => {
    const t = new ChannelTimeline(800);
    t.place(1000, 160, 160);
    assert.equal(t.place(1000 + 8000 * 60, 160, 480), 320, 'a jump of 60 s in RTP time while 40 ms passed');
    assert.equal(t.reanchors, 1);
    assert.equal(t.place(1000, 160, 640), 480, 'a step back by more than the tolerance (a restarted clock) re-anchors too');
    assert.equal(t.reanchors, 2);
  });

  it('a delayed first packet is corrected by the next on-time one (minimum-delay anchoring)', () => {
    const t = new ChannelTimeline(2000);
    assert.equal(t.place(0, 160, 560), 400, 'the first packet arrived 240 samples (30 ms) late');
    assert.equal(t.place(160, 160, 480), 320, 'the next arrived on time: the timeline moves back by 240');
    assert.equal(t.place(320, 160, 650), 480, 'a later one is not pulled forward (it was merely late)');
    assert.equal(t.corrections, 1);
  });

  it('property: on-time packets of a steady stream land back to back', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 200 }), (ts0, wall0, n) => {
      const t = new ChannelTimeline(400);
      const first = t.place(ts0, 160, wall0);
      for (let i = 1; i < n; i++) assert.equal(t.place((ts0 + i * 160) >>> 0, 160, wall0 + i * 160 + ((i * 37) % 200)), first + i * 160);
    }));
  });
});

describe('StereoRing', () => {
  it('writes channels at positions, drains in order with silence for gaps, reports late and too-early samples', () => {
    const ring = new StereoRing(8, 100);
    assert.equal(ring.write(0, 98, ramp(4, 1)), 2, 'two samples before start are late');
    assert.equal(ring.write(1, 101, ramp(2, 10)), 0);
    assert.equal(ring.write(1, 106, ramp(4, 20)), 2, 'two samples beyond the window');
    const out: number[] = [];
    const froms: number[] = [];
    ring.drain(108, (v, from) => { froms.push(from); out.push(...v); });
    assert.deepEqual(out, [3, 0, 4, 10, 0, 11, 0, 0, 0, 0, 0, 0, 0, 20, 0, 21]);
    assert.deepEqual(froms, [100, 104], 'the window wraps at 104 (104 mod 8 = 0)');
    const gap: number[] = [];
    ring.drain(130, (v, from) => { gap.push(from, v.length / 2); assert.ok(v.every((x) => x === 0)); });
    assert.deepEqual(gap, [108, 4, 112, 8, 120, 8, 128, 2], 'a long gap comes as chunks of silence, never more than the capacity');
    assert.equal(ring.start, 130);
  });

  it('property: any chunking of writes and drains gives the same frames', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 30 }), (chunks) => {
      const ring = new StereoRing(10, -5);
      const got: number[] = [];
      let pos = -5;
      for (const n of chunks) {
        ring.drain(pos + n - 10, (v) => { got.push(...v); });
        ring.write(0, pos, ramp(n, pos));
        pos += n;
      }
      ring.drain(pos, (v) => { got.push(...v); });
      assert.deepEqual(got.filter((_, i) => i % 2 === 0), Array.from({ length: pos + 5 }, (_, i) => i - 5));
    }));
  });
});

describe('WavStreamWriter', () => {
  it('is a valid WAV while being written (sizes patched every second) and exact on close; 0600', async () => {
    const path = join(tmp, 'stream.wav');
    const w = new WavStreamWriter(path, { channels: 2, sampleRate: 8000, patchEveryBytes: 32_000 });
    const second = new Int16Array(16_000).map((_, i) => i % 1000);
    w.append(second);
    w.append(second.subarray(0, 800));
    await until(() => readFileSync(path).length === 44 + 32_000 + 1600);
    // "crash" now: the header says 1 s, the tail after it is ignored by readers
    const mid = parseWav(readFileSync(path));
    assert.equal(mid.channels[0]?.length, 8000);
    await w.close();
    const done = parseWav(readFileSync(path));
    assert.equal(done.channels[0]?.length, 8400);
    assert.equal(done.channels[1]?.[999], 999);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(w.append(second), false, 'closed');
  });

  it('a failure (no such directory) is reported once with its code; appends return false, close resolves', async () => {
    const errors: CardlineError[] = [];
    const w = new WavStreamWriter(join(tmp, 'missing', 'x.wav'), { channels: 2, sampleRate: 8000, onError: (e) => errors.push(e) });
    await until(() => w.error !== null);
    assert.equal(w.append(new Int16Array(320)), false);
    await w.close();
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, 'recording-io-error');
    assert.match(errors[0]?.message ?? '', /ENOENT/);
  });

  it('refuses to overwrite an existing file', async () => {
    const path = join(tmp, 'exists.wav');
    await new WavStreamWriter(path, { channels: 2, sampleRate: 8000 }).close();
    const w = new WavStreamWriter(path, { channels: 2, sampleRate: 8000 });
    await until(() => w.error !== null);
    assert.equal(w.error, 'recording-io-error');
  });
});

describe('CallRecorder with a virtual clock', () => {
  function setup(dir: string, secureSpan: 'pause' | 'masked') {
    let now = 0;
    const errors: string[] = [];
    const recorder = new Recorder({ dir, secureSpan, now: () => now, lagMs: 100, flushIntervalMs: 5000, toleranceMs: 500 });
    const call = new Call({ sipCallId: 'v@h', caller: 'sip:a@h', callee: 'sip:b@h', agent: 'sip:c@h' });
    let secure = false;
    call.control = { get secure() { return secure; }, setSecure: (on) => { secure = on; }, hangup: async () => {} };
    call.transition(CallState.Answered);
    const tap = recorder.tapFor(call);
    return { recorder, call, tap, errors, advance: (ms: number) => { now += ms; } };
  }

  it('loss and a one-sided channel become silence; both channels keep the wall-clock timeline', async () => {
    const dir = join(tmp, 'virtual');
    const { recorder, call, tap, advance } = setup(dir, 'masked');
    const frame = new Int16Array(160).fill(1000);
    for (let i = 0; i < 50; i++) { // 1 s; the caller loses every 5th packet, the agent speaks only in the first half
      advance(20);
      if (i % 5 !== 4) tap.audio('caller', frame, 5000 + i * 160);
      if (i < 25) tap.audio('agent', frame, 90000 + i * 160);
    }
    call.transition(CallState.Ended);
    tap.close();
    const meta = await recorder.finished(call.id);
    assert.ok(meta);
    const w = parseWav(readFileSync(join(dir, meta.recording.file)));
    const [l, r] = w.channels as [Int16Array, Int16Array];
    assert.equal(l.length, 8000, 'one second: the file follows the clock');
    assert.equal(l[4 * 160 + 10], 0, 'a lost packet is silence');
    assert.equal(l[3 * 160 + 10], 1000);
    assert.equal(r[24 * 160 + 10], 1000);
    assert.equal(r[30 * 160], 0, 'the silent agent is silence, still aligned');
  });

  it('a disk failure mid-call is counted, the tap keeps taking audio, metadata says incomplete', async () => {
    const dir = join(tmp, 'failing');
    const { recorder, call, tap, advance } = setup(dir, 'pause');
    rmSync(dir, { recursive: true }); // the directory disappears under the recorder
    for (let i = 0; i < 20; i++) {
      advance(20);
      tap.audio('caller', new Int16Array(160), i * 160);
    }
    call.transition(CallState.Ended);
    tap.close();
    const meta = await recorder.finished(call.id);
    assert.equal(meta?.recording.complete, false);
    assert.equal(meta?.recording.error, 'recording-io-error');
    assert.equal(recorder.stats().errors['recording-io-error'], 2, 'the WAV and the metadata file');
  });
});
