import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  looksLikeRtcp, parseRtp, rtpHeaderLength, rtpPacketLength, serializeRtp, serializeRtpInto, type RtpPacket,
} from '../../src/media/rtp-packet.ts';
import {
  parseHeaderExtensionElements, serializeHeaderExtensionElements,
} from '../../src/media/rtp-header-extension.ts';
import { MediaParseError, RtpParseError } from '../../src/media/errors.ts';
import { CardlineError } from '../../src/errors/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

test('parses a plain PCMU packet field by field (hand-assembled fixture)', () => {
  // V=2 P=0 X=0 CC=0 | M=1 PT=0 | seq 0x1234 | ts 0xdeadbeef | SSRC 0x01020304 | 4 payload octets
  const p = parseRtp(hex('80 80 1234 deadbeef 01020304 ff7f0001'));
  assert.equal(p.marker, true);
  assert.equal(p.payloadType, 0);
  assert.equal(p.sequenceNumber, 0x1234);
  assert.equal(p.timestamp, 0xdeadbeef);
  assert.equal(p.ssrc, 0x01020304);
  assert.deepEqual(p.csrcs, []);
  assert.equal(p.extension, null);
  assert.deepEqual([...p.payload], [0xff, 0x7f, 0x00, 0x01]);
  assert.equal(p.paddingLength, 0);
});

test('CSRC list, header extension and padding are all honoured', () => {
  // V=2 P=1 X=1 CC=2, M=0 PT=101, CSRCs 0xaaaaaaaa 0xbbbbbbbb, ext profile 0xbede len 1 word, payload 2, pad 3
  const bytes = hex('b2 65 0001 00000010 00000020 aaaaaaaa bbbbbbbb bede 0001 10 ab 00 00 0102 0000 03');
  const p = parseRtp(bytes);
  assert.equal(p.payloadType, 101);
  assert.deepEqual(p.csrcs, [0xaaaaaaaa, 0xbbbbbbbb]);
  assert.equal(p.extension?.profile, 0xbede);
  assert.deepEqual([...(p.extension?.data ?? [])], [0x10, 0xab, 0, 0]);
  assert.deepEqual([...p.payload], [1, 2]);
  assert.equal(p.paddingLength, 3);
  assert.deepEqual(serializeRtp(p), bytes);
  assert.equal(rtpHeaderLength(bytes), 12 + 8 + 8);
  const ext = parseHeaderExtensionElements(p.extension!);
  assert.equal(ext?.form, 'one-byte');
  assert.deepEqual(ext?.elements.map((e) => [e.id, [...e.data]]), [[1, [0xab]]]);
});

test('refuses every malformed header with a typed, catalogued error', () => {
  const bad: Array<[string, string]> = [
    ['short', '80 00 0001 00000001'],
    ['version 1', '40 00 0001 00000001 00000001'],
    ['version 0', '00 00 0001 00000001 00000001'],
    ['CSRC overrun', '83 00 0001 00000001 00000001 00000002'],
    ['extension header missing', '90 00 0001 00000001 00000001 bede'],
    ['extension body overrun', '90 00 0001 00000001 00000001 bede 0002 00000000'],
    ['padding count 0', 'a0 00 0001 00000001 00000001 0000 00'],
    ['padding larger than the payload', 'a0 00 0001 00000001 00000001 00 05'],
    ['padding reaching into the header', 'a0 00 0001 00000001 00000001 0d'],
    ['P set, nothing after the header', 'a0 00 0001 00000001 00000001'],
    ['RTCP SR lookalike', '80 c8 0001 00000001 00000001'],
  ];
  for (const [name, h] of bad) {
    assert.throws(() => parseRtp(hex(h)), (e: unknown) => {
      assert.ok(e instanceof RtpParseError, name);
      assert.ok(e instanceof MediaParseError && e instanceof CardlineError);
      assert.equal(e.code, 'rtp-malformed');
      assert.equal(e.status, 400);
      return true;
    }, name);
  }
});

test('padding may take every octet after the header (payload empty)', () => {
  const p = parseRtp(hex('a0 00 0001 00000001 00000001 000002'));
  assert.equal(p.payload.length, 1);
  const q = parseRtp(hex('a0 00 0001 00000001 00000001 0003'.replace('0003', '00 00 03')));
  assert.equal(q.payload.length, 0);
  assert.equal(q.paddingLength, 3);
});

test('the parsed packet does not alias the input buffer unless asked to', () => {
  const buf = hex('80 00 0001 00000001 00000001 01020304');
  const p = parseRtp(buf);
  buf.fill(0xee);
  assert.deepEqual([...p.payload], [1, 2, 3, 4]);
  const buf2 = hex('80 00 0001 00000001 00000001 01020304');
  const q = parseRtp(buf2, { copy: false });
  buf2[12] = 9;
  assert.equal(q.payload[0], 9);
});

test('serialize refuses out-of-range fields', () => {
  const base: RtpPacket = {
    marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, csrcs: [], extension: null, payload: new Uint8Array(1), paddingLength: 0,
  };
  const bad: Array<Partial<RtpPacket>> = [
    { payloadType: 128 }, { payloadType: -1 }, { sequenceNumber: 65536 }, { timestamp: 2 ** 32 }, { ssrc: 1.5 },
    { csrcs: new Array<number>(16).fill(1) }, { paddingLength: 256 }, { extension: { profile: 1, data: new Uint8Array(3) } },
    { marker: true, payloadType: 72 }, { csrcs: [-1] },
  ];
  for (const b of bad) assert.throws(() => serializeRtp({ ...base, ...b }), RtpParseError, JSON.stringify(Object.keys(b)));
});

test('RFC 5761 demux: RTCP packet types 192..223 vs RTP', () => {
  assert.equal(looksLikeRtcp(hex('80 c8 0006')), true); // SR
  assert.equal(looksLikeRtcp(hex('81 cd 0002')), true); // RTPFB
  assert.equal(looksLikeRtcp(hex('80 00')), false);
  assert.equal(looksLikeRtcp(hex('80 e5')), false); // PT 101 with marker = 229
  assert.equal(looksLikeRtcp(hex('80')), false);
});

// ---- RFC 8285 elements ---------------------------------------------------------------------------------

test('one-byte extension elements: padding octets skipped, ID 15 stops parsing, overruns refused', () => {
  const ext = { profile: 0xbede, data: hex('00 21 aabb 00 f0 99 00') };
  const p = parseHeaderExtensionElements(ext);
  assert.deepEqual(p?.elements.map((e) => [e.id, [...e.data]]), [[2, [0xaa, 0xbb]]]);
  // 0x21 = ID 2, L=1 → 2 octets (aa bb); then cc is a header: ID 12, L=12 → 13 octets: overruns.
  assert.throws(() => parseHeaderExtensionElements({ profile: 0xbede, data: hex('21 aabb cc 00000000') }), RtpParseError);
  assert.deepEqual(parseHeaderExtensionElements({ profile: 0xbede, data: hex('f0 ff ff ff') })?.elements, []);
  assert.equal(parseHeaderExtensionElements({ profile: 0x1234, data: new Uint8Array(4) }), null);
});

test('two-byte extension elements: zero-length data, appbits, overruns refused', () => {
  const p = parseHeaderExtensionElements({ profile: 0x1003, data: hex('05 00 00 07 02 abcd 000000') });
  assert.equal(p?.form, 'two-byte');
  assert.equal(p?.appBits, 3);
  assert.deepEqual(p?.elements.map((e) => [e.id, [...e.data]]), [[5, []], [7, [0xab, 0xcd]]]);
  assert.throws(() => parseHeaderExtensionElements({ profile: 0x1000, data: hex('05 09 000000') }), RtpParseError);
  assert.throws(() => parseHeaderExtensionElements({ profile: 0x1000, data: hex('00 00 00 05') }), RtpParseError);
});

test('extension elements round-trip in both forms', () => {
  const elems = [{ id: 1, data: hex('80') }, { id: 3, data: hex('0102030405') }];
  const one = serializeHeaderExtensionElements(elems);
  assert.equal(one.profile, 0xbede);
  assert.equal(one.data.length % 4, 0);
  assert.deepEqual(parseHeaderExtensionElements(one)?.elements, elems);
  const two = serializeHeaderExtensionElements([...elems, { id: 200, data: new Uint8Array(0) }]);
  assert.equal(two.profile, 0x1000);
  assert.deepEqual(parseHeaderExtensionElements(two)?.elements.length, 3);
  assert.throws(() => serializeHeaderExtensionElements([{ id: 20, data: hex('00') }], 'one-byte'), RtpParseError);
});

// ---- property tests ------------------------------------------------------------------------------------

const arbPacket: fc.Arbitrary<RtpPacket> = fc.record({
  marker: fc.boolean(),
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
  timestamp: fc.integer({ min: 0, max: 0xffffffff }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 15 }),
  extension: fc.option(fc.record({
    profile: fc.integer({ min: 0, max: 0xffff }),
    data: fc.integer({ min: 0, max: 8 }).chain((w) => fc.uint8Array({ minLength: w * 4, maxLength: w * 4 })),
  }), { nil: null }),
  payload: fc.uint8Array({ maxLength: 300 }),
  paddingLength: fc.integer({ min: 0, max: 255 }),
}).filter((p) => !(p.marker && p.payloadType >= 72 && p.payloadType <= 76));

test('property: parse(serialize(p)) == p and serialize(parse(b)) == b', () => {
  fc.assert(fc.property(arbPacket, (p) => {
    const bytes = serializeRtp(p);
    assert.equal(bytes.length, rtpPacketLength(p));
    const q = parseRtp(bytes);
    assert.deepEqual({ ...q, payload: [...q.payload], extension: q.extension && { profile: q.extension.profile, data: [...q.extension.data] } },
      { ...p, payload: [...p.payload], extension: p.extension && { profile: p.extension.profile, data: [...p.extension.data] } });
    assert.deepEqual(serializeRtp(q), bytes);
  }), { numRuns: 500 });
});

test('property: serializeRtpInto over dirty, larger memory writes exactly serializeRtp\'s bytes (padding zeroed)', () => {
  fc.assert(fc.property(arbPacket, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 255 }), (p, extra, junk) => {
    const mem = new Uint8Array(rtpPacketLength(p) + extra).fill(junk);
    const out = serializeRtpInto(p, mem);
    assert.equal(out.buffer, mem.buffer, 'a view of the given memory, not a copy');
    assert.deepEqual(out, serializeRtp(p));
  }), { numRuns: 300 });
  const p: RtpPacket = {
    marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, csrcs: [], extension: null, payload: new Uint8Array(160), paddingLength: 0,
  };
  assert.throws(() => serializeRtpInto(p, new Uint8Array(171)), RtpParseError);
});

test('fuzz: arbitrary bytes either parse consistently or throw RtpParseError, never anything else', () => {
  const arb = fc.oneof(
    fc.uint8Array({ maxLength: 80 }),
    // Mostly-valid headers with random tails, to reach the deeper checks.
    fc.tuple(fc.integer({ min: 0, max: 0x3f }), fc.uint8Array({ minLength: 11, maxLength: 80 }))
      .map(([b0, rest]) => Uint8Array.from([0x80 | b0, ...rest])),
  );
  fc.assert(fc.property(arb, (b) => {
    let p: RtpPacket;
    try {
      p = parseRtp(b);
    } catch (e) {
      assert.ok(e instanceof RtpParseError, String(e));
      return;
    }
    // Accepted: every part lies inside the packet and re-serializes to the same bytes except padding content.
    assert.equal(rtpPacketLength(p), b.length);
    const again = serializeRtp(p);
    assert.deepEqual(again.subarray(0, b.length - p.paddingLength), b.subarray(0, b.length - p.paddingLength));
    assert.equal(rtpHeaderLength(b) + p.payload.length + p.paddingLength, b.length);
    if (p.extension) {
      try {
        parseHeaderExtensionElements(p.extension);
      } catch (e) {
        assert.ok(e instanceof RtpParseError);
      }
    }
  }), { numRuns: 3000 });
});
