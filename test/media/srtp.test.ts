import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { AesCounterMode, aesCmIv, deriveSessionKey, tagsEqual } from '../../src/media/srtp-crypto.ts';
import { ReplayWindow } from '../../src/media/srtp-replay-window.ts';
import { estimateRoc, SrtpContext, type SrtpProfileName } from '../../src/media/srtp-context.ts';
import { SrtpError } from '../../src/media/errors.ts';
import { parseRtp, serializeRtp } from '../../src/media/rtp-packet.ts';
import { parseRtcp, sdesWithCname, serializeRtcp } from '../../src/media/rtcp-packet.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

// ---- RFC 3711 Appendix B test vectors ------------------------------------------------------------------

test('RFC 3711 B.2: AES-CM keystream, first blocks and the end of the 65282-block segment', () => {
  const aes = new AesCounterMode(hex('2B7E151628AED2A6ABF7158809CF4F3C'));
  // Session salt F0..FD, SSRC 0, ROC 0, SEQ 0: the IV is the salt shifted by 16 bits.
  const iv = aesCmIv(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), 0, 0);
  assert.equal(toHex(iv), 'F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  const ks = aes.keystream(iv, 1044512);
  assert.equal(ks.length, 1044512);
  const block = (n: number): string => toHex(ks.subarray(n * 16, n * 16 + 16));
  assert.equal(block(0), 'E03EAD0935C95E80E166B16DD92B4EB4');
  assert.equal(block(1), 'D23513162B02D0F72A43A2FE4A5F97AB');
  assert.equal(block(2), '41E95B3BB0A2E8DD477901E4FCA894C0');
  assert.equal(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
  assert.equal(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
  assert.equal(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
  // Reusing the one ECB cipher object gives the same stream again (no hidden state between packets).
  assert.equal(toHex(aes.keystream(iv, 48)), toHex(ks.subarray(0, 48)));
});

test('RFC 3711 B.3: key derivation (labels 0, 1, 2 with key_derivation_rate 0)', () => {
  const mk = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const ms = hex('0EC675AD498AFEEBB6960B3AABE6');
  assert.equal(toHex(deriveSessionKey(mk, ms, 0x00, 16)), 'C61E7A93744F39EE10734AFE3FF7A087');
  assert.equal(toHex(deriveSessionKey(mk, ms, 0x02, 14)), '30CBBC08863D8C85D49DB34A9AE1');
  assert.equal(toHex(deriveSessionKey(mk, ms, 0x01, 20)), 'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
});

test('property: the IV places SSRC at bits 64..95 and the index at bits 16..63 (§4.1.1)', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 14, maxLength: 14 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (salt, ssrc, index) => {
    const big = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
    const expected = (big(salt) << 16n) ^ (BigInt(ssrc) << 64n) ^ (BigInt(index) << 16n);
    assert.equal(big(aesCmIv(salt, ssrc, index)), expected);
  }));
});

test('tags compare in constant time and unequal lengths are unequal', () => {
  assert.equal(tagsEqual(hex('0102'), hex('0102')), true);
  assert.equal(tagsEqual(hex('0102'), hex('0103')), false);
  assert.equal(tagsEqual(hex('0102'), hex('010203')), false);
});

// ---- index estimation and replay window -----------------------------------------------------------------

test('ROC estimation follows RFC 3711 Appendix A', () => {
  assert.equal(estimateRoc(5, 100, 101), 5);
  assert.equal(estimateRoc(5, 100, 65500), 4); // late packet from before the wrap
  assert.equal(estimateRoc(5, 65500, 3), 6); // wrap
  assert.equal(estimateRoc(5, 65500, 65499), 5);
  assert.equal(estimateRoc(5, 40000, 7000), 6); // s_l − 2^15 = 7232 > 7000: a wrap
  assert.equal(estimateRoc(5, 40000, 7300), 5);
  assert.equal(estimateRoc(0, 10, 65530), -1); // before the stream start
});

test('property: the replay window agrees with a set-based model', () => {
  fc.assert(fc.property(fc.constantFrom(64, 128, 256), fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 300 }), (size, indices) => {
    const w = new ReplayWindow(size);
    const seen = new Set<number>();
    let highest = -1;
    for (const i of indices) {
      const model = i > highest ? 'new' : highest - i >= size ? 'too-old' : seen.has(i) ? 'replay' : 'new';
      assert.equal(w.check(i), model);
      if (model === 'new') {
        w.accept(i);
        seen.add(i);
        highest = Math.max(highest, i);
      }
    }
  }), { numRuns: 300 });
  assert.throws(() => new ReplayWindow(32), RangeError);
  assert.throws(() => new ReplayWindow(100), RangeError);
});

// ---- SRTP / SRTCP --------------------------------------------------------------------------------------

function keys(): { masterKey: Uint8Array; masterSalt: Uint8Array } {
  return { masterKey: new Uint8Array(randomBytes(16)), masterSalt: new Uint8Array(randomBytes(14)) };
}

function rtp(seq: number, opts: { ssrc?: number; payload?: Uint8Array; csrcs?: number[]; pad?: number } = {}): Uint8Array {
  return serializeRtp({
    marker: false, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc: opts.ssrc ?? 0xcafe, csrcs: opts.csrcs ?? [],
    extension: null, payload: opts.payload ?? new Uint8Array(160).fill(seq & 0xff), paddingLength: opts.pad ?? 0,
  });
}

const PROFILES: SrtpProfileName[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

for (const profile of PROFILES) {
  test(`${profile}: protect/unprotect round trip, header in clear, payload encrypted, tag length`, () => {
    const k = keys();
    const tx = new SrtpContext({ profile, ...k });
    const rx = new SrtpContext({ profile, ...k });
    const tag = profile.endsWith('_80') ? 10 : 4;
    for (let seq = 1; seq < 50; seq++) {
      const plain = rtp(seq, { csrcs: seq % 3 === 0 ? [1, 2] : [], pad: seq % 5 === 0 ? 4 : 0 });
      const p = tx.protectRtp(plain);
      assert.equal(p.length, plain.length + tag);
      const hl = 12 + (seq % 3 === 0 ? 8 : 0);
      assert.deepEqual(p.subarray(0, hl), plain.subarray(0, hl));
      assert.notDeepEqual(p.subarray(hl, plain.length), plain.subarray(hl));
      assert.deepEqual(rx.unprotectRtp(p), plain);
    }
  });

  test(`${profile}: SRTCP with E flag and 31-bit index, 80-bit tag for both suites`, () => {
    const k = keys();
    const tx = new SrtpContext({ profile, ...k });
    const rx = new SrtpContext({ profile, ...k });
    const plain = serializeRtcp([{ type: 'rr', ssrc: 0xcafe, reports: [], extension: new Uint8Array(0) }, sdesWithCname(0xcafe, 'cardline@example')]);
    for (let i = 0; i < 5; i++) {
      const p = tx.protectRtcp(plain);
      assert.equal(p.length, plain.length + 4 + 10);
      const word = Buffer.from(p).readUInt32BE(plain.length);
      assert.equal(word >>> 31, 1);
      assert.equal(word & 0x7fffffff, 2 * i); // two packets per iteration
      assert.deepEqual(p.subarray(0, 8), plain.subarray(0, 8));
      assert.deepEqual(rx.unprotectRtcp(p), plain);
      assert.equal(parseRtcp(rx.unprotectRtcp(tx.protectRtcp(plain))).length, 2);
    }
  });
}

test('any modified octet fails authentication; state is not created by failed packets', () => {
  const k = keys();
  const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
  const p = tx.protectRtp(rtp(7));
  for (let i = 0; i < p.length; i++) {
    const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
    const bad = p.slice();
    bad[i] = (bad[i] as number) ^ 0x01;
    assert.throws(() => rx.unprotectRtp(bad), (e: unknown) => e instanceof SrtpError && (e.code === 'srtp-auth-failed' || e.code === 'srtp-malformed'), `octet ${i}`);
    assert.equal(rx.rolloverCounter(0xcafe), null);
  }
  const other = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...keys() });
  assert.throws(() => other.unprotectRtp(p), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-auth-failed');
  const rtcp = tx.protectRtcp(serializeRtcp([{ type: 'rr', ssrc: 1, reports: [], extension: new Uint8Array(0) }]));
  const badRtcp = rtcp.slice();
  badRtcp[9] = (badRtcp[9] as number) ^ 0x80;
  assert.throws(() => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k }).unprotectRtcp(badRtcp), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-auth-failed');
});

test('replays and packets older than the window are refused; reordering inside the window is fine', () => {
  const k = keys();
  const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_32', ...k });
  const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_32', ...k, replayWindow: 64 });
  const packets = Array.from({ length: 200 }, (_, i) => tx.protectRtp(rtp(1000 + i)));
  rx.unprotectRtp(packets[0]!);
  assert.throws(() => rx.unprotectRtp(packets[0]!), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-replay');
  rx.unprotectRtp(packets[100]!);
  rx.unprotectRtp(packets[50]!); // 50 behind: inside a 64 window
  assert.throws(() => rx.unprotectRtp(packets[30]!), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-replay' && /older/.test(e.message));
  assert.throws(() => rx.unprotectRtp(packets[50]!), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-replay');
  // The sender refuses to protect the same index twice (keystream reuse, RFC 3711 §9.1).
  assert.throws(() => tx.protectRtp(rtp(1000)), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-replay');
  // SRTCP replay.
  const c = tx.protectRtcp(serializeRtcp([{ type: 'rr', ssrc: 5, reports: [], extension: new Uint8Array(0) }]));
  rx.unprotectRtcp(c);
  assert.throws(() => rx.unprotectRtcp(c), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-replay');
});

test('ROC rolls over at the 16-bit wrap on both sides, including a late packet from before the wrap', () => {
  const k = keys();
  const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
  const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
  const seqs = Array.from({ length: 40 }, (_, i) => 65520 + i); // crosses 65535 → 0
  const prot = seqs.map((s) => tx.protectRtp(rtp(s)));
  assert.equal(tx.rolloverCounter(0xcafe), 1);
  // Deliver with the packet just before the wrap arriving after a few of the new cycle.
  const order = [...Array(15).keys(), 17, 18, 15, 16, ...Array.from({ length: 21 }, (_, i) => 19 + i)];
  for (const i of order) assert.deepEqual(rx.unprotectRtp(prot[i]!), rtp(seqs[i]!));
  assert.equal(rx.rolloverCounter(0xcafe), 1);
  // A receiver that joins late can be told the ROC (RFC 4568 re-keying); without it, it fails auth.
  const late = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
  const t2 = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
  t2.setRolloverCounter(0xcafe, 3, 10);
  const p = t2.protectRtp(rtp(11));
  assert.throws(() => late.unprotectRtp(p), SrtpError);
  late.setRolloverCounter(0xcafe, 3, 10);
  assert.deepEqual(late.unprotectRtp(p), rtp(11));
});

test('MKI is carried and checked', () => {
  const k = keys();
  const mki = hex('0001');
  const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k, mki });
  const p = tx.protectRtp(rtp(1));
  assert.equal(p.length, rtp(1).length + 2 + 10);
  assert.deepEqual(p.subarray(p.length - 12, p.length - 10), mki);
  assert.deepEqual(new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k, mki }).unprotectRtp(p), rtp(1));
  assert.throws(() => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k, mki: hex('0002') }).unprotectRtp(p), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-auth-failed');
  const c = tx.protectRtcp(serializeRtcp([{ type: 'rr', ssrc: 1, reports: [], extension: new Uint8Array(0) }]));
  assert.equal(new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k, mki }).unprotectRtcp(c).length, 8);
});

test('bad keys and short packets give typed errors', () => {
  assert.throws(() => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(15), masterSalt: new Uint8Array(14) }), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-invalid-key');
  assert.throws(() => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(16), masterSalt: new Uint8Array(12) }), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-invalid-key');
  assert.throws(() => new SrtpContext({ profile: 'F8_128_HMAC_SHA1_80' as SrtpProfileName, masterKey: new Uint8Array(16), masterSalt: new Uint8Array(14) }), SrtpError);
  const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...keys() });
  for (const n of [0, 5, 12, 21]) assert.throws(() => rx.unprotectRtp(new Uint8Array(n).fill(0x80)), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-malformed', String(n));
  assert.throws(() => rx.unprotectRtcp(new Uint8Array(21).fill(0x80)), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-malformed');
  assert.throws(() => rx.protectRtcp(new Uint8Array(4)), SrtpError);
});

test('fuzz: unprotect of arbitrary bytes throws only SrtpError and never yields data', () => {
  const k = keys();
  const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
  const good = tx.protectRtp(rtp(3));
  const mutate = fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 })
    .map((m) => { const b = good.slice(); for (const [i, x] of m) b[i] = (b[i] as number) ^ x; return b; });
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutate), (b) => {
    const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
    assert.throws(() => rx.unprotectRtp(b), SrtpError);
    assert.throws(() => rx.unprotectRtcp(b), SrtpError);
  }), { numRuns: 1000 });
});

test('an unprotected packet parses as the original RTP packet', () => {
  const k = keys();
  const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
  const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k });
  const payload = new Uint8Array(randomBytes(160));
  const back = parseRtp(rx.unprotectRtp(tx.protectRtp(rtp(9, { payload }))));
  assert.deepEqual(back.payload, payload);
  assert.equal(back.sequenceNumber, 9);
});

test('a master key lifetime (SDES "|lifetime") stops the context once SRTP + SRTCP packets reach it', () => {
  const k = keys();
  const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k, keyLifetime: 3 });
  tx.protectRtp(rtp(1));
  tx.protectRtcp(serializeRtcp([{ type: 'rr', ssrc: 1, reports: [], extension: new Uint8Array(0) }]));
  const third = tx.protectRtp(rtp(2));
  assert.equal(tx.packetsUnderKey, 3);
  assert.throws(() => tx.protectRtp(rtp(3)), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-invalid-key');
  const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k, keyLifetime: 1 });
  assert.throws(() => rx.unprotectRtp(third.slice(0, 5)), SrtpError); // failures do not count
  rx.unprotectRtp(third);
  assert.throws(() => rx.unprotectRtp(third), (e: unknown) => e instanceof SrtpError && e.code === 'srtp-invalid-key');
  assert.throws(() => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...k, keyLifetime: 0 }), SrtpError);
});
