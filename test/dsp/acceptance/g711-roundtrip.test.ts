/**
 * Round-trips through G.711 (the codecs of every telephone network and most SIP trunks) still detect
 * every digit: all 16 keys at levels from 0 to -36 dBm0 per tone (the Q.24 operating range), through
 * µ-law and A-law, with our detector (one-shot and streamed in 20 ms frames) and, as a cross-check of
 * the audio itself, with spandsp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DtmfDetector, detectDtmf } from '../../../src/dsp/dtmf/detector.ts';
import { generateSequence } from '../../../src/dsp/dtmf/generator.ts';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../../../src/dsp/g711.ts';
import type { DtmfEvent } from '../../../src/dsp/types.ts';
import { spandspDetect } from '../../support/spandsp.ts';

const ALL = '123A456B789C*0#D';
const CODECS = {
  'µ-law': (x: Int16Array) => ulawDecode(ulawEncode(x)),
  'A-law': (x: Int16Array) => alawDecode(alawEncode(x)),
} as const;

function streamed(x: Int16Array): DtmfEvent[] {
  const det = new DtmfDetector();
  const out: DtmfEvent[] = [];
  for (let p = 0; p < x.length; p += 160) det.process(x.subarray(p, Math.min(x.length, p + 160)), (e) => out.push(e));
  out.push(...det.flush());
  return out;
}

for (const [codecName, codec] of Object.entries(CODECS)) {
  test(`${codecName}: all 16 keys at 0…-36 dBm0 per tone, with twist, survive the round trip`, async (t) => {
    const cases = [
      { levelDbm0: 0 }, { levelDbm0: -6 }, { levelDbm0: -12 }, { levelDbm0: -20 }, { levelDbm0: -28 }, { levelDbm0: -36 },
      { levelDbm0: -10, twistDb: 4 }, { levelDbm0: -10, twistDb: -8 }, { levelDbm0: -24, twistDb: 4 },
      { levelDbm0: -15, onMs: 45, offMs: 45 }, { levelDbm0: -15, onMs: 150, offMs: 300 },
    ];
    for (const spec of cases) {
      const { samples, events } = generateSequence(ALL, spec);
      const decoded = codec(samples);
      const found = detectDtmf(decoded);
      const label = `${codecName} ${JSON.stringify(spec)}`;
      assert.equal(found.length, ALL.length, `${label}: ${found.length} keys found`);
      assert.equal(found.map((e) => e.digit).join(''), ALL, `${label}: keys in order`);
      // Each report overlaps its tone (timing is the conformance suite's business; this guards pairing).
      found.forEach((e, i) => {
        const truth = events[i];
        assert.ok(truth && e.startSample < truth.endSample && e.endSample > truth.startSample, `${label}: key #${i} overlaps its tone`);
      });
      const s = streamed(decoded);
      assert.deepEqual(s.map((e) => [e.digit, e.startSample, e.endSample]), found.map((e) => [e.digit, e.startSample, e.endSample]), `${label}: streamed = one-shot`);
      const ref = await spandspDetect(decoded, { sensitive: true });
      t.diagnostic(`${label}: Cardline ${found.length}/16, spandsp (sensitive) ${ref.length}/16`);
    }
  });
}
