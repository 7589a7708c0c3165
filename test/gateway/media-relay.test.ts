/**
 * MediaRelay over real UDP sockets on 127.0.0.1: a test "caller" socket sends G.711 RTP through the relay to a
 * test "agent" socket; what arrives is decoded and checked with the DSP detector.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { detectDtmf, type DtmfDigit, generateSequence, ulawDecode, ulawEncode, alawDecode } from '../../src/dsp/index.ts';
import { MediaRelay, type SecureDigitSource } from '../../src/gateway/media-relay.ts';
import {
  buildTelephoneEventPackets, digitToEvent, generateCrypto, parseRtp, RtpPortAllocator, serializeRtp, SrtpContext,
  srtpOptionsFromCrypto, type RtpPacket,
} from '../../src/media/index.ts';
import { whiteNoise } from '../support/audio.ts';
import {
  audioPackets, bind, close, FRAME, HOST, PCMU, pcmuLeg as leg, peer, receivedAudio, sendAll, TE_PT, waitFor,
} from './support/rtp-peer.ts';

function assertContiguous(pkts: RtpPacket[]): void {
  // serial order (RFC 3550 §5.1): the rewritten numbers may wrap
  const ordered = [...pkts].sort((a, b) => (((a.sequenceNumber - b.sequenceNumber) << 16) >> 16)).map((p) => p.sequenceNumber);
  for (let i = 1; i < ordered.length; i++) {
    assert.equal(((ordered[i] as number) - (ordered[i - 1] as number)) & 0xffff, 1, `sequence gap at ${i} of ${ordered.length}`);
  }
}

const CARD = '4111111111111111';

describe('MediaRelay over UDP', () => {
  let allocator: RtpPortAllocator;
  before(() => {
    allocator = new RtpPortAllocator({ address: HOST, minPort: 41000 + (process.pid % 200) * 20, maxPort: 41000 + (process.pid % 200) * 20 + 19 });
  });
  after(async () => {
    await allocator.close();
  });

  async function setup(o: { secure: boolean; callerTe?: number | null; agentTe?: number | null }) {
    const caller = await peer();
    const agent = await peer();
    const digits: { digit: DtmfDigit; source: SecureDigitSource }[] = [];
    const relay = await MediaRelay.open({ allocator, secure: o.secure, onDigit: (digit, source) => digits.push({ digit, source }) });
    relay.configure(leg(caller.port, o.callerTe === undefined ? TE_PT : o.callerTe), leg(agent.port, o.agentTe === undefined ? TE_PT : o.agentTe));
    const teardown = async (): Promise<void> => {
      await relay.close();
      await close(caller.socket);
      await close(agent.socket);
    };
    return { caller, agent, relay, digits, teardown };
  }

  it('secure mode: in-band card digits reach the sink in order and none reach the agent', async () => {
    const { caller, agent, relay, digits, teardown } = await setup({ secure: true });
    try {
      const { samples } = generateSequence(CARD, { onMs: 80, offMs: 80, levelDbm0: -8 });
      assert.equal(detectDtmf(samples).map((e) => e.digit).join(''), CARD, 'the fixture itself carries the digits');
      const pkts = audioPackets(samples, { ssrc: 0x1234, seq0: 65500, ts0: 4294960000 }); // both counters wrap
      // swap two neighbours: the reorder buffer must put them back
      const bytes = pkts.map((p) => serializeRtp(p));
      [bytes[40], bytes[41]] = [bytes[41] as Uint8Array, bytes[40] as Uint8Array];
      await sendAll(caller.socket, relay.caller.pair.rtpPort, bytes);
      await waitFor(() => agent.received.length >= pkts.length - 3); // the reorder buffer may hold the last few
      await waitFor(() => digits.length >= CARD.length);
      const heard = receivedAudio(agent);
      assert.deepEqual(detectDtmf(heard), [], 'the agent hears no digit');
      assert.equal(digits.map((d) => d.digit).join(''), CARD);
      assert.ok(digits.every((d) => d.source === 'inband'));
      assertContiguous(agent.received);
      assert.ok(agent.received.every((p) => p.ssrc === agent.received[0]?.ssrc && p.ssrc !== 0x1234), 'one rewritten SSRC');
      // timestamps advance one frame per packet (30 ms masker delay is inside the payload, not the header)
      const sorted = [...agent.received].sort((a, b) => (((a.sequenceNumber - b.sequenceNumber) << 16) >> 16));
      for (let i = 1; i < sorted.length; i++) {
        assert.equal(((sorted[i] as RtpPacket).timestamp - (sorted[i - 1] as RtpPacket).timestamp) >>> 0, FRAME);
      }
      assert.equal(relay.stats.callerToAgent.rejected, 0);
    } finally {
      await teardown();
    }
  });

  it('secure mode: RFC 4733 events never reach the agent; their digits reach the sink', async () => {
    const { caller, agent, relay, digits, teardown } = await setup({ secure: true });
    try {
      const keys = '5454*#09';
      const ssrc = 0xabcdef;
      let seq = 100;
      let ts = 16000;
      const bytes: Uint8Array[] = [];
      const quiet = whiteNoise(FRAME * 4, 300, 7);
      for (const k of keys) {
        for (const p of audioPackets(quiet, { ssrc, seq0: seq, ts0: ts })) bytes.push(serializeRtp(p));
        seq += 4;
        ts += 4 * FRAME;
        const ev = buildTelephoneEventPackets({ event: digitToEvent(k as DtmfDigit), durationSamples: 800, payloadType: TE_PT, ssrc, startTimestamp: ts, startSequence: seq });
        for (const e of ev) bytes.push(serializeRtp(e.packet));
        seq += ev.length;
        ts += 800;
      }
      for (const p of audioPackets(quiet, { ssrc, seq0: seq, ts0: ts })) bytes.push(serializeRtp(p));
      const audioCount = (keys.length + 1) * 4;
      await sendAll(caller.socket, relay.caller.pair.rtpPort, bytes);
      await waitFor(() => digits.length >= keys.length);
      await waitFor(() => agent.received.length >= audioCount - 3);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(agent.raw.length <= audioCount);
      assert.ok(agent.received.every((p) => p.payloadType === PCMU), 'no telephone-event packet reached the agent');
      assert.equal(digits.map((d) => d.digit).join(''), keys);
      assert.ok(digits.every((d) => d.source === 'rfc4733'));
      assertContiguous(agent.received); // dropped events leave no sequence gap
      assert.deepEqual(detectDtmf(receivedAudio(agent)), []);
    } finally {
      await teardown();
    }
  });

  it('secure mode off: audio passes bit-exact, headers rewritten, events forwarded, nothing to the sink', async () => {
    const { caller, agent, relay, digits, teardown } = await setup({ secure: false });
    try {
      const audio = whiteNoise(FRAME * 50, 3000, 11);
      const pkts = audioPackets(audio, { ssrc: 0x55, seq0: 7, ts0: 1000 });
      const ev = buildTelephoneEventPackets({ event: 5, durationSamples: 800, payloadType: TE_PT, ssrc: 0x55, startTimestamp: 1000 + 50 * FRAME, startSequence: 7 + 50 });
      await sendAll(caller.socket, relay.caller.pair.rtpPort, [...pkts.map(serializeRtp), ...ev.map((e) => serializeRtp(e.packet))]);
      await waitFor(() => agent.received.length >= pkts.length + ev.length - 3);
      const got = agent.received.filter((p) => p.payloadType === PCMU).sort((a, b) => (((a.sequenceNumber - b.sequenceNumber) << 16) >> 16));
      assert.equal(got.length, pkts.length);
      for (let i = 0; i < got.length; i++) {
        assert.ok(Buffer.from((got[i] as RtpPacket).payload).equals(Buffer.from((pkts[i] as RtpPacket).payload)), `payload ${i} bit-exact`);
      }
      assert.ok(agent.received.some((p) => p.payloadType === TE_PT), 'events are forwarded when secure mode is off');
      assert.ok(got.every((p) => p.ssrc !== 0x55));
      assert.equal(digits.length, 0);
    } finally {
      await teardown();
    }
  });

  it('agent → caller passes through; symmetric RTP refuses a second source; PCMA transcoded', async () => {
    const { caller, agent, relay, teardown } = await setup({ secure: true });
    const intruder = await bind();
    try {
      relay.configure({ ...leg(caller.port), codec: 'PCMA', payloadType: 8 }, leg(agent.port));
      const audio = whiteNoise(FRAME * 10, 2000, 3);
      const pkts = audioPackets(audio, { ssrc: 9, seq0: 1, ts0: 0 });
      await sendAll(agent.socket, relay.agent.pair.rtpPort, pkts.map(serializeRtp));
      await waitFor(() => caller.received.length >= pkts.length);
      assert.ok(caller.received.every((p) => p.payloadType === 8));
      const back = receivedAudio(caller, alawDecode, 8);
      const sent = ulawDecode(ulawEncode(audio));
      let maxErr = 0;
      for (let i = 0; i < back.length; i++) maxErr = Math.max(maxErr, Math.abs((back[i] as number) - (sent[i] as number)) / (Math.abs(sent[i] as number) + 64));
      assert.ok(maxErr < 0.2, `transcoding error ${maxErr}`);
      // latched to the agent socket: another source is refused
      const before = relay.stats.agentToCaller.rejected;
      intruder.send(serializeRtp(audioPackets(audio.subarray(0, FRAME), { ssrc: 9, seq0: 11, ts0: 1600 })[0] as RtpPacket), relay.agent.pair.rtpPort, HOST);
      await waitFor(() => relay.stats.agentToCaller.rejected === before + 1);
      assert.equal(caller.received.length, pkts.length);
    } finally {
      await close(intruder);
      await teardown();
    }
  });

  it('SRTP on both legs (independent keys), and close() frees the ports', async () => {
    const inUse = allocator.inUse;
    const caller = await peer();
    const agent = await peer();
    const digits: string[] = [];
    const relay = await MediaRelay.open({ allocator, secure: true, onDigit: (d) => { digits.push(d); } });
    assert.equal(allocator.inUse, inUse + 2);
    const callerKey = srtpOptionsFromCrypto(generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80'));
    const relayToCallerKey = srtpOptionsFromCrypto(generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80'));
    const relayToAgentKey = srtpOptionsFromCrypto(generateCrypto(1, 'AES_CM_128_HMAC_SHA1_32'));
    const agentKey = srtpOptionsFromCrypto(generateCrypto(1, 'AES_CM_128_HMAC_SHA1_32'));
    relay.configure(
      { ...leg(caller.port), srtp: { inbound: new SrtpContext(callerKey), outbound: new SrtpContext(relayToCallerKey) } },
      { ...leg(agent.port), srtp: { inbound: new SrtpContext(agentKey), outbound: new SrtpContext(relayToAgentKey) } },
    );
    try {
      const callerTx = new SrtpContext(callerKey);
      const agentRx = new SrtpContext(relayToAgentKey);
      const { samples } = generateSequence('3782', { onMs: 80, offMs: 80 });
      const pkts = audioPackets(samples, { ssrc: 77, seq0: 0, ts0: 0 });
      await sendAll(caller.socket, relay.caller.pair.rtpPort, pkts.map((p) => callerTx.protectRtp(serializeRtp(p))));
      await waitFor(() => agent.raw.length >= pkts.length - 3);
      await waitFor(() => digits.length >= 4);
      agent.received.length = 0;
      for (const m of agent.raw) agent.received.push(parseRtp(agentRx.unprotectRtp(m), { copy: true }));
      assert.deepEqual(detectDtmf(receivedAudio(agent)), []);
      assert.equal(digits.join(''), '3782');
      // a packet protected with the wrong key is rejected, not forwarded
      const wrong = new SrtpContext(agentKey).protectRtp(serializeRtp(pkts[0] as RtpPacket));
      caller.socket.send(wrong, relay.caller.pair.rtpPort, HOST);
      await waitFor(() => relay.stats.callerToAgent.rejected === 1);
    } finally {
      await relay.close();
      await relay.close(); // idempotent
      await close(caller.socket);
      await close(agent.socket);
    }
    assert.equal(allocator.inUse, inUse);
  });

  it('hostile packets never stop the relay: garbage, odd payload types, empty payloads, wild timestamps', async () => {
    const { caller, agent, relay, digits, teardown } = await setup({ secure: true });
    try {
      const rnd = whiteNoise(4000, 20000, 99);
      const junk: Uint8Array[] = [];
      for (let i = 0; i < 60; i++) junk.push(new Uint8Array(rnd.buffer, i * 40, 1 + (i % 37)));
      const base = { marker: false, ssrc: 0x77, csrcs: [], extension: null, paddingLength: 0 };
      for (let i = 0; i < 40; i++) {
        junk.push(serializeRtp({ ...base, payloadType: [0, 8, 13, 101, 127][i % 5] as number, sequenceNumber: (i * 7919) & 0xffff, timestamp: (i * 0x9e3779b1) >>> 0, payload: new Uint8Array(i % 3 === 0 ? 0 : 4 * (i % 7)) }));
      }
      await sendAll(caller.socket, relay.caller.pair.rtpPort, junk);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(relay.stats.processingErrors, 0);
      // a fresh, well-formed stream afterwards is still masked and relayed
      const before = agent.received.length;
      const { samples } = generateSequence('58', { onMs: 80, offMs: 80 });
      const pkts = audioPackets(samples, { ssrc: 0x88, seq0: 1, ts0: 0 });
      await sendAll(caller.socket, relay.caller.pair.rtpPort, pkts.map(serializeRtp));
      await waitFor(() => digits.map((d) => d.digit).join('').endsWith('58'));
      await waitFor(() => agent.received.length >= before + pkts.length - 3);
    } finally {
      await teardown();
    }
  });

  it('switching secure mode on mid-call masks from then on; off passes again', async () => {
    const { caller, agent, relay, digits, teardown } = await setup({ secure: false });
    try {
      const first = generateSequence('12', { onMs: 80, offMs: 80 }).samples;
      const second = generateSequence('34', { onMs: 80, offMs: 80 }).samples;
      const p1 = audioPackets(first, { ssrc: 5, seq0: 0, ts0: 0 });
      await sendAll(caller.socket, relay.caller.pair.rtpPort, p1.map(serializeRtp));
      await waitFor(() => agent.received.length >= p1.length - 3);
      await new Promise((r) => setTimeout(r, 30));
      relay.setSecure(true);
      const n0 = agent.received.length;
      const p2 = audioPackets(second, { ssrc: 5, seq0: p1.length, ts0: p1.length * FRAME });
      await sendAll(caller.socket, relay.caller.pair.rtpPort, p2.map(serializeRtp));
      await waitFor(() => digits.length >= 2);
      await waitFor(() => agent.received.length >= n0 + p2.length - 3);
      const heard = detectDtmf(receivedAudio(agent)).map((e) => e.digit).join('');
      assert.equal(heard, '12', 'digits before secure mode pass; none after');
      assert.equal(digits.map((d) => d.digit).join(''), '34');
      assert.equal(relay.secure, true);
    } finally {
      await teardown();
    }
  });
});
