/**
 * Interop with libsrtp2, an independent SRTP implementation: byte-identical SRTP output for the same key and
 * packets (both suites, across a ROC wrap), and each side unprotects what the other protected (SRTP and SRTCP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SrtpContext, type SrtpProfileName } from '../../src/media/srtp-context.ts';
import { serializeRtp } from '../../src/media/rtp-packet.ts';
import { sdesWithCname, serializeRtcp } from '../../src/media/rtcp-packet.ts';
import { libsrtpUnavailable, runLibsrtp } from './support/libsrtp.ts';

const skip = libsrtpUnavailable() ?? false;

function rtpStream(n: number, firstSeq: number, ssrc: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => serializeRtp({
    marker: i === 0, payloadType: 0, sequenceNumber: (firstSeq + i) & 0xffff, timestamp: (1000 + i * 160) >>> 0, ssrc,
    csrcs: i % 7 === 3 ? [0x01020304] : [], extension: null, payload: new Uint8Array(randomBytes(160 + (i % 3))), paddingLength: i % 11 === 5 ? 4 : 0,
  }));
}

const suites: Array<[SrtpProfileName, 80 | 32]> = [['AES_CM_128_HMAC_SHA1_80', 80], ['AES_CM_128_HMAC_SHA1_32', 32]];

for (const [profile, suite] of suites) {
  test(`${profile}: Cardline's SRTP equals libsrtp's byte for byte, and each unprotects the other's`, { skip }, () => {
    const key = new Uint8Array(randomBytes(30));
    const opts = { profile, masterKey: key.subarray(0, 16), masterSalt: key.subarray(16) };
    const plain = rtpStream(300, 65400, 0x5eed); // crosses the 16-bit wrap: ROC 0 → 1
    const ours = new SrtpContext(opts);
    const mine = plain.map((p) => ours.protectRtp(p));
    const theirs = runLibsrtp('protect', suite, key, plain);
    for (let i = 0; i < plain.length; i++) assert.deepEqual(theirs[i], mine[i], `packet ${i}`);
    const back = runLibsrtp('unprotect', suite, key, mine);
    for (let i = 0; i < plain.length; i++) assert.deepEqual(back[i], plain[i], `libsrtp unprotect ${i}`);
    const rx = new SrtpContext(opts);
    for (let i = 0; i < plain.length; i++) assert.deepEqual(rx.unprotectRtp(theirs[i] as Uint8Array), plain[i]);
    // libsrtp refuses a replay of ours, and a tampered packet.
    const tampered = mine[10]!.slice();
    tampered[20] = (tampered[20] as number) ^ 1;
    const refused = runLibsrtp('unprotect', suite, key, [mine[0]!, mine[0]!, tampered]);
    assert.ok(refused[0] instanceof Uint8Array);
    assert.equal(typeof refused[1], 'string');
    assert.equal(typeof refused[2], 'string');
  });

  test(`${profile}: SRTCP interop in both directions`, { skip }, () => {
    const key = new Uint8Array(randomBytes(30));
    const opts = { profile, masterKey: key.subarray(0, 16), masterSalt: key.subarray(16) };
    const plain = Array.from({ length: 20 }, (_, i) => serializeRtcp([
      { type: 'sr', ssrc: 0x5eed, ntpSeconds: 3900000000 + i, ntpFraction: 0, rtpTimestamp: i * 8000, packetCount: i * 50, octetCount: i * 8000, reports: [], extension: new Uint8Array(0) },
      sdesWithCname(0x5eed, `cardline-${i}@test`),
    ]));
    const ours = new SrtpContext(opts);
    const mine = plain.map((p) => ours.protectRtcp(p));
    const back = runLibsrtp('unprotect_rtcp', suite, key, mine);
    for (let i = 0; i < plain.length; i++) assert.deepEqual(back[i], plain[i], `libsrtp unprotect_rtcp ${i}`);
    const theirs = runLibsrtp('protect_rtcp', suite, key, plain);
    const rx = new SrtpContext(opts);
    for (let i = 0; i < plain.length; i++) {
      const t = theirs[i];
      assert.ok(t instanceof Uint8Array);
      assert.equal(t.length, plain[i]!.length + 4 + 10); // E||index and an 80-bit tag for both suites
      assert.deepEqual(rx.unprotectRtcp(t), plain[i]);
    }
  });
}
