/**
 * Quick SRTP timing (not a test, no assertions): µs per 160-octet G.711 packet for protect and unprotect,
 * both suites, plus SRTCP. Run: node --import tsx test/media/support/srtp-bench.ts [packets]
 */
import { randomBytes } from 'node:crypto';
import { SrtpContext, type SrtpProfileName } from '../../../src/media/srtp-context.ts';
import { serializeRtp } from '../../../src/media/rtp-packet.ts';
import { serializeRtcp, sdesWithCname } from '../../../src/media/rtcp-packet.ts';

const N = Number(process.argv[2] ?? 200_000);
const key = { masterKey: new Uint8Array(randomBytes(16)), masterSalt: new Uint8Array(randomBytes(14)) };
const payload = new Uint8Array(randomBytes(160));

function packets(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => serializeRtp({
    marker: false, payloadType: 0, sequenceNumber: i & 0xffff, timestamp: (i * 160) >>> 0, ssrc: 0x1234, csrcs: [], extension: null, payload, paddingLength: 0,
  }));
}

function time(label: string, n: number, f: (i: number) => void): void {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f(i);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${label.padEnd(44)} ${us.toFixed(2)} µs/packet`);
}

const plain = packets(N);
for (const profile of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as SrtpProfileName[]) {
  const tx = new SrtpContext({ profile, ...key });
  const rx = new SrtpContext({ profile, ...key });
  const warm = new SrtpContext({ profile, ...key });
  const w = packets(5000);
  for (const p of w) new SrtpContext({ profile, ...key }).unprotectRtp(warm.protectRtp(p));
  const prot: Uint8Array[] = new Array<Uint8Array>(N);
  time(`${profile} protect (160 B payload)`, N, (i) => { prot[i] = tx.protectRtp(plain[i]!); });
  time(`${profile} unprotect`, N, (i) => { rx.unprotectRtp(prot[i]!); });
}
const rtcp = serializeRtcp([{ type: 'rr', ssrc: 0x1234, reports: [], extension: new Uint8Array(0) }, sdesWithCname(0x1234, 'bench@cardline')]);
const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...key });
const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...key });
const M = Math.min(N, 50_000);
const prot: Uint8Array[] = new Array<Uint8Array>(M);
time(`SRTCP protect (${rtcp.length} B compound)`, M, (i) => { prot[i] = tx.protectRtcp(rtcp); });
time('SRTCP unprotect', M, (i) => { rx.unprotectRtcp(prot[i]!); });
