/**
 * RtcpReporter (RFC 3550 §6.4) with injected clocks: SR vs RR, sender info extrapolated to the report time, the
 * report block's loss/fraction (A.3), LSR/DLSR, SDES CNAME and BYE.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ntpFromUnixMs, ntpMiddle32, parseRtcp, RtcpReporter, sdesCname, serializeRtcp } from '../../src/media/index.ts';

describe('RtcpReporter', () => {
  it('RR before sending; SR with counts and the RTP time advanced to the report; RR again after two silent reports', () => {
    const r = new RtcpReporter({ cname: 'leg@cardline' });
    const [rr, sdes] = r.report(0x1234, 0, 0);
    assert.deepEqual(rr, { type: 'rr', ssrc: 0x1234, reports: [], extension: new Uint8Array(0) });
    assert.ok(sdes?.type === 'sdes' && sdesCname(sdes.chunks[0]!) === 'leg@cardline' && sdes.chunks[0]!.ssrc === 0x1234);
    r.sent(16_000 - 160, 160, 80);
    r.sent(16_000, 160, 100);
    const [sr] = r.report(0x1234, 600, 1500);
    assert.ok(sr?.type === 'sr');
    assert.deepEqual([sr.packetCount, sr.octetCount, sr.rtpTimestamp], [2, 320, 16_000 + 4000], '500 ms after the last packet = 4000 samples later');
    assert.deepEqual([sr.ntpSeconds, sr.ntpFraction], [2_208_988_801, 0x80000000], 'Unix 1.5 s as NTP');
    assert.equal(r.report(0x1234, 5600, 6500)[0]?.type, 'sr', 'still a sender: data since the report before last');
    assert.equal(r.report(0x1234, 10600, 11500)[0]?.type, 'rr', 'nothing sent in the last two intervals');
    const withBye = r.report(0x1234, 11000, 12000, { bye: true });
    assert.deepEqual(withBye.map((p) => p.type), ['rr', 'sdes', 'bye']);
    assert.deepEqual(parseRtcp(serializeRtcp(withBye)).map((p) => p.type), ['rr', 'sdes', 'bye'], 'a valid compound');
  });

  it('report block: loss and fraction since the last report (RFC 3550 A.3), jitter, LSR/DLSR from the source SR', () => {
    const r = new RtcpReporter({ cname: 'x' });
    assert.equal(r.report(1, 0, 0)[0]?.type, 'rr');
    // seq 0 and 1 end probation (statistics start at 1); 2..20 arrive without 10..14
    for (let s = 0; s <= 20; s++) if (s < 10 || s > 14) r.received(0xabc, s, s * 160, s * 20);
    let [p] = r.report(1, 500, 0);
    assert.ok(p?.type === 'rr');
    let b = p.reports[0]!;
    assert.deepEqual([b.ssrc, b.highestSequence, b.cumulativeLost, b.fractionLost], [0xabc, 20, 5, Math.floor((5 * 256) / 20)]);
    assert.equal(b.jitter, 0, 'packets arrived exactly on their timestamps');
    assert.deepEqual([b.lastSr, b.delaySinceLastSr], [0, 0]);
    // an SR from another source is ignored; from the reported source it sets LSR, DLSR counts from its arrival
    const sr = { type: 'sr' as const, ntpSeconds: 0x0001_2345, ntpFraction: 0x6789_0000, rtpTimestamp: 0, packetCount: 0, octetCount: 0, reports: [], extension: new Uint8Array(0) };
    r.rtcpReceived([{ ...sr, ssrc: 0xdead }], 900);
    r.rtcpReceived([{ ...sr, ssrc: 0xabc }], 1000);
    for (let s = 21; s <= 30; s++) r.received(0xabc, s, s * 160, s * 20);
    [p] = r.report(1, 1500, 0);
    assert.ok(p?.type === 'rr');
    b = p.reports[0]!;
    assert.deepEqual([b.fractionLost, b.cumulativeLost], [0, 5], 'no new loss since the previous report');
    assert.deepEqual([b.lastSr, b.delaySinceLastSr], [ntpMiddle32(0x0001_2345, 0x6789_0000), 32768], 'LSR 0x23456789, DLSR 0.5 s');
    assert.equal(b.lastSr, 0x2345_6789);
  });

  it('NTP conversion and CNAME bounds', () => {
    assert.deepEqual(ntpFromUnixMs(0), { seconds: 2_208_988_800, fraction: 0 });
    assert.deepEqual(ntpFromUnixMs(250), { seconds: 2_208_988_800, fraction: 0x40000000 });
    assert.throws(() => new RtcpReporter({ cname: '' }), RangeError);
    assert.throws(() => new RtcpReporter({ cname: 'x'.repeat(256) }), RangeError);
  });
});
