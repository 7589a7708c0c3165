/**
 * SRTP on the agent leg (RFC 3711, SDES RFC 4568), independent of the caller leg, through the B2BUA with real UDP:
 * - 'sdes': the agent-leg offer is RTP/SAVP with both suites; the caller speaks plain RTP carrying card digits in
 *   secure mode; what reaches the agent socket is SRTP that libsrtp (the independent reference) decrypts with the
 *   key Cardline offered for the chosen tag, and the audio holds zero digits by Cardline's detector and spandsp's;
 *   the agent's SRTP (its own key) reaches the caller as plain RTP; an agent re-INVITE with a new key keeps SRTP,
 *   one with plain RTP is refused 488.
 * - caller SRTP ↔ agent plain ('off'), and 'optional' falling back to RTP/AVP when the agent refuses SAVP with 488.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { detectDtmf, type DtmfDigit, generateSequence, ulawDecode, ulawEncode } from '../../src/dsp/index.ts';
import { type AgentSrtpMode, B2bua } from '../../src/gateway/b2bua.ts';
import {
  describeMedia, generateCrypto, parseRtp, parseSdp, RtpPortAllocator, type SdesCrypto, serializeCryptoAttribute, serializeRtp,
  SrtpContext, srtpOptionsFromCrypto,
} from '../../src/media/index.ts';
import { type IncomingInvite, SipStack, UdpTransport, UserAgentCore } from '../../src/sip/index.ts';
import { libsrtpUnavailable, runLibsrtp } from '../media/support/libsrtp.ts';
import { spandspDetect } from '../support/spandsp.ts';

const HOST = '127.0.0.1';
const timers = { T1: 20, T2: 160, T4: 200, tryingDelay: 0 };
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const closers: Array<() => unknown> = [];
const base = 47000 + (process.pid % 100) * 20;
const allocator = new RtpPortAllocator({ address: HOST, minPort: base, maxPort: base + 19 });

after(async () => {
  for (const c of closers.reverse()) await c();
  await allocator.close();
});

async function core() {
  const stack = new SipStack({ transports: [new UdpTransport({ address: HOST })], timers });
  await stack.start();
  const ua = new UserAgentCore({ stack });
  closers.push(() => stack.close(), () => ua.close());
  return { ua, port: stack.layer.transports[0]!.local.port };
}

function bindRtp(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, HOST, () => resolve(s));
    closers.push(() => s.close());
  });
}

async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await delay(10);
  }
}

function sdp(port: number, crypto: SdesCrypto | null = null): string {
  return `v=0\r\no=- 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${port} ${crypto ? 'RTP/SAVP' : 'RTP/AVP'} 0 101\r\n`
    + 'a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n'
    + (crypto ? `a=crypto:${serializeCryptoAttribute(crypto)}\r\n` : '');
}

function rtp(seq: number, payload: Uint8Array, ssrc = 77): Uint8Array {
  return serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, csrcs: [], extension: null, payload, paddingLength: 0 });
}

async function world(agentSrtp: AgentSrtpMode) {
  const caller = await core();
  const cardline = await core();
  const agent = await core();
  const digits: DtmfDigit[] = [];
  const b2bua = new B2bua({
    ua: cardline.ua, allocator, agentSrtp, secureByDefault: true,
    routes: [{ requestUri: /^sip:pay@/, target: `sip:agent@${HOST}:${agent.port}` }],
    onSecureDigit: (_c, d) => digits.push(d),
  });
  closers.push(() => b2bua.close());
  const callerRtp = await bindRtp();
  const agentRtp = await bindRtp();
  const invites: IncomingInvite[] = [];
  return { caller, cardline, agent, b2bua, digits, callerRtp, agentRtp, invites, dial: (body: string) => caller.ua.invite({ uri: `sip:pay@${HOST}:${cardline.port}`, from: '<sip:alice@example.com>', body }) };
}

const skipLibsrtp = libsrtpUnavailable() ?? false;

describe('B2BUA: SRTP on the agent leg', () => {
  it("'sdes': caller plain RTP with card digits → agent SRTP (libsrtp decrypts, zero digits); agent SRTP → caller plain; re-INVITE keeps SRTP", { skip: skipLibsrtp }, async () => {
    const w = await world('sdes');
    const offered = new Promise<IncomingInvite>((r) => { w.agent.ua.onInvite = r; });
    const call = w.dial(sdp(w.callerRtp.address().port));
    const inv = await offered;
    const offer = describeMedia(parseSdp(dec(inv.request.body)), 0);
    assert.equal(offer.proto, 'RTP/SAVP');
    assert.deepEqual(offer.crypto.map((c) => [c.tag, c.suite]), [[1, 'AES_CM_128_HMAC_SHA1_80'], [2, 'AES_CM_128_HMAC_SHA1_32']]);
    // the agent takes tag 2 (the 32-bit tag) and answers with its own key
    const ours = offer.crypto[1]!;
    const agentKey = generateCrypto(2, 'AES_CM_128_HMAC_SHA1_32');
    const agentDialog = inv.accept({ body: sdp(w.agentRtp.address().port, agentKey) });
    const outcome = await call.outcome;
    assert.equal(outcome.kind, 'answered');
    if (outcome.kind !== 'answered') return;
    const callerAnswer = describeMedia(parseSdp(dec(outcome.response.body)), 0);
    assert.equal(callerAnswer.proto, 'RTP/AVP', 'the caller leg stays plain: the legs are independent');

    const atAgent: Buffer[] = [];
    w.agentRtp.on('message', (m) => atAgent.push(m));
    const card = '4111111111111111';
    const { samples } = generateSequence(card, { onMs: 80, offMs: 80 });
    const frames = Math.floor(samples.length / 160);
    for (let i = 0; i < frames; i++) {
      w.callerRtp.send(rtp(i, ulawEncode(samples.subarray(i * 160, (i + 1) * 160))), callerAnswer.port, HOST);
      if (i % 8 === 7) await delay(2);
    }
    await waitFor(() => w.digits.length >= card.length);
    assert.equal(w.digits.join(''), card, 'the secure sink got the card');
    await waitFor(() => atAgent.length >= frames - 4);
    await delay(100);
    // libsrtp, with the key Cardline offered for tag 2, decrypts every packet the agent got
    const inOrder = [...atAgent].sort((a, b) => (((parseRtp(a).sequenceNumber - parseRtp(b).sequenceNumber) << 16) >> 16));
    const keySalt = ours.keys[0]!.keySalt;
    const plain = runLibsrtp('unprotect', 32, keySalt, inOrder);
    assert.ok(plain.every((p) => p instanceof Uint8Array), `libsrtp refused ${plain.filter((p) => typeof p === 'string').length} packets`);
    const pkts = plain.map((p) => parseRtp(p as Uint8Array, { copy: true }));
    assert.ok(pkts.every((p) => p.payloadType === 0 && p.payload.length === 160));
    const heard = new Int16Array(pkts.length * 160);
    pkts.forEach((p, i) => heard.set(ulawDecode(p.payload), i * 160));
    assert.deepEqual(detectDtmf(heard), [], "Cardline's detector finds no digit at the agent");
    assert.deepEqual(await spandspDetect(heard), [], "spandsp finds no digit at the agent");
    // our own context agrees with libsrtp on the same bytes
    const mine = new SrtpContext(srtpOptionsFromCrypto(ours));
    assert.ok(Buffer.from(mine.unprotectRtp(inOrder[0]!)).equals(plain[0] as Uint8Array));

    // agent → caller: SRTP with the agent's key arrives as plain RTP
    const atCaller: Buffer[] = [];
    w.callerRtp.on('message', (m) => atCaller.push(m));
    const agentOut = new SrtpContext(srtpOptionsFromCrypto(agentKey));
    const voice = ulawEncode(new Int16Array(160).map((_, i) => Math.round(4000 * Math.sin(i / 3))));
    const agentPort = offer.port;
    for (let i = 0; i < 5; i++) w.agentRtp.send(agentOut.protectRtp(rtp(i, voice, 99)), agentPort, HOST);
    await waitFor(() => atCaller.length >= 5);
    assert.deepEqual(new Uint8Array(parseRtp(atCaller[0]!).payload), voice, 'plain RTP with the agent audio on the caller leg');

    // agent re-INVITE with a NEW key: answered RTP/SAVP with a key of ours; media goes on under the new keys
    const newKey = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
    const re = await agentDialog.reinvite({ body: sdp(w.agentRtp.address().port, newKey), contentType: 'application/sdp' });
    assert.equal(re.status, 200);
    const reAnswer = describeMedia(parseSdp(dec(re.body)), 0);
    assert.equal(reAnswer.proto, 'RTP/SAVP');
    assert.equal(reAnswer.crypto.length, 1);
    const agentOut2 = new SrtpContext(srtpOptionsFromCrypto(newKey));
    for (let i = 5; i < 10; i++) w.agentRtp.send(agentOut2.protectRtp(rtp(i, voice, 99)), agentPort, HOST);
    await waitFor(() => atCaller.length >= 10);
    const before = atAgent.length;
    for (let i = frames; i < frames + 6; i++) w.callerRtp.send(rtp(i, voice), callerAnswer.port, HOST); // past the reorder depth
    await waitFor(() => atAgent.length > before);
    const fresh = new SrtpContext(srtpOptionsFromCrypto(reAnswer.crypto[0]!));
    assert.equal(parseRtp(fresh.unprotectRtp(atAgent[before]!)).payloadType, 0, "after the re-INVITE Cardline protects with the key it answered");
    // a re-INVITE to plain RTP is refused: SRTP is required on this leg
    const plainRe = await agentDialog.reinvite({ body: sdp(w.agentRtp.address().port), contentType: 'application/sdp' });
    assert.equal(plainRe.status, 488);
    await outcome.dialog.bye();
  });

  it("'off': caller SRTP ↔ agent plain RTP", async () => {
    const w = await world('off');
    const offered = new Promise<IncomingInvite>((r) => { w.agent.ua.onInvite = r; });
    const callerKey = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
    const call = w.dial(sdp(w.callerRtp.address().port, callerKey));
    const inv = await offered;
    const offer = describeMedia(parseSdp(dec(inv.request.body)), 0);
    assert.equal(offer.proto, 'RTP/AVP');
    assert.equal(offer.crypto.length, 0);
    inv.accept({ body: sdp(w.agentRtp.address().port) });
    const outcome = await call.outcome;
    assert.equal(outcome.kind, 'answered');
    if (outcome.kind !== 'answered') return;
    const answer = describeMedia(parseSdp(dec(outcome.response.body)), 0);
    assert.equal(answer.proto, 'RTP/SAVP');
    const atAgent: Buffer[] = [];
    w.agentRtp.on('message', (m) => atAgent.push(m));
    const out = new SrtpContext(srtpOptionsFromCrypto(callerKey));
    const voice = ulawEncode(new Int16Array(160).map((_, i) => Math.round(3000 * Math.sin(i / 5))));
    for (let i = 0; i < 6; i++) w.callerRtp.send(out.protectRtp(rtp(i, voice)), answer.port, HOST);
    await waitFor(() => atAgent.length >= 1);
    const got = parseRtp(atAgent[0]!);
    assert.equal(got.payload.length, 160, 'plain RTP on the agent leg (no auth tag)');
    await outcome.dialog.bye();
  });

  it('a caller re-INVITE repeating its SDES key keeps the inbound context: packets after a sequence wrap still decrypt (RFC 3711 §3.3.1 ROC)', async () => {
    const w = await world('off');
    w.agent.ua.onInvite = (inv) => inv.accept({ body: sdp(w.agentRtp.address().port) });
    const callerKey = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
    const outcome = await w.dial(sdp(w.callerRtp.address().port, callerKey)).outcome;
    assert.equal(outcome.kind, 'answered');
    if (outcome.kind !== 'answered') return;
    const port = describeMedia(parseSdp(dec(outcome.response.body)), 0).port;
    const atAgent: Buffer[] = [];
    w.agentRtp.on('message', (m) => atAgent.push(m));
    const out = new SrtpContext(srtpOptionsFromCrypto(callerKey));
    const voice = ulawEncode(new Int16Array(160).map((_, i) => Math.round(3000 * Math.sin(i / 5))));
    const send = (seqs: number[]): void => { for (const q of seqs) w.callerRtp.send(out.protectRtp(rtp(q, voice)), port, HOST); };
    send([65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3]); // the sender's rollover counter is now 1
    await waitFor(() => atAgent.length >= 8);
    // a session refresh re-INVITE with the same key (typical every 15-30 minutes), then more audio
    const re = await outcome.dialog.reinvite({ body: sdp(w.callerRtp.address().port, callerKey), contentType: 'application/sdp' });
    assert.equal(re.status, 200);
    const before = atAgent.length;
    send([4, 5, 6, 7, 8, 9]);
    // a fresh context would assume ROC 0, fail every authentication and forward nothing
    await waitFor(() => atAgent.length >= before + 4);
    await outcome.dialog.bye();
  });

  it("'optional': the agent refuses RTP/SAVP with 488 → Cardline re-offers RTP/AVP and the call completes", async () => {
    const w = await world('optional');
    const protos: string[] = [];
    w.agent.ua.onInvite = (inv) => {
      const m = describeMedia(parseSdp(dec(inv.request.body)), 0);
      protos.push(m.proto);
      if (m.proto === 'RTP/SAVP') inv.reject(488);
      else inv.accept({ body: sdp(w.agentRtp.address().port) });
    };
    const outcome = await w.dial(sdp(w.callerRtp.address().port)).outcome;
    assert.equal(outcome.kind, 'answered');
    assert.deepEqual(protos, ['RTP/SAVP', 'RTP/AVP']);
    if (outcome.kind === 'answered') await outcome.dialog.bye();
  });
});
