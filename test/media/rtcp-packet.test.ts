import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseRtcp, rtcpSenderSsrc, sdesCname, sdesWithCname, serializeRtcp, type RtcpPacket, type RtcpReportBlock,
} from '../../src/media/rtcp-packet.ts';
import { RtcpParseError } from '../../src/media/errors.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// A compound as a softphone sends it: SR with one report block, then SDES with a CNAME (RFC 3550 §6.1).
const SR_SDES = hex(`
  81 c8 000c  11223344
  e8d4a510 80000000  00012345  0000000a  00000640
  55667788  05 fffffe  0001 0203  00000010  a5100000  00008000
  81 ca 0004  11223344  01 09 616c696365406c6f63  00
`);

test('parses SR + SDES field by field (hand-assembled fixture)', () => {
  const [sr, sdes, ...rest] = parseRtcp(SR_SDES);
  assert.equal(rest.length, 0);
  assert.ok(sr?.type === 'sr');
  assert.equal(sr.ssrc, 0x11223344);
  assert.equal(sr.ntpSeconds, 0xe8d4a510);
  assert.equal(sr.ntpFraction, 0x80000000);
  assert.equal(sr.rtpTimestamp, 0x12345);
  assert.equal(sr.packetCount, 10);
  assert.equal(sr.octetCount, 1600);
  assert.deepEqual(sr.reports, [{
    ssrc: 0x55667788, fractionLost: 5, cumulativeLost: -2, highestSequence: 0x00010203, jitter: 16, lastSr: 0xa5100000, delaySinceLastSr: 0x8000,
  } satisfies RtcpReportBlock]);
  assert.equal(sr.extension.length, 0);
  assert.ok(sdes?.type === 'sdes');
  assert.equal(sdes.chunks[0]?.ssrc, 0x11223344);
  assert.equal(sdesCname(sdes.chunks[0]!), 'alice@loc');
  assert.deepEqual(serializeRtcp(parseRtcp(SR_SDES)), SR_SDES);
  assert.equal(rtcpSenderSsrc(SR_SDES), 0x11223344);
});

test('RR, BYE with reason, APP, feedback and unknown packets round-trip', () => {
  const packets: RtcpPacket[] = [
    { type: 'rr', ssrc: 7, reports: [], extension: new Uint8Array(0) },
    sdesWithCname(7, 'cardline'),
    { type: 'rtpfb', fmt: 1, senderSsrc: 7, mediaSsrc: 9, fci: hex('00050003') },
    { type: 'psfb', fmt: 1, senderSsrc: 7, mediaSsrc: 9, fci: new Uint8Array(0) },
    { type: 'app', subtype: 3, ssrc: 7, name: 'CRDL', data: hex('01020304') },
    { type: 'unknown', packetType: 207, count: 0, body: hex('00000007 01000002 aabbccdd 00000000') },
    { type: 'bye', ssrcs: [7, 8], reason: new TextEncoder().encode('hangup') },
  ];
  const bytes = serializeRtcp(packets);
  assert.equal(bytes.length % 4, 0);
  const back = parseRtcp(bytes);
  assert.deepEqual(back, packets);
  assert.deepEqual(serializeRtcp(back), bytes);
});

test('Appendix A.2 validity checks', () => {
  const rr = 'c9'; // 201
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['not a multiple of 4', '80c90001 0000000100'],
    ['version 1', `40${rr}0001 00000001`],
    ['first packet is SDES', '81ca0002 00000001 00000000'],
    ['first packet is BYE', '81cb0001 00000001'],
    ['length past datagram', `80${rr}0004 00000001`],
    ['RR count exceeds body', `81${rr}0001 00000001`],
    ['SR too short', '80c80001 00000001'],
    ['padding on a non-final packet', `a0${rr}0001 00000004 81ca0002 00000001 00000000`],
    ['padding count 0', `a0${rr}0001 00000000`],
    ['padding count too big', `a0${rr}0001 00000009`],
    ['second packet version 0', `80${rr}0001 00000001 01ca0002 00000001 01000000`],
    ['SDES item overruns', `80${rr}0001 00000001 81ca0002 00000001 01090000`],
    ['SDES without null item', `80${rr}0001 00000001 81ca0002 00000001 01026162`],
    ['SDES with fewer chunks than SC', `80${rr}0001 00000001 82ca0002 00000001 00000000`],
    ['BYE with fewer SSRCs than SC', `80${rr}0001 00000001 82cb0001 00000001`],
    ['BYE reason overruns', `80${rr}0001 00000001 81cb0002 00000001 09616263`],
    ['APP too short', `80${rr}0001 00000001 80cc0001 00000001`],
    ['feedback too short', `80${rr}0001 00000001 81cd0001 00000001`],
  ];
  for (const [name, h] of bad) {
    assert.throws(() => parseRtcp(hex(h)), (e: unknown) => e instanceof RtcpParseError && e.code === 'rtcp-malformed', name);
  }
  // RFC 5506 reduced-size: a lone feedback packet is accepted only when asked for.
  const pli = hex('81ce0002 00000007 00000009');
  assert.throws(() => parseRtcp(pli), RtcpParseError);
  assert.equal(parseRtcp(pli, { reducedSize: true })[0]?.type, 'psfb');
});

test('padding on the last packet is removed and the rest kept', () => {
  const p = parseRtcp(hex('80c90001 00000001 a1cb0002 00000009 00000004'));
  assert.deepEqual(p[1], { type: 'bye', ssrcs: [9], reason: null });
});

test('serialize refuses out-of-range fields', () => {
  const block: RtcpReportBlock = { ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSequence: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 };
  const bad: RtcpPacket[][] = [
    [],
    [{ type: 'rr', ssrc: 1, reports: new Array<RtcpReportBlock>(32).fill(block), extension: new Uint8Array(0) }],
    [{ type: 'rr', ssrc: 1, reports: [{ ...block, cumulativeLost: 0x800000 }], extension: new Uint8Array(0) }],
    [{ type: 'rr', ssrc: 1, reports: [{ ...block, fractionLost: 256 }], extension: new Uint8Array(0) }],
    [{ type: 'rr', ssrc: 2 ** 32, reports: [], extension: new Uint8Array(0) }],
    [{ type: 'rr', ssrc: 1, reports: [], extension: new Uint8Array(3) }],
    [{ type: 'app', subtype: 32, ssrc: 1, name: 'ABCD', data: new Uint8Array(0) }],
    [{ type: 'app', subtype: 0, ssrc: 1, name: 'ABC', data: new Uint8Array(0) }],
    [{ type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 0, data: new Uint8Array(0) }] }] }],
    [{ type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, data: new Uint8Array(256) }] }] }],
    [{ type: 'bye', ssrcs: [1], reason: new Uint8Array(256) }],
    [{ type: 'unknown', packetType: 200, count: 0, body: new Uint8Array(0) }],
    [{ type: 'unknown', packetType: 100, count: 0, body: new Uint8Array(0) }],
  ];
  for (const b of bad) assert.throws(() => serializeRtcp(b), RtcpParseError, JSON.stringify(b[0]?.type));
});

// ---- property tests ------------------------------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const words = (max: number): fc.Arbitrary<Uint8Array> => fc.integer({ min: 0, max }).chain((w) => fc.uint8Array({ minLength: w * 4, maxLength: w * 4 }));
const arbBlock: fc.Arbitrary<RtcpReportBlock> = fc.record({
  ssrc: u32, fractionLost: fc.integer({ min: 0, max: 255 }), cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
  highestSequence: u32, jitter: u32, lastSr: u32, delaySinceLastSr: u32,
});
const arbReport: fc.Arbitrary<RtcpPacket> = fc.oneof(
  fc.record({ type: fc.constant('sr' as const), ssrc: u32, ntpSeconds: u32, ntpFraction: u32, rtpTimestamp: u32, packetCount: u32, octetCount: u32, reports: fc.array(arbBlock, { maxLength: 4 }), extension: words(2) }),
  fc.record({ type: fc.constant('rr' as const), ssrc: u32, reports: fc.array(arbBlock, { maxLength: 4 }), extension: words(2) }),
);
const arbOther: fc.Arbitrary<RtcpPacket> = fc.oneof(
  arbReport,
  fc.record({ type: fc.constant('sdes' as const), chunks: fc.array(fc.record({ ssrc: u32, items: fc.array(fc.record({ type: fc.integer({ min: 1, max: 255 }), data: fc.uint8Array({ maxLength: 20 }) }), { maxLength: 3 }) }), { maxLength: 3 }) }),
  fc.record({ type: fc.constant('bye' as const), ssrcs: fc.array(u32, { maxLength: 3 }), reason: fc.option(fc.uint8Array({ maxLength: 30 }), { nil: null }) }),
  fc.record({ type: fc.constant('app' as const), subtype: fc.integer({ min: 0, max: 31 }), ssrc: u32, name: fc.string({ minLength: 4, maxLength: 4, unit: 'binary-ascii' }), data: words(3) }),
  fc.record({ type: fc.constantFrom('rtpfb' as const, 'psfb' as const), fmt: fc.integer({ min: 0, max: 31 }), senderSsrc: u32, mediaSsrc: u32, fci: words(3) }),
  fc.record({ type: fc.constant('unknown' as const), packetType: fc.integer({ min: 207, max: 223 }), count: fc.integer({ min: 0, max: 31 }), body: words(3) }),
);

test('property: compounds round-trip exactly', () => {
  fc.assert(fc.property(arbReport, fc.array(arbOther, { maxLength: 4 }), (first, rest) => {
    const packets = [first, ...rest];
    const bytes = serializeRtcp(packets);
    assert.deepEqual(parseRtcp(bytes), structuredClone(packets)); // structuredClone: fast-check records have a null prototype
  }), { numRuns: 400 });
});

test('fuzz: arbitrary and mutated datagrams parse or throw RtcpParseError only', () => {
  const seed = serializeRtcp([
    { type: 'sr', ssrc: 1, ntpSeconds: 2, ntpFraction: 3, rtpTimestamp: 4, packetCount: 5, octetCount: 6, reports: [{ ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSequence: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 }], extension: new Uint8Array(0) },
    sdesWithCname(1, 'x@y'), { type: 'bye', ssrcs: [1], reason: new Uint8Array([65]) },
  ]);
  const mutated = fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }).map((muts) => {
    const b = seed.slice();
    for (const [i, v] of muts) b[i] = v;
    return b;
  });
  const arb = fc.oneof(fc.uint8Array({ maxLength: 120 }), mutated, mutated.chain((b) => fc.nat(b.length).map((n) => b.subarray(0, n))));
  fc.assert(fc.property(arb, fc.boolean(), (b, reducedSize) => {
    try {
      const packets = parseRtcp(b, { reducedSize });
      assert.ok(packets.length >= 1);
    } catch (e) {
      assert.ok(e instanceof RtcpParseError, String(e));
    }
  }), { numRuns: 3000 });
});
