import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildTelephoneEventPackets, digitToEvent, eventToDigit, parseTelephoneEvent, serializeTelephoneEvent,
  TelephoneEventReceiver, type KeyPress, type ScheduledRtpPacket, type TelephoneEventNotice,
} from '../../src/media/telephone-event.ts';
import { TelephoneEventParseError } from '../../src/media/errors.ts';
import { parseRtp, serializeRtp } from '../../src/media/rtp-packet.ts';
import { DTMF_DIGITS, type DtmfDigit } from '../../src/dsp/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

test('codec: RFC 4733 §2.3 layout, E and R bits, volume, duration', () => {
  // digit 5, E=1, R=1 (ignored), volume 10, duration 1000
  assert.deepEqual(parseTelephoneEvent(hex('05 ca 03e8')), { event: 5, end: true, volume: 10, duration: 1000 });
  assert.deepEqual(parseTelephoneEvent(hex('0b 3f ffff')), { event: 11, end: false, volume: 63, duration: 0xffff });
  assert.deepEqual(serializeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 1000 }), hex('05 8a 03e8'));
  for (const n of [0, 1, 3, 5, 8]) {
    assert.throws(() => parseTelephoneEvent(new Uint8Array(n)), (e: unknown) => e instanceof TelephoneEventParseError && e.code === 'telephone-event-malformed');
  }
  for (const bad of [{ event: 256 }, { volume: 64 }, { duration: 65536 }, { duration: -1 }]) {
    assert.throws(() => serializeTelephoneEvent({ event: 1, end: false, volume: 1, duration: 1, ...bad }), TelephoneEventParseError);
  }
  // A failure message never contains the event (a digit is card data).
  try { parseTelephoneEvent(hex('09 0a 00')); } catch (e) { assert.doesNotMatch(String((e as Error).message), /9/); }
});

test('codec: event codes map to keys (RFC 4733 §3.2)', () => {
  assert.equal(eventToDigit(10), '*');
  assert.equal(eventToDigit(11), '#');
  assert.equal(eventToDigit(12), 'A');
  assert.equal(eventToDigit(15), 'D');
  assert.equal(eventToDigit(16), null);
  for (const d of DTMF_DIGITS) assert.equal(eventToDigit(digitToEvent(d)), d);
});

test('property: payload round-trip', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
    const e = parseTelephoneEvent(b);
    const back = serializeTelephoneEvent(e);
    assert.deepEqual(back, Uint8Array.from([b[0]!, b[1]! & 0xbf, b[2]!, b[3]!])); // R cleared
  }));
});

// ---- sender ----------------------------------------------------------------------------------------------

const base = { payloadType: 101, ssrc: 0x1234, startTimestamp: 8000, startSequence: 100 };

test('sender: marker on the first packet only, an update every 50 ms, three identical end packets', () => {
  const pk = buildTelephoneEventPackets({ ...base, event: 9, durationSamples: 1600 });
  const evs = pk.map((p) => parseTelephoneEvent(p.packet.payload));
  assert.deepEqual(pk.map((p) => p.packet.marker), [true, ...new Array<boolean>(pk.length - 1).fill(false)]);
  assert.deepEqual(pk.map((p) => p.packet.sequenceNumber), pk.map((_, i) => 100 + i));
  assert.ok(pk.every((p) => p.packet.timestamp === 8000));
  assert.deepEqual(evs.filter((e) => !e.end).map((e) => e.duration), [0, 400, 800, 1200]);
  assert.deepEqual(pk.filter((_, i) => !evs[i]!.end).map((p) => p.offsetMs), [0, 50, 100, 150]);
  const ends = evs.filter((e) => e.end);
  assert.equal(ends.length, 3);
  assert.ok(ends.every((e) => e.duration === 1600 && e.event === 9 && e.volume === 10));
  // Each packet survives the RTP codec.
  for (const p of pk) assert.deepEqual(parseRtp(serializeRtp(p.packet)).payload, p.packet.payload);
});

test('sender: a 10-second event is split into 0xFFFF segments (§2.5.1.3)', () => {
  const pk = buildTelephoneEventPackets({ ...base, event: 1, durationSamples: 80_000, startTimestamp: 0xffffff00 });
  const segTs = [...new Set(pk.map((p) => p.packet.timestamp))];
  assert.deepEqual(segTs, [0xffffff00, (0xffffff00 + 0xffff) >>> 0]);
  const lastOfFirst = pk.filter((p) => p.packet.timestamp === 0xffffff00).at(-1)!;
  assert.equal(parseTelephoneEvent(lastOfFirst.packet.payload).duration, 0xffff);
  const end = parseTelephoneEvent(pk.at(-1)!.packet.payload);
  assert.equal(end.duration, 80_000 - 0xffff);
  assert.equal(pk.filter((p) => p.packet.marker).length, 1);
});

// ---- receiver --------------------------------------------------------------------------------------------

function train(digits: readonly DtmfDigit[], opts: { durationSamples?: number; gapSamples?: number; startTs?: number } = {}): ScheduledRtpPacket[] {
  const dur = opts.durationSamples ?? 800;
  const gap = opts.gapSamples ?? 800;
  let ts = opts.startTs ?? 160_000;
  let seq = 1;
  let clock = 0;
  const out: ScheduledRtpPacket[] = [];
  for (const d of digits) {
    const pk = buildTelephoneEventPackets({ ...base, event: digitToEvent(d), durationSamples: dur, startTimestamp: ts >>> 0, startSequence: seq });
    for (const p of pk) out.push({ offsetMs: clock + p.offsetMs, packet: p.packet });
    seq = (seq + pk.length) & 0xffff;
    ts += dur + gap;
    clock += ((dur + gap) * 1000) / 8000;
  }
  return out;
}

function run(rx: TelephoneEventReceiver, packets: readonly ScheduledRtpPacket[], flush = true): TelephoneEventNotice[] {
  const notices: TelephoneEventNotice[] = [];
  for (const p of packets) notices.push(...rx.push(p.packet, p.offsetMs));
  if (flush) notices.push(...rx.flush());
  return notices;
}

const keys = (n: readonly TelephoneEventNotice[]): KeyPress[] => n.flatMap((x) => (x.type === 'end' ? [x.key] : []));

test('receiver: one key per event from a clean train, with start and end in RTP time', () => {
  const rx = new TelephoneEventReceiver();
  const notices = run(rx, train(['4', '1', '#'], { durationSamples: 960 }));
  assert.deepEqual(notices.map((n) => n.type), ['begin', 'end', 'begin', 'end', 'begin', 'end']);
  const k = keys(notices);
  assert.deepEqual(k.map((x) => x.digit), ['4', '1', '#']);
  assert.deepEqual(k.map((x) => x.startTimestamp), [160_000, 161_760, 163_520]);
  assert.ok(k.every((x) => x.durationSamples === 960 && x.endReceived));
  assert.equal(k[0]!.endTimestamp, 160_960);
  assert.equal(rx.stats.duplicates, 6); // the 2nd and 3rd E packet of each event (§2.5.1.4)
});

test('receiver: lost start packets, lost end packets, timeout and flush', () => {
  const pk = train(['7', '8']);
  // 7: drop the first two packets (marker lost); 8: drop all three end packets.
  const seven = pk.filter((p) => p.packet.timestamp === 160_000);
  const eight = pk.filter((p) => p.packet.timestamp !== 160_000);
  const lossy = [...seven.slice(2), ...eight.filter((p) => !parseTelephoneEvent(p.packet.payload).end)];
  const rx = new TelephoneEventReceiver({ timeoutMs: 300 });
  const n = run(rx, lossy, false);
  assert.deepEqual(keys(n).map((k) => [k.digit, k.endReceived]), [['7', true]]);
  assert.equal(rx.stats.startsMissing, 1);
  assert.equal(rx.active, true);
  const last = lossy.at(-1)!.offsetMs;
  assert.deepEqual(rx.poll(last + 299), []);
  const timedOut = keys(rx.poll(last + 300));
  assert.deepEqual(timedOut.map((k) => [k.digit, k.endReceived, k.durationSamples]), [['8', false, 400]]);
  assert.equal(rx.stats.endsMissing, 1);
  assert.deepEqual(rx.flush(), []);
  // A straggler of the closed event is a duplicate, not a new key.
  const before = rx.stats.duplicates;
  assert.equal(before, 2); // the 2nd and 3rd E packet of '7'
  assert.deepEqual(rx.push(eight.at(-1)!.packet, last + 400), []);
  assert.equal(rx.stats.duplicates, before + 1);
});

test('receiver: a new timestamp closes an event whose end was lost; same digit twice = two keys', () => {
  const pk = train(['3', '3']).filter((p) => !(p.packet.timestamp === 160_000 && parseTelephoneEvent(p.packet.payload).end));
  const k = keys(run(new TelephoneEventReceiver(), pk));
  assert.deepEqual(k.map((x) => [x.digit, x.endReceived]), [['3', false], ['3', true]]);
});

test('receiver: a long event is one key press across segments', () => {
  const pk = train(['0'], { durationSamples: 200_000 });
  const rx = new TelephoneEventReceiver();
  const n = run(rx, pk);
  assert.deepEqual(n.map((x) => x.type), ['begin', 'end']);
  assert.equal(keys(n)[0]!.durationSamples, 200_000);
  assert.equal(keys(n)[0]!.startTimestamp, 160_000);
});

test('receiver: timestamps wrap around 2^32', () => {
  const pk = train(['1', '2', '3'], { startTs: 2 ** 32 - 1000 });
  const k = keys(run(new TelephoneEventReceiver(), pk));
  assert.deepEqual(k.map((x) => x.digit), ['1', '2', '3']);
  assert.equal(k[1]!.startTimestamp, (2 ** 32 - 1000 + 1600) >>> 0);
});

test('receiver: late packets of an older unseen event are dropped, conflicts and malformed payloads ignored', () => {
  const pk = train(['5', '6']);
  const five = pk.filter((p) => p.packet.timestamp === 160_000);
  const six = pk.filter((p) => p.packet.timestamp !== 160_000);
  const rx = new TelephoneEventReceiver();
  const n = run(rx, [six[0]!, five[1]!, ...six.slice(1)]);
  assert.deepEqual(keys(n).map((k) => k.digit), ['6']);
  assert.equal(rx.stats.late, 1);
  const conflict = { ...six[1]!.packet, payload: serializeTelephoneEvent({ event: 1, end: false, volume: 10, duration: 400 }) };
  const rx2 = new TelephoneEventReceiver();
  assert.equal(rx2.push(six[0]!.packet, 0).length, 1);
  assert.deepEqual(rx2.push(conflict, 1), []);
  assert.deepEqual(rx2.push({ ...six[1]!.packet, payload: new Uint8Array(3) }, 2), []);
  assert.equal(rx2.stats.conflicts, 1);
  assert.equal(rx2.stats.malformed, 1);
});

test('property: under loss, duplication and reordering each event yields at most one key, in order', () => {
  const arbDigits = fc.array(fc.constantFrom(...DTMF_DIGITS), { minLength: 1, maxLength: 8 });
  fc.assert(fc.property(arbDigits, fc.integer({ min: 160, max: 4000 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 400 }), (digits, dur, dice) => {
    const pk = train(digits, { durationSamples: dur, gapSamples: 400 });
    const seen = new Set<number>();
    const mangled: ScheduledRtpPacket[] = [];
    pk.forEach((p, i) => {
      const d = dice[i % Math.max(1, dice.length)] ?? 5;
      if (d === 0) return; // lost
      mangled.push(p);
      if (d === 1) mangled.push(p); // duplicated by the network
      if (d === 2 && mangled.length >= 2) { // swapped with the previous packet
        const a = mangled[mangled.length - 2]!;
        mangled[mangled.length - 2] = mangled[mangled.length - 1]!;
        mangled[mangled.length - 1] = a;
      }
      seen.add(p.packet.timestamp);
    });
    const n = run(new TelephoneEventReceiver(), mangled.map((p, i) => ({ ...p, offsetMs: i })));
    const k = keys(n);
    const begins = n.filter((x) => x.type === 'begin').length;
    assert.equal(begins, k.length);
    // Every key is a sent key, in order, none twice.
    const sentTs = pk.filter((p) => p.packet.marker).map((p) => p.packet.timestamp);
    const gotTs = k.map((x) => x.startTimestamp);
    let j = 0;
    for (const t of gotTs) {
      while (j < sentTs.length && sentTs[j] !== t) j++;
      assert.ok(j < sentTs.length, 'a key out of order or invented');
      j++;
    }
    for (const x of k) assert.equal(x.digit, digits[sentTs.indexOf(x.startTimestamp)]);
    if (dice.every((d) => d >= 3)) assert.deepEqual(k.map((x) => x.digit), digits);
  }), { numRuns: 300 });
});
