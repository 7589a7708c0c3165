/**
 * Masking acceptance (issue 3, "Masker"): speech + a typed card number, expiry and security code goes
 * through DtmfMasker in 20 ms frames; what leaves must carry no digit — neither our detector nor
 * spandsp (default and a more sensitive setting) may find one — with ≥ 40 dB less energy at the DTMF
 * frequencies inside every tone's span, a delay equal to the declared look-ahead, speech passing
 * unchanged (< 0.5 % of speech time altered), and the secure sink receiving exactly what was typed.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DtmfMasker } from '../../../src/dsp/dtmf/masker.ts';
import type { MaskMode } from '../../../src/dsp/dtmf/masker.ts';
import { detectDtmf } from '../../../src/dsp/dtmf/detector.ts';
import { cardEntry, keysMismatch } from '../../support/card-entry.ts';
import type { CardEntry, CardEntrySpec } from '../../support/card-entry.ts';
import { concat, levelDbm0, silence, speechClips, whiteNoise, dbm0ToRms, musicClips } from '../../support/corpus.ts';
import { refDtmfFrequencies } from '../../support/tones.ts';
import { runMasker, spanSuppressionDb } from '../../support/masking.ts';
import type { MaskRun } from '../../support/masking.ts';
import { spandspDetect } from '../../support/spandsp.ts';

const MODES: MaskMode[] = ['tone', 'silence', 'noise'];
const SWEEP = [-5, -10, -15, -20, -25, -30];

let scenarios: CardEntry[] = [];

before(async () => {
  const sp = await speechClips();
  const clip = (i: number): Int16Array => {
    const c = sp[i % sp.length];
    assert.ok(c);
    return c.samples;
  };
  const specs: CardEntrySpec[] = [
    { name: 'Visa 80/80 at -10 dBm0 between speech turns', groups: ['4111111111111111#', '0927#', '737#'],
      speechBefore: clip(0), speechAfter: clip(1) },
    { name: 'Mastercard 50/50, levels -5…-30, twist +4, µ-law', groups: ['5555555555554444#', '1230#', '123#'],
      onMs: 50, offMs: 50, levelDbm0: SWEEP, twistDb: 4, codec: 'ulaw', speechBefore: clip(2) },
    { name: 'Amex 150/300 at -25 dBm0, twist -8, A-law', groups: ['378282246310005#', '0927#', '4321#'],
      onMs: 150, offMs: 300, levelDbm0: -25, twistDb: -8, codec: 'alaw', speechAfter: clip(3) },
    { name: 'Discover 80/80 at -15 dBm0 over background speech at -25 dB', groups: ['6011111111111117#', '0528#', '951#'],
      levelDbm0: -15, background: clip(5), backgroundDb: 25, speechBefore: clip(4) },
    { name: 'Visa 80/80, levels -5…-20, twist -4, over background speech, µ-law', groups: ['4012888888881881#', '1129#', '602#'],
      levelDbm0: [-5, -10, -15, -20], twistDb: -4, background: clip(8), backgroundDb: 25, codec: 'ulaw' },
    { name: 'all 16 keys 60/60 at -20 dBm0, twist +2, over background speech, A-law', groups: ['123A456B789C*0#D', '*#'],
      onMs: 60, offMs: 60, levelDbm0: -20, twistDb: 2, background: clip(12), backgroundDb: 25, codec: 'alaw', speechAfter: clip(13) },
    { name: 'fast 50/50 at -30 dBm0 over background speech at -25 dB', groups: ['4000056655665556#', '0330#', '100#'],
      onMs: 50, offMs: 50, levelDbm0: -30, background: clip(15), backgroundDb: 25 },
  ];
  scenarios = specs.map(cardEntry);
  // Precondition: the audio without the tones is clean for every receiver, so any digit found after
  // masking is a leak of the typed tones, not talk-off of the background.
  for (const s of scenarios) {
    assert.equal(detectDtmf(s.withoutTones).length, 0, `${s.name}: background alone is clean for Cardline`);
    assert.equal((await spandspDetect(s.withoutTones, { sensitive: true })).length, 0, `${s.name}: background clean for spandsp`);
    // And the unmasked input really carries the digits (both receivers find them).
    const ours = keysMismatch(detectDtmf(s.input).map((e) => e.digit).join(''), s.typed);
    assert.equal(ours, null, `${s.name}: Cardline finds the typed keys in the input (${ours})`);
    const ref = keysMismatch((await spandspDetect(s.input, { sensitive: true })).map((d) => d.digit).join(''), s.typed);
    assert.equal(ref, null, `${s.name}: sensitive spandsp finds the typed keys in the input (${ref})`);
  }
});

describe('masked card entry', () => {
  for (const mode of MODES) {
    test(`mode ${mode}: no digit survives (Cardline, spandsp default, spandsp sensitive); sink gets exactly the typed keys`, async (t) => {
      for (const s of scenarios) {
        const run = runMasker(s.input, { mode, seed: 7 });
        assert.equal(run.raw.length, s.input.length + run.delay, `${s.name}: output = input + declared delay`);
        const sink = keysMismatch(run.digits.map((d) => d.digit).join(''), s.typed);
        assert.equal(sink, null, `${s.name}: secure sink (${sink})`);
        assert.equal(detectDtmf(run.raw).length, 0, `${s.name}: Cardline finds no digit in the masked output`);
        assert.equal((await spandspDetect(run.raw)).length, 0, `${s.name}: spandsp finds no digit`);
        assert.equal((await spandspDetect(run.raw, { sensitive: true })).length, 0, `${s.name}: sensitive spandsp finds no digit`);
        t.diagnostic(`${mode} / ${s.name}: ${s.typed.length} keys masked in ${run.spans.length} spans, delay ${run.delay} samples`);
      }
    });

    test(`mode ${mode}: every tone, onset included, inside a reported span; ≥ 40 dB suppression at the DTMF frequencies`, (t) => {
      let worst = Infinity;
      let worstOwn = Infinity;
      for (const s of scenarios) {
        const run = runMasker(s.input, { mode, seed: 7 });
        // Spans may also cover unconfirmed candidates (counted as muting elsewhere); key presses each
        // get their own span.
        const covering = new Set<number>();
        for (const e of s.events) {
          const k = run.spans.findIndex((sp) => sp.startSample <= e.startSample && sp.endSample >= e.endSample);
          if (k >= 0) covering.add(k);
        }
        assert.equal(covering.size, s.events.length, `${s.name}: one span per key press`);
        for (const [i, e] of s.events.entries()) {
          const covering = run.spans.find((sp) => sp.startSample <= e.startSample && sp.endSample >= e.endSample);
          assert.ok(covering, `${s.name}: key press #${i} (samples ${e.startSample}-${e.endSample}) is inside a span`);
          const { row, col } = refDtmfFrequencies(e.digit);
          const sup = spanSuppressionDb(s.input, run.aligned, e.startSample, e.endSample, [row, col]);
          worst = Math.min(worst, sup.all8);
          worstOwn = Math.min(worstOwn, sup.own);
          assert.ok(sup.all8 >= 40, `${s.name}: key press #${i}: ${sup.all8.toFixed(1)} dB at the 8 DTMF frequencies`);
          assert.ok(sup.own >= 40, `${s.name}: key press #${i}: ${sup.own.toFixed(1)} dB at its own two frequencies`);
        }
      }
      t.diagnostic(`mode ${mode}: worst suppression ${worst.toFixed(1)} dB (8 frequencies), ${worstOwn.toFixed(1)} dB (own pair)`);
    });
  }

  test('any chunking gives the same output (1, 37, 160, 333 samples, one block)', () => {
    const s = scenarios[1];
    assert.ok(s);
    for (const mode of MODES) {
      const ref = runMasker(s.input, { mode, seed: 3, chunk: 160 });
      for (const chunk of [37, 333, s.input.length]) {
        const other = runMasker(s.input, { mode, seed: 3, chunk });
        assert.deepEqual(other.raw, ref.raw, `mode ${mode}, chunk ${chunk}`);
        assert.deepEqual(other.spans, ref.spans);
      }
      const one = runMasker(s.input.subarray(0, 16000), { mode, seed: 3, chunk: 1 });
      const big = runMasker(s.input.subarray(0, 16000), { mode, seed: 3, chunk: 16000 });
      assert.deepEqual(one.raw, big.raw, `mode ${mode}, chunk 1`);
    }
  });
});

describe('delay', () => {
  /** Lag (samples) at which the output best matches the input (normalised cross-correlation). */
  function measuredLag(input: Int16Array, raw: Int16Array, maxLag: number): number {
    let best = -Infinity;
    let bestLag = -1;
    for (let lag = 0; lag <= maxLag; lag++) {
      let acc = 0;
      for (let i = 0; i < input.length && i + lag < raw.length; i++) acc += (input[i] ?? 0) * (raw[i + lag] ?? 0);
      if (acc > best) {
        best = acc;
        bestLag = lag;
      }
    }
    return bestLag;
  }

  test('the output is the input delayed by exactly the declared look-ahead (≤ 30 ms by default)', (t) => {
    const noise = whiteNoise(8000, dbm0ToRms(-20), 99);
    const impulse = silence(4000);
    impulse[1234] = 20000;
    for (const mode of MODES) {
      const def = new DtmfMasker({ mode });
      assert.ok(def.delaySamples > 0 && def.delaySamples <= 240, `default delay ${def.delaySamples} samples`);
      t.diagnostic(`mode ${mode}: default look-ahead ${def.delaySamples} samples (${def.delaySamples / 8} ms)`);
      for (const lookaheadMs of [undefined, 26, 30, 45]) {
        const opts = lookaheadMs === undefined ? { mode } : { mode, lookaheadMs };
        const run = runMasker(noise, opts);
        if (lookaheadMs !== undefined) assert.equal(run.delay, lookaheadMs * 8, `declared delay for ${lookaheadMs} ms`);
        assert.equal(measuredLag(noise, run.raw, 800), run.delay, `mode ${mode}, look-ahead ${lookaheadMs ?? 'default'}: cross-correlation lag`);
        // Noise without DTMF passes bit-exact, just delayed.
        assert.deepEqual(run.aligned, noise);
        const imp = runMasker(impulse, opts);
        assert.equal(imp.raw.indexOf(20000), 1234 + run.delay, 'impulse response peak');
      }
    }
  });
});

describe('speech passes unchanged', () => {
  /** Samples inside 20 ms frames louder than -50 dBm0: "speech time". */
  function activeMask(x: Int16Array): Uint8Array {
    const m = new Uint8Array(x.length);
    for (let s = 0; s < x.length; s += 160) {
      const e = Math.min(x.length, s + 160);
      if (levelDbm0(x, s, e) > -50) m.fill(1, s, e);
    }
    return m;
  }

  function altered(input: Int16Array, run: MaskRun, active: Uint8Array): { alteredActive: number; active: number } {
    let a = 0;
    let n = 0;
    for (let i = 0; i < input.length; i++) {
      if (!active[i]) continue;
      n++;
      if (run.aligned[i] !== input[i]) a++;
    }
    return { alteredActive: a, active: n };
  }

  for (const mode of MODES) {
    test(`mode ${mode}: speech corpus alone — < 0.5 % of speech time altered, nothing sent to the secure sink`, async (t) => {
      const clips = await speechClips();
      const speech = concat(...clips.flatMap((c) => [c.samples, silence(1600)]));
      const run = runMasker(speech, { mode, seed: 11 });
      const active = activeMask(speech);
      const { alteredActive, active: n } = altered(speech, run, active);
      const pct = (100 * alteredActive) / n;
      t.diagnostic(`mode ${mode}: ${(n / 8000).toFixed(1)} s of speech, ${(alteredActive / 8).toFixed(1)} ms altered (${pct.toFixed(3)} %), ${run.spans.length} spans`);
      assert.ok(pct < 0.5, `${pct.toFixed(3)} % of speech time altered`);
      assert.equal(run.digits.length, 0, 'no digit reported for speech');
      const music = concat(...(await musicClips()).flatMap((c) => [c.samples, silence(1600)]));
      const mrun = runMasker(music, { mode, seed: 11 });
      const mAlt = altered(music, mrun, activeMask(music));
      t.diagnostic(`mode ${mode}: music ${(100 * mAlt.alteredActive / mAlt.active).toFixed(3)} % altered (information)`);
    });
  }

  test('around the tones, speech passes bit-exact (outside the reported spans)', () => {
    for (const s of scenarios) {
      const run = runMasker(s.input, { mode: 'tone', seed: 5 });
      let diff = 0;
      for (let i = 0; i < s.input.length; i++) {
        if (run.spans.some((sp) => i >= sp.startSample && i < sp.endSample)) continue;
        if (run.aligned[i] !== s.input[i]) diff++;
      }
      assert.equal(diff, 0, `${s.name}: ${diff} samples altered outside the masked spans`);
    }
  });
});
