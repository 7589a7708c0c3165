import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReorderBuffer } from '../../src/media/reorder-buffer.ts';
import { RtpSourceStats } from '../../src/media/rtp-source-stats.ts';
import { RtpStreamRewriter, type RtpHeaderFields } from '../../src/media/stream-rewriter.ts';

// ---- RFC 3550 A.1/A.3/A.8 source statistics ------------------------------------------------------------

test('source stats: probation, wrap, loss, duplicates and a confirmed restart (A.1)', () => {
  const s = new RtpSourceStats(7, 65530);
  assert.equal(s.updateSeq(65530), false); // probation
  assert.equal(s.valid, false);
  assert.equal(s.updateSeq(65531), true);
  assert.equal(s.valid, true);
  for (const q of [65532, 65533, 65535, 0, 1, 1, 3]) assert.equal(s.updateSeq(q), true); // 65534 and 2 lost, 1 duplicated
  assert.equal(s.extendedMaxSeq, 0x10000 + 3);
  assert.equal(s.expected, 0x10000 + 3 - 65531 + 1); // 9
  assert.equal(s.received, 8);
  assert.equal(s.cumulativeLost, 1);
  const rb = s.reportBlock();
  assert.equal(rb.highestSequence, 0x10003);
  assert.equal(rb.fractionLost, Math.floor((1 * 256) / 9));
  assert.equal(s.reportBlock().fractionLost, 0); // nothing new since the last report
  // A wild jump is ignored once, believed when the next packet follows it.
  assert.equal(s.updateSeq(30000), false);
  assert.equal(s.updateSeq(30001), true);
  assert.equal(s.extendedMaxSeq, 30001);
  assert.equal(s.received, 1);
});

test('source stats: A.8 jitter of a perfectly paced stream is 0 and grows with arrival noise', () => {
  const paced = new RtpSourceStats(1, 0);
  const noisy = new RtpSourceStats(2, 0);
  for (let i = 0; i < 200; i++) {
    paced.updateSeq(i);
    paced.updateJitter(i * 160, 5000 + i * 160);
    noisy.updateSeq(i);
    noisy.updateJitter(i * 160, 5000 + i * 160 + (i % 2 === 0 ? 0 : 80));
  }
  assert.equal(paced.jitter, 0);
  assert.ok(noisy.jitter > 60 && noisy.jitter <= 80, String(noisy.jitter)); // |D| = 80 every packet → J → 80
});

// ---- reorder buffer ------------------------------------------------------------------------------------

test('reorder buffer: in-order passes straight through, a swap is fixed, a gap waits maxDelay packets', () => {
  const rb = new ReorderBuffer<number>({ maxDelayPackets: 2 });
  assert.deepEqual(rb.push(100, 100), [100]);
  assert.deepEqual(rb.push(102, 102), []);
  assert.deepEqual(rb.push(101, 101), [101, 102]);
  assert.deepEqual(rb.push(104, 104), []); // 103 missing
  assert.deepEqual(rb.push(105, 105), []);
  assert.deepEqual(rb.push(106, 106), [104, 105, 106]); // third waiting packet: 103 declared lost
  assert.deepEqual(rb.push(103, 103), []); // late
  assert.deepEqual(rb.push(106, 106), []); // duplicate
  assert.deepEqual(rb.stats, { received: 8, released: 6, lost: 1, duplicates: 1, late: 1, invalid: 0, resets: 0 });
});

test('reorder buffer: wrap-around, flush, large jumps (A.1) and maxDelay 0', () => {
  const rb = new ReorderBuffer<number>({ maxDelayPackets: 3 });
  assert.deepEqual(rb.push(65534, 1), [1]);
  assert.deepEqual(rb.push(0, 3), []);
  assert.deepEqual(rb.push(65535, 2), [2, 3]);
  assert.deepEqual(rb.push(2, 5), []);
  assert.deepEqual(rb.flush(), [5]);
  assert.equal(rb.stats.lost, 1);
  assert.deepEqual(rb.push(20000, 6), []); // wild: dropped once
  assert.equal(rb.stats.invalid, 1);
  assert.deepEqual(rb.push(20001, 7), [7]); // confirmed: restart there
  assert.equal(rb.stats.resets, 1);
  assert.deepEqual(rb.push(20002, 8), [8]);
  const zero = new ReorderBuffer<number>({ maxDelayPackets: 0 });
  assert.deepEqual(zero.push(10, 10), [10]);
  assert.deepEqual(zero.push(12, 12), [12]);
  assert.deepEqual(zero.push(11, 11), []);
  assert.equal(zero.stats.late, 1);
});

test('property: output is strictly increasing, each number at most once, at most maxDelay held, nothing invented', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 6 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 300 }),
    (start, maxDelay, dice) => {
      // A stream of 300 sequence numbers (wrapping), with loss, duplication and local swaps.
      const sent = Array.from({ length: 300 }, (_, i) => i);
      // Each packet is lost (0), duplicated (1), delayed by 2.5 packet times (2) or on time; network order
      // is by arrival time, so a packet is displaced by at most 3 places.
      const timed: Array<[number, number]> = [];
      sent.forEach((i) => {
        const d = dice[i % dice.length] as number;
        if (d === 0) return;
        timed.push([i + (d === 2 ? 2.5 : 0), i]);
        if (d === 1) timed.push([i + 0.1, i]);
      });
      const arrivals = timed.sort((a, b) => a[0] - b[0]).map(([, i]) => i);
      const rb = new ReorderBuffer<number>({ maxDelayPackets: maxDelay });
      const out: number[] = [];
      for (const i of arrivals) {
        out.push(...rb.push((start + i) & 0xffff, i));
        assert.ok(rb.pending <= maxDelay);
      }
      out.push(...rb.flush());
      for (let k = 1; k < out.length; k++) assert.ok((out[k] as number) > (out[k - 1] as number), 'not increasing');
      assert.ok(out.every((i) => arrivals.includes(i)));
      const st = rb.stats;
      assert.equal(st.received, arrivals.length);
      assert.equal(st.released, out.length);
      assert.equal(st.released + st.duplicates + st.late + st.invalid, st.received);
      assert.equal(st.resets, 0);
      if (dice.every((d) => d >= 3)) assert.deepEqual(out, sent);
    },
  ), { numRuns: 400 });
});

// ---- stream rewriter -----------------------------------------------------------------------------------

const pkt = (ssrc: number, seq: number, ts: number, marker = false): RtpHeaderFields => ({ ssrc, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, marker });

test('rewriter: own SSRC, continuous numbering from the initial values, jumps and gaps preserved', () => {
  const rw = new RtpStreamRewriter({ ssrc: 0xabc, initialSequence: 65534, initialTimestamp: 2 ** 32 - 160 });
  const a = rw.rewrite(pkt(1, 500, 8000), 0);
  assert.deepEqual(a, { ssrc: 0xabc, sequenceNumber: 65534, timestamp: 2 ** 32 - 160, marker: true });
  assert.deepEqual(rw.rewrite(pkt(1, 501, 8160), 20), { ssrc: 0xabc, sequenceNumber: 65535, timestamp: 0, marker: false });
  // Silence suppression: +1 packet in sequence, +1 s in time.
  assert.deepEqual(rw.rewrite(pkt(1, 502, 16160), 1020), { ssrc: 0xabc, sequenceNumber: 0, timestamp: 8000, marker: false });
  // Upstream loss of 503: the gap is kept.
  assert.equal(rw.rewrite(pkt(1, 504, 16480), 1060).sequenceNumber, 2);
});

test('rewriter: skipped packets leave no gap; reserved numbers are never reused', () => {
  const rw = new RtpStreamRewriter({ ssrc: 1, initialSequence: 10, initialTimestamp: 0 });
  rw.rewrite(pkt(9, 100, 0), 0);
  rw.skip(pkt(9, 101, 160));
  rw.skip(pkt(9, 102, 320));
  assert.equal(rw.rewrite(pkt(9, 103, 480), 60).sequenceNumber, 11);
  const r = rw.reserve();
  assert.equal(r.sequenceNumber, 12);
  assert.equal(r.timestamp, 480);
  assert.equal(rw.rewrite(pkt(9, 104, 640), 80).sequenceNumber, 13);
  assert.equal(rw.sent, 4);
});

test('rewriter: a new source continues after the last packet, time advanced by the wall clock, marker set', () => {
  const rw = new RtpStreamRewriter({ ssrc: 1, initialSequence: 0, initialTimestamp: 1000 });
  for (let i = 0; i < 5; i++) rw.rewrite(pkt(0xaaa, 40000 + i, 123456 + i * 160), i * 20);
  // Another phone answers (re-INVITE): new SSRC, unrelated numbers, 500 ms after the last packet.
  const b = rw.rewrite(pkt(0xbbb, 7, 999), 80 + 500);
  assert.deepEqual(b, { ssrc: 1, sequenceNumber: 5, timestamp: 1000 + 4 * 160 + 4000, marker: true });
  assert.deepEqual(rw.rewrite(pkt(0xbbb, 8, 1159), 600), { ssrc: 1, sequenceNumber: 6, timestamp: 1000 + 4 * 160 + 4000 + 160, marker: false });
  // Same SSRC but the sender restarted its sequence (A.1 large jump): also a new timeline, no overlap.
  const c = rw.rewrite(pkt(0xbbb, 30000, 50), 601);
  assert.equal(c.sequenceNumber, 7);
  assert.equal(c.timestamp, 1000 + 4 * 160 + 4000 + 160 + 160); // at least one frame on
  assert.equal(c.marker, true);
});

test('property: outgoing numbers of an in-order stream with source changes and skips are consecutive', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 9 })), { minLength: 1, maxLength: 200 }), (steps) => {
    const rw = new RtpStreamRewriter();
    let ssrc = 1;
    let seq = 100;
    let ts = 0;
    let t = 0;
    const out: RtpHeaderFields[] = [];
    for (const [kind, roll] of steps) {
      t += 20;
      if (kind === 2 && roll < 3) { // an injected packet: no input packet consumed
        out.push({ ...rw.reserve(), marker: false });
        continue;
      }
      if (kind === 0 && roll === 0) { ssrc++; seq = roll * 1000; ts = roll * 7; }
      seq = (seq + 1) & 0xffff;
      ts = (ts + 160) >>> 0;
      if (kind === 1) rw.skip(pkt(ssrc, seq, ts));
      else out.push(rw.rewrite(pkt(ssrc, seq, ts), t));
    }
    for (let k = 1; k < out.length; k++) assert.equal(out[k]!.sequenceNumber, (out[k - 1]!.sequenceNumber + 1) & 0xffff);
    assert.ok(out.every((o) => o.ssrc === rw.ssrc));
  }), { numRuns: 300 });
});
