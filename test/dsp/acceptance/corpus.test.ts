/**
 * The talk-off corpus is itself checked: long enough, really audio, reproducible, and *fair* — no 40 ms
 * of the music set is physically a DTMF tone pair (see test/support/dtmf-likeness.ts), while the
 * DTMF-like set that is kept out really is (so the measure can tell the difference).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dtmfLikeMusicClips, musicClips, speechClips, totalSeconds, levelDbm0, speech, music } from '../../support/corpus.ts';
import { dtmfLikeness } from '../../support/dtmf-likeness.ts';
import { refDtmfSequence } from '../../support/tones.ts';

test('speech corpus: ≥ 2 minutes, ≥ 15 voice settings, real (loud, non-silent) audio, band-limited variant', async () => {
  const clips = await speechClips();
  assert.ok(totalSeconds(clips) >= 120, `speech total ${totalSeconds(clips)} s`);
  assert.ok(new Set(clips.map((c) => c.name)).size >= 15);
  for (const c of clips) {
    assert.ok(c.samples.length > 8000 * 5, `${c.name} is at least 5 s`);
    assert.ok(levelDbm0(c.samples) > -30, `${c.name} level ${levelDbm0(c.samples).toFixed(1)} dBm0`);
  }
  const bl = await speechClips({ bandLimit: true });
  assert.equal(bl.length, clips.length);
  assert.ok(totalSeconds(bl) >= 120);
  // Cached: the same promise result on a second call.
  assert.equal(await speechClips(), clips);
  assert.equal((await speech()).length, clips.reduce((n, c) => n + c.samples.length + 2000, 0));
});

test('music corpus: ≥ 1 minute, every clip fair (never a DTMF pair for 40 ms)', async () => {
  const clips = await musicClips();
  assert.ok(totalSeconds(clips) >= 60, `music total ${totalSeconds(clips)} s`);
  // Checked as the talk-off test uses it: full band and phone band (a band-pass can remove the very
  // noise or harmonics that made a clip fair).
  for (const c of [...clips, ...(await musicClips({ bandLimit: true }))]) {
    assert.ok(c.samples.length >= 8000 * 2, c.name);
    const l = dtmfLikeness(c.samples);
    assert.ok(l.maxPairFraction < 0.9, `${c.name}: pair fraction ${l.maxPairFraction.toFixed(3)} at ${l.atSample}`);
  }
  assert.ok((await music({ bandLimit: true })).length > 60 * 8000);
});

test('the DTMF-likeness measure tells DTMF from music: real tones ≈ 1, the kept-out set ≥ 0.9', async () => {
  const tones = refDtmfSequence('159#', { onMs: 60, offMs: 60, levelDbm0: -20, twistDb: -4 }).samples;
  const t = dtmfLikeness(tones);
  assert.ok(t.maxPairFraction > 0.97 && t.longestRunMs >= 40, JSON.stringify(t));
  for (const c of await dtmfLikeMusicClips()) {
    const l = dtmfLikeness(c.samples);
    assert.ok(l.maxPairFraction >= 0.9 && l.longestRunMs >= 40, `${c.name}: ${JSON.stringify(l)}`);
  }
});
