/**
 * The caller's side of an end-to-end payment call: speech (espeak-ng), the card typed on the keypad as in-band
 * DTMF (card number, expiry, security code, each followed by `#`), more speech; written as the 8 kHz WAV a
 * baresip caller uses as its microphone. Also the assertions on what the agent side heard.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { detectDtmf, serializeWav } from '../../../src/dsp/index.ts';
import { cardEntry } from '../../support/card-entry.ts';
import { concat, levelDbm0, mix, say, silence, whiteNoise } from '../../support/corpus.ts';
import { spandspDetect } from '../../support/spandsp.ts';
import { CARD } from './cardline.ts';

export const GREETING = 'Hello, I would like to pay my bill please.';
export const THANKS = 'Thank you, that is all.';

/** The agent: a prompt, then a minute of quiet office noise (the agent phone's microphone). */
export async function agentSpeech(): Promise<Int16Array> {
  const s = concat(await say('Thank you. Please type your card number, then the hash key.', { voice: 'en-gb', pitch: 40 }), silence(60 * 8000));
  return mix(s, whiteNoise(s.length, 80, 11));
}

/** Speech, `tailMs` of room noise, no digits: the microphone of a caller who keys by RFC 4733 or SIP INFO. */
export async function speechOnly(tailMs: number): Promise<Int16Array> {
  const s = concat(await say(GREETING), silence(tailMs * 8), await say(THANKS));
  return mix(s, whiteNoise(s.length, 120, 7));
}

/**
 * The card as in-band tones (90 ms on / 90 ms off, -10 dBm0) between a short pause and speech, over room noise: the
 * caller's microphone once the agent has bound the payment (baresip switches to it with `ausrc`).
 */
export async function cardTyping(tailMs = 500): Promise<Int16Array> {
  const before = silence(2400);
  const entry = cardEntry({
    name: 'e2e', groups: [`${CARD.pan}#`, `${CARD.expiry}#`, `${CARD.cvv}#`], onMs: 90, offMs: 90, levelDbm0: -10,
    speechBefore: before, speechAfter: concat(silence(2400), await say(THANKS), silence(tailMs * 8)),
  });
  return mix(entry.input, whiteNoise(entry.input.length, 120, 5));
}

export function writeWav(path: string, samples: Int16Array): string {
  writeFileSync(path, serializeWav({ sampleRate: 8000, channels: [samples] }));
  return path;
}

/**
 * The agent side heard the call (speech got through: audio was flowing) and ZERO digits by Cardline's detector and
 * by spandsp's dtmf_rx, default and sensitive settings. Digits are never printed (counts only).
 */
export async function assertHeardNoDigits(heard: Int16Array, minSeconds: number): Promise<void> {
  assert.ok(heard.length >= 8000 * minSeconds, `the agent side recorded ${(heard.length / 8000).toFixed(1)} s`);
  assert.ok(levelDbm0(heard) > -45, 'the agent side heard the caller (speech level)');
  assert.equal(detectDtmf(heard).length, 0, "Cardline's detector found digits in the agent's audio");
  assert.equal((await spandspDetect(heard)).length, 0, "spandsp found digits in the agent's audio");
  assert.equal((await spandspDetect(heard, { sensitive: true })).length, 0, "spandsp (sensitive) found digits in the agent's audio");
}
