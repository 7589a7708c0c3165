/**
 * The pieces composed the way the relay will use them, over real UDP on loopback, through the domain's
 * public index only: an SRTP "caller" offers, Cardline anchors and answers, the caller sends G.711 audio
 * with RFC 4733 digits (reordered and with a lost packet), Cardline unprotects, reorders, reads the digits,
 * drops the event packets and forwards the audio as plain RTP to the "agent" with its own SSRC and
 * gap-free sequence numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {
  buildTelephoneEventPackets, createAnswer, digitToEvent, generateCrypto, negotiated, parseRtp, parseSdp, ReorderBuffer,
  rewriteForAnchor, RtpPortAllocator, RtpStreamRewriter, serializeCryptoAttribute, serializeRtp, serializeSdp, SrtpContext,
  srtpOptionsFromCrypto, TelephoneEventReceiver, type KeyPress, type RtpPacket,
} from '../../src/media/index.ts';

function bind(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

test('SRTP caller → Cardline (unprotect, reorder, read + drop RFC 4733, rewrite) → plain RTP agent', async () => {
  const caller = await bind();
  const agent = await bind();
  const callerPort = caller.address().port;
  const agentPort = agent.address().port;
  const base = 40000 + 2 * Math.floor(Math.random() * 10000);
  const ports = new RtpPortAllocator({ address: '127.0.0.1', minPort: base, maxPort: base + 40 });
  const legA = await ports.allocate();
  const legB = await ports.allocate();
  try {
    // --- signalling: the caller's SRTP offer, Cardline's answer on leg A and its plain offer on leg B.
    const callerKey = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
    const offerA = parseSdp([
      'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${callerPort} RTP/SAVP 0 8 101`, 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20',
      `a=crypto:${serializeCryptoAttribute(callerKey)}`, '',
    ].join('\r\n'));
    const { answer: answerA, negotiated: nA } = createAnswer(offerA, { address: '127.0.0.1', port: legA.rtpPort, rtcpPort: legA.rtcpPort, origin: { sessionId: '1', sessionVersion: '1' } });
    assert.equal(nA.codec, 'PCMU');
    assert.equal(nA.offerer.telephoneEventPayloadType, 101);
    const offerB = rewriteForAnchor(serializeSdp(offerA), { address: '127.0.0.1', port: legB.rtpPort, rtcpPort: legB.rtcpPort, origin: { sessionId: '2', sessionVersion: '1' } });
    assert.doesNotMatch(offerB, /crypto|SAVP/);
    const answerB = ['v=0', 'o=- 3 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${agentPort} RTP/AVP 0 101`, 'a=rtpmap:101 telephone-event/8000', ''].join('\r\n');
    const nB = negotiated(offerB, answerB);
    assert.equal(nB.answerer.port, agentPort);

    // --- Cardline's media path for caller → agent.
    const fromCaller = new SrtpContext(srtpOptionsFromCrypto(nA.offerer.crypto!));
    const reorder = new ReorderBuffer<RtpPacket>({ maxDelayPackets: 3 });
    const events = new TelephoneEventReceiver();
    const toAgent = new RtpStreamRewriter({ ssrc: 0xc0ffee });
    const keys: KeyPress[] = [];
    const relay = (pkt: RtpPacket, now: number): void => {
      if (pkt.payloadType === nA.offerer.telephoneEventPayloadType) {
        for (const n of events.push(pkt, now)) if (n.type === 'end') keys.push(n.key);
        toAgent.skip(pkt); // the agent never sees the event, nor a gap where it was
        return;
      }
      const h = toAgent.rewrite(pkt, now);
      const out = serializeRtp({ ...pkt, ...h, payloadType: nB.answerer.codecPayloadType });
      legB.rtp.send(out, nB.answerer.port, nB.answerer.address);
    };
    let received = 0;
    legA.rtp.on('message', (msg: Buffer) => {
      received++;
      const plain = parseRtp(fromCaller.unprotectRtp(msg), { copy: false });
      for (const p of reorder.push(plain.sequenceNumber, plain)) relay(p, received * 20);
    });
    const agentGot: RtpPacket[] = [];
    agent.on('message', (msg: Buffer) => agentGot.push(parseRtp(msg)));

    // --- the caller: 10 audio packets, digit 4 as RFC 4733, 10 audio packets, digit # — with a swap and a loss.
    const callerSrtp = new SrtpContext(srtpOptionsFromCrypto(callerKey));
    const ssrc = 0x1234;
    const plainPackets: RtpPacket[] = [];
    let seq = 65530;
    let ts = 0;
    const audio = (n: number): void => {
      for (let i = 0; i < n; i++) {
        plainPackets.push({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: ts, ssrc, csrcs: [], extension: null, payload: new Uint8Array(160).fill(0xff), paddingLength: 0 });
        seq = (seq + 1) & 0xffff;
        ts += 160;
      }
    };
    const digit = (d: '4' | '#'): void => {
      const pk = buildTelephoneEventPackets({ event: digitToEvent(d), durationSamples: 800, payloadType: 101, ssrc, startTimestamp: ts, startSequence: seq });
      for (const p of pk) plainPackets.push(p.packet);
      seq = (seq + pk.length) & 0xffff;
      ts += 800;
    };
    audio(10); digit('4'); audio(10); digit('#'); audio(10);
    const wire = plainPackets.map((p) => callerSrtp.protectRtp(serializeRtp(p)));
    [wire[3], wire[4]] = [wire[4]!, wire[3]!]; // reordered
    // Lost: one audio packet between the digits (20) and the marker packet that starts '#' (25).
    const lost = new Set([20, 25]);
    const audioCount = plainPackets.filter((p) => p.payloadType === 0).length;
    for (let i = 0; i < wire.length; i++) {
      if (lost.has(i)) continue;
      caller.send(wire[i]!, legA.rtpPort, '127.0.0.1');
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5)); // do not overrun loopback buffers
    }
    const deadline = Date.now() + 3000;
    while (received < wire.length - lost.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const p of reorder.flush()) relay(p, 10_000);
    for (const n of events.flush()) if (n.type === 'end') keys.push(n.key);
    const until = Date.now() + 2000;
    while (agentGot.length < audioCount - 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));

    assert.deepEqual(keys.map((k) => [k.digit, k.durationSamples, k.endReceived]), [['4', 800, true], ['#', 800, true]]);
    assert.equal(agentGot.length, audioCount - 1);
    assert.ok(agentGot.every((p) => p.payloadType === 0 && p.ssrc === 0xc0ffee));
    const seqs = agentGot.map((p) => p.sequenceNumber);
    const gaps = seqs.slice(1).map((s, i) => (s - seqs[i]!) & 0xffff);
    // Consecutive numbers except two gaps of 2, one per packet lost upstream (an audio packet and an event
    // packet, which the relay cannot tell apart); the event packets that did arrive left no trace.
    assert.deepEqual(gaps.filter((g) => g !== 1), [2, 2]);
    assert.equal(reorder.stats.lost, 2);
    assert.equal(events.stats.startsMissing, 1); // '#' began with its second packet, and still counted once
    void answerA;
  } finally {
    caller.close();
    agent.close();
    await ports.close();
  }
});
