/**
 * Agent-side in-band triggers on the MediaRelay over real UDP sockets (issue 6 "Secure mode"): the agent types
 * `#388*` (tones inside speech, or RFC 4733 events) → secure mode turns on, the caller hears no trigger digit (by
 * Cardline's detector AND spandsp's), then the caller's card tones are masked towards the agent and reach the sink;
 * `#388#` turns it off. An agent key that is no trigger reaches the caller re-generated as a clean tone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { detectDtmf, type DtmfDigit, generateSequence } from '../../src/dsp/index.ts';
import { MediaRelay, type SecureDigitSource } from '../../src/gateway/index.ts';
import { buildTelephoneEventPackets, digitToEvent, RtpPortAllocator, serializeRtp } from '../../src/media/index.ts';
import { concat, silence, whiteNoise } from '../support/audio.ts';
import { speechClips } from '../support/corpus.ts';
import { spandspDetect } from '../support/spandsp.ts';
import {
  audioPackets, close, FRAME, HOST, pcmuLeg, peer, type Peer, receivedAudio, sendAll, TE_PT, waitFor,
} from './support/rtp-peer.ts';

const CARD = '4111111111111111';
const TRIGGERS = { start: '#388*', end: '#388#' };
const tones = (keys: string): Int16Array => generateSequence(keys, { onMs: 80, offMs: 80, levelDbm0: -8 }).samples;

/** A stream from one side: keeps SSRC, sequence and timestamp running across sends. */
class Stream {
  seq = 1000;
  ts = 80_000;
  sent = 0;
  constructor(readonly from: Peer, readonly toPort: number, readonly ssrc: number) {}

  async audio(pcm: Int16Array): Promise<void> {
    const pkts = audioPackets(pcm, { ssrc: this.ssrc, seq0: this.seq, ts0: this.ts });
    this.seq = (this.seq + pkts.length) & 0xffff;
    this.ts = (this.ts + pkts.length * FRAME) >>> 0;
    this.sent += pkts.length;
    await sendAll(this.from.socket, this.toPort, pkts.map((p) => serializeRtp(p)));
  }

  /** One RFC 4733 key press (100 ms) in place of 100 ms of audio. */
  async event(k: DtmfDigit): Promise<void> {
    const ev = buildTelephoneEventPackets({ event: digitToEvent(k), durationSamples: 800, payloadType: TE_PT, ssrc: this.ssrc, startTimestamp: this.ts, startSequence: this.seq });
    this.seq = (this.seq + ev.length) & 0xffff;
    this.ts = (this.ts + 800) >>> 0;
    await sendAll(this.from.socket, this.toPort, ev.map((e) => serializeRtp(e.packet)));
  }
}

async function allDigits(x: Int16Array): Promise<{ ours: string; spandsp: string; sensitive: string }> {
  return {
    ours: detectDtmf(x).map((e) => e.digit).join(''),
    spandsp: (await spandspDetect(x)).map((d) => d.digit).join(''),
    sensitive: (await spandspDetect(x, { sensitive: true })).map((d) => d.digit).join(''),
  };
}

describe('MediaRelay: agent-side triggers', () => {
  let allocator: RtpPortAllocator;
  let speech: Int16Array;
  before(async () => {
    const base = 43000 + (process.pid % 200) * 20;
    allocator = new RtpPortAllocator({ address: HOST, minPort: base, maxPort: base + 19 });
    const clips = await speechClips({ bandLimit: true });
    speech = (clips[0]?.samples ?? whiteNoise(16000, 2000, 3)).subarray(0, 12_000); // 1.5 s of a voice
  });
  after(async () => {
    await allocator.close();
  });

  async function setup() {
    const caller = await peer();
    const agent = await peer();
    const digits: { digit: DtmfDigit; source: SecureDigitSource }[] = [];
    const triggers: string[] = [];
    const relay: MediaRelay = await MediaRelay.open({
      allocator, triggers: TRIGGERS,
      onDigit: (digit, source) => digits.push({ digit, source }),
      onTrigger: (which) => {
        triggers.push(which);
        relay.setSecure(which === 'start'); // what the B2BUA does through the Call
      },
    });
    relay.configure(pcmuLeg(caller.port), pcmuLeg(agent.port));
    const fromAgent = new Stream(agent, relay.agent.pair.rtpPort, 0xa9e17);
    const fromCaller = new Stream(caller, relay.caller.pair.rtpPort, 0xca11e4);
    const teardown = async (): Promise<void> => {
      await relay.close();
      await close(caller.socket);
      await close(agent.socket);
    };
    return { caller, agent, relay, digits, triggers, fromAgent, fromCaller, teardown };
  }

  it('in-band #388* inside speech: secure on, the caller hears no trigger digit; card masked; #388# off; a non-trigger key is re-generated', async () => {
    const w = await setup();
    try {
      assert.equal(w.relay.triggersArmed, true);
      await w.fromAgent.audio(concat(speech, tones('#388*'), speech));
      await waitFor(() => w.triggers.length === 1, 10_000, 'the start trigger');
      assert.deepEqual([w.triggers, w.relay.secure], [['start'], true]);
      await waitFor(() => w.caller.received.length >= w.fromAgent.sent, 10_000, 'agent audio at the caller');
      const phase1 = receivedAudio(w.caller);
      assert.deepEqual(await allDigits(phase1), { ours: '', spandsp: '', sensitive: '' }, 'no trigger digit reaches the caller');

      // secure mode by trigger masks the caller's card towards the agent, digits go to the sink
      await w.fromCaller.audio(concat(silence(800), tones(CARD), silence(1600)));
      await waitFor(() => w.digits.length >= CARD.length, 10_000, 'card digits at the sink');
      await waitFor(() => w.agent.received.length >= w.fromCaller.sent - 3, 10_000, 'caller audio at the agent');
      assert.equal(w.digits.map((d) => d.digit).join(''), CARD);
      assert.deepEqual(await allDigits(receivedAudio(w.agent)), { ours: '', spandsp: '', sensitive: '' }, 'the agent hears no card digit');

      // a key that is no trigger (5) reaches the caller as a clean tone; #388# ends secure mode unheard
      await w.fromAgent.audio(concat(speech.subarray(0, 4000), tones('5'), speech.subarray(0, 4000), tones('#388#'), speech));
      await waitFor(() => w.triggers.length === 2, 10_000, 'the end trigger');
      assert.deepEqual([w.triggers, w.relay.secure], [['start', 'end'], false]);
      await waitFor(() => w.caller.received.length >= w.fromAgent.sent, 10_000, 'agent audio at the caller');
      assert.deepEqual(await allDigits(receivedAudio(w.caller)), { ours: '5', spandsp: '5', sensitive: '5' });
      const s = w.relay.stats;
      assert.deepEqual([s.triggersMatched, s.agentKeysReleased, s.processingErrors], [2, 1, 0]);
    } finally {
      await w.teardown();
    }
  });

  it('RFC 4733 #388* from the agent: events held (none reach the caller), secure on; #388# off; a non-trigger event is re-generated in-band', async () => {
    const w = await setup();
    try {
      const quiet = whiteNoise(FRAME * 4, 300, 5);
      const keys = async (ks: string): Promise<void> => {
        for (const k of ks) {
          await w.fromAgent.audio(quiet);
          await w.fromAgent.event(k as DtmfDigit);
        }
        await w.fromAgent.audio(quiet);
      };
      await keys('#388*');
      await waitFor(() => w.triggers.length === 1, 10_000, 'the start trigger');
      assert.equal(w.relay.secure, true);
      await keys('7');
      await w.fromAgent.audio(concat(silence(1600), quiet));
      await keys('#388#');
      await waitFor(() => w.triggers.length === 2, 10_000, 'the end trigger');
      assert.equal(w.relay.secure, false);
      await waitFor(() => w.caller.received.length >= w.fromAgent.sent, 10_000, 'agent audio at the caller');
      assert.ok(w.caller.received.every((p) => p.payloadType === 0), 'no telephone-event packet reached the caller');
      assert.deepEqual(await allDigits(receivedAudio(w.caller)), { ours: '7', spandsp: '7', sensitive: '7' });
      assert.ok(w.relay.stats.agentToCaller.dropped >= 11, 'every event packet held');
    } finally {
      await w.teardown();
    }
  });

  it('without triggers the agent path is a bit-exact pass-through (no masker), agent events forwarded', async () => {
    const caller = await peer();
    const agent = await peer();
    const relay = await MediaRelay.open({ allocator, onDigit: () => {} });
    try {
      relay.configure(pcmuLeg(caller.port), pcmuLeg(agent.port));
      assert.equal(relay.triggersArmed, false);
      const s = new Stream(agent, relay.agent.pair.rtpPort, 0x77);
      const pcm = concat(speech.subarray(0, 3200), tones('#388*'));
      const sentPayloads = audioPackets(pcm, { ssrc: 0x77, seq0: s.seq, ts0: s.ts }).map((p) => Buffer.from(p.payload).toString('hex'));
      await s.audio(pcm);
      await s.event('1');
      await waitFor(() => caller.received.length >= s.sent + 3, 10_000, 'all packets at the caller');
      const audio = caller.received.filter((p) => p.payloadType === 0).map((p) => Buffer.from(p.payload).toString('hex'));
      assert.deepEqual(audio, sentPayloads);
      assert.ok(caller.received.some((p) => p.payloadType === TE_PT));
      assert.equal(relay.secure, false);
    } finally {
      await relay.close();
      await close(caller.socket);
      await close(agent.socket);
    }
  });
});
