/**
 * Cardline's own RTCP on each leg of a MediaRelay (RFC 3550 §6), over real UDP on 127.0.0.1 with a short interval:
 * the SRs captured at a leg's RTCP socket are parsed with our parser and checked against what really crossed the
 * wire — SSRC = the rewritten SSRC the leg receives RTP from, packet/octet counts, a report block with the loss the
 * test caused, LSR/DLSR after the peer's own SR — then rtcp-mux (RFC 5761) with SRTCP (RFC 3711 §3.4, decrypted by
 * libsrtp) and BYE at close; through the B2BUA, rtcp-mux answered when the caller offers it and the agent's a=rtcp used.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { ulawEncode } from '../../src/dsp/index.ts';
import { B2bua } from '../../src/gateway/b2bua.ts';
import { MediaRelay, type LegMedia } from '../../src/gateway/media-relay.ts';
import { TimerWheel } from '../../src/gateway/timer-wheel.ts';
import {
  describeMedia, generateCrypto, looksLikeRtcp, parseSdp, ntpFromUnixMs, ntpMiddle32, parseRtcp, parseRtp, type RtcpPacket, type RtcpReportBlock,
  type RtcpSenderReport, RtpPortAllocator, sdesCname, serializeRtcp, serializeRtp, SrtpContext, srtpOptionsFromCrypto,
} from '../../src/media/index.ts';
import { type IncomingInvite, SipStack, UdpTransport, UserAgentCore } from '../../src/sip/index.ts';
import { libsrtpUnavailable, runLibsrtp } from '../media/support/libsrtp.ts';

const HOST = '127.0.0.1';
const base = 48000 + (process.pid % 100) * 20;
const allocator = new RtpPortAllocator({ address: HOST, minPort: base, maxPort: base + 19 });
const sockets: dgram.Socket[] = [];

after(async () => {
  for (const s of sockets) s.close();
  await allocator.close();
});

interface Endpoint {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
  rtpIn: Buffer[];
  rtcpIn: Buffer[];
}

function bind(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, HOST, () => resolve(s));
    sockets.push(s);
  });
}

async function endpoint(): Promise<Endpoint> {
  const e: Endpoint = { rtp: await bind(), rtcp: await bind(), rtpIn: [], rtcpIn: [] };
  e.rtp.on('message', (m) => e.rtpIn.push(m));
  e.rtcp.on('message', (m) => e.rtcpIn.push(m));
  return e;
}

function legFor(e: Endpoint, extra: Partial<LegMedia> = {}): LegMedia {
  return {
    codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: null, remote: { address: HOST, port: e.rtp.address().port },
    rtcpRemote: { address: HOST, port: e.rtcp.address().port }, ...extra,
  };
}

async function waitFor<T>(probe: () => T | undefined, what: string, ms = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const voice = ulawEncode(new Int16Array(160).map((_, i) => Math.round(3000 * Math.sin(i / 4))));

function rtp(ssrc: number, seq: number): Uint8Array {
  return serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc, csrcs: [], extension: null, payload: voice, paddingLength: 0 });
}

async function sendPaced(from: dgram.Socket, port: number, packets: Uint8Array[]): Promise<void> {
  for (let i = 0; i < packets.length; i++) {
    from.send(packets[i] as Uint8Array, port, HOST);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * The compounds a leg's far end got from Cardline's SSRC `ssrc` on it. Other datagrams are left out: on a machine
 * running many tests, an ephemeral port can be a stale destination of another process's RTCP.
 */
const compounds = (raw: readonly Buffer[], ssrc: number): RtcpPacket[][] => raw.flatMap((b) => {
  try {
    const c = parseRtcp(b);
    const f = c[0];
    return (f?.type === 'sr' || f?.type === 'rr') && f.ssrc === ssrc ? [c] : [];
  } catch {
    return [];
  }
});
const srs = (cs: RtcpPacket[][]): RtcpSenderReport[] => cs.map((c) => c[0]).filter((p): p is RtcpSenderReport => p?.type === 'sr');

describe("MediaRelay: Cardline's own RTCP per leg", () => {
  it('SR per leg: rewritten SSRC, counts, NTP/RTP time, loss in the report block, LSR/DLSR, CNAME; BYE at close', async () => {
    const caller = await endpoint();
    const agent = await endpoint();
    const wheel = new TimerWheel({ tickMs: 20 });
    const relay = await MediaRelay.open({ allocator, onDigit: () => undefined, rtcpIntervalMs: 300, timerWheel: wheel });
    relay.configure(legFor(caller), legFor(agent));
    const CALLER_SSRC = 0xca11;
    const AGENT_SSRC = 0xa6e7;
    // caller → agent: seq 1000..1059 with 1020..1024 lost upstream; agent → caller: 30 packets
    const lost = new Set([1020, 1021, 1022, 1023, 1024]);
    const fromCaller = Array.from({ length: 60 }, (_, i) => 1000 + i).filter((s) => !lost.has(s)).map((s) => rtp(CALLER_SSRC, s));
    await sendPaced(caller.rtp, relay.caller.pair.rtpPort, fromCaller);
    await sendPaced(agent.rtp, relay.agent.pair.rtpPort, Array.from({ length: 30 }, (_, i) => rtp(AGENT_SSRC, 7 + i)));
    await waitFor(() => (caller.rtpIn.length >= 30 ? true : undefined), 'agent audio at the caller');
    const sentAt = Date.now();

    // the caller leg: an SR counting exactly what reached the caller, with a block about the caller's stream
    const callerSr = await waitFor(() => srs(compounds(caller.rtcpIn, relay.caller.rewriter.ssrc)).find((p) => p.packetCount === 30 && p.reports[0]?.highestSequence === 1059), 'a complete SR on the caller leg');
    const toCaller = caller.rtpIn.map((m) => parseRtp(m));
    assert.equal(callerSr.ssrc, relay.caller.rewriter.ssrc);
    assert.ok(toCaller.every((p) => p.ssrc === callerSr.ssrc), 'the SR speaks for the SSRC the caller receives');
    assert.equal(callerSr.octetCount, toCaller.reduce((n, p) => n + p.payload.length, 0));
    const block = callerSr.reports[0] as RtcpReportBlock;
    assert.equal(block.ssrc, CALLER_SSRC);
    assert.equal(block.cumulativeLost, 5);
    assert.ok(Math.abs(ntpFromUnixMs(sentAt).seconds - callerSr.ntpSeconds) <= 5, 'NTP timestamp from the wall clock');
    const lastTs = toCaller.map((p) => p.timestamp).reduce((a, b) => (((b - a) | 0) > 0 ? b : a));
    const ahead = (callerSr.rtpTimestamp - lastTs) | 0;
    assert.ok(ahead >= 0 && ahead <= 8 * 20_000, `RTP timestamp = last sent + elapsed (${ahead} samples ahead)`);
    const all = compounds(caller.rtcpIn, callerSr.ssrc);
    const blocks = all.flatMap((c) => (c[0]?.type === 'sr' || c[0]?.type === 'rr' ? c[0].reports : []));
    assert.ok(blocks.some((b) => b.fractionLost > 0), 'a report saw the loss as a fraction');
    assert.ok(blocks.every((b) => b.lastSr === 0 && b.delaySinceLastSr === 0), 'no LSR before the caller sent an SR');
    const cnames = new Set(all.map((c) => {
      const sdes = c.find((p) => p.type === 'sdes');
      return sdes?.type === 'sdes' && sdes.chunks[0] ? `${sdes.chunks[0].ssrc}/${sdesCname(sdes.chunks[0])}` : 'none';
    }));
    assert.deepEqual([...cnames], [`${callerSr.ssrc}/${[...cnames][0]?.split('/')[1]}`], 'every compound carries one stable CNAME for the SSRC');

    // the agent leg: its SR counts the 55 packets the agent got; no loss on that side of Cardline
    const agentSr = await waitFor(() => srs(compounds(agent.rtcpIn, relay.agent.rewriter.ssrc)).find((p) => p.packetCount === 55 && p.reports[0]?.highestSequence === 36), 'a complete SR on the agent leg');
    assert.equal(agentSr.ssrc, relay.agent.rewriter.ssrc);
    assert.ok(agent.rtpIn.every((m) => parseRtp(m).ssrc === agentSr.ssrc));
    assert.equal(agentSr.octetCount, 55 * 160);
    assert.deepEqual([agentSr.reports[0]?.ssrc, agentSr.reports[0]?.cumulativeLost], [AGENT_SSRC, 0]);
    assert.notEqual(agentSr.ssrc, callerSr.ssrc);

    // the caller sends its own SR: the next report carries LSR = its middle 32 bits and DLSR = the time since
    const ntp = { seconds: 3_900_000_123, fraction: 0x89abcdef };
    const callerOwn = serializeRtcp([{ type: 'sr', ssrc: CALLER_SSRC, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: 5, packetCount: 55, octetCount: 8800, reports: [], extension: new Uint8Array(0) }]);
    const before = caller.rtcpIn.length;
    const t0 = performance.now();
    caller.rtcp.send(callerOwn, relay.caller.pair.rtcpPort, HOST);
    const withLsr = await waitFor(() => compounds(caller.rtcpIn.slice(before), callerSr.ssrc).map((c) => c[0]).find((p) => (p?.type === 'sr' || p?.type === 'rr') && p.reports[0]?.lastSr !== 0), 'a report with LSR');
    const elapsed = performance.now() - t0;
    assert.ok(withLsr?.type === 'sr' || withLsr?.type === 'rr');
    const b2 = withLsr.reports[0] as RtcpReportBlock;
    assert.equal(b2.lastSr, ntpMiddle32(ntp.seconds, ntp.fraction));
    assert.equal(b2.lastSr, 0x477b89ab); // 3_900_000_123 = 0xe875477b: low 16 bits of the seconds, high 16 of the fraction
    assert.ok(b2.delaySinceLastSr > 0 && b2.delaySinceLastSr <= Math.ceil(((elapsed + 5) * 65536) / 1000), `DLSR ${b2.delaySinceLastSr} within the ${elapsed.toFixed(0)} ms elapsed`);
    const delivered = compounds(caller.rtcpIn, callerSr.ssrc).length + compounds(agent.rtcpIn, agentSr.ssrc).length;
    assert.ok(delivered >= 3 && relay.stats.rtcpSent >= delivered, `rtcpSent ${relay.stats.rtcpSent} counts the ${delivered} compounds delivered`);

    // hang-up: a last compound with BYE for Cardline's SSRC on each leg
    const callerBefore = caller.rtcpIn.length;
    const agentBefore = agent.rtcpIn.length;
    await relay.close();
    for (const [e, n, ssrc] of [[caller, callerBefore, callerSr.ssrc], [agent, agentBefore, agentSr.ssrc]] as const) {
      const last = await waitFor(() => compounds(e.rtcpIn.slice(n), ssrc).find((c) => c.some((p) => p.type === 'bye')), 'BYE');
      const bye = last.find((p) => p.type === 'bye');
      assert.deepEqual(bye?.type === 'bye' ? bye.ssrcs : [], [ssrc]);
      assert.equal(last[1]?.type, 'sdes', 'BYE follows SR/RR and SDES (RFC 3550 §6.1)');
    }
    assert.equal(wheel.size, 0, 'no report stays scheduled after close');
    wheel.close();
  });

  it('rtcp-mux on an SRTP leg: SRTCP on the RTP port (libsrtp decrypts it); muxed SRTCP from the peer sets LSR', { skip: libsrtpUnavailable() ?? false }, async () => {
    const caller = await endpoint();
    const agent = await endpoint();
    const callerKey = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
    const relayKey = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
    const wheel = new TimerWheel({ tickMs: 20 });
    const relay = await MediaRelay.open({ allocator, onDigit: () => undefined, rtcpIntervalMs: 300, timerWheel: wheel });
    relay.configure(
      legFor(caller, { rtcpMux: true, srtp: { inbound: new SrtpContext(srtpOptionsFromCrypto(callerKey)), outbound: new SrtpContext(srtpOptionsFromCrypto(relayKey)) } }),
      legFor(agent),
    );
    const callerOut = new SrtpContext(srtpOptionsFromCrypto(callerKey));
    await sendPaced(caller.rtp, relay.caller.pair.rtpPort, Array.from({ length: 20 }, (_, i) => callerOut.protectRtp(rtp(0x5ec, 100 + i))));
    await sendPaced(agent.rtp, relay.agent.pair.rtpPort, Array.from({ length: 10 }, (_, i) => rtp(0xa6, i)));
    const muxed = () => caller.rtpIn.filter((m) => looksLikeRtcp(m));
    const audio = () => caller.rtpIn.length - muxed().length;
    await waitFor(() => (audio() >= 10 && relay.stats.callerToAgent.received >= 20 ? true : undefined), 'the audio through the relay');
    // two reports after all media crossed: the first of them is an SR with complete counts (RFC 3550 §6.4)
    const after = muxed().length;
    await waitFor(() => (muxed().length >= after + 2 ? true : undefined), 'muxed RTCP at the caller RTP port');
    assert.equal(caller.rtcpIn.length, 0, 'nothing on the separate RTCP port');
    const key = relayKey.keys[0]!.keySalt;
    const plain = runLibsrtp('unprotect_rtcp', 80, key, muxed());
    assert.ok(plain.every((p) => p instanceof Uint8Array), 'libsrtp authenticates and decrypts every SRTCP packet');
    const sr = parseRtcp(plain[after] as Uint8Array)[0];
    assert.equal(sr?.type, 'sr');
    if (sr?.type === 'sr') {
      assert.deepEqual([sr.ssrc, sr.packetCount, sr.octetCount], [relay.caller.rewriter.ssrc, 10, 1600]);
      assert.deepEqual([sr.reports[0]?.ssrc, sr.reports[0]?.cumulativeLost, sr.reports[0]?.highestSequence], [0x5ec, 0, 119]);
    }
    // the caller's own SR, as SRTCP muxed on the RTP port
    const ntp = ntpFromUnixMs(Date.now());
    const own = callerOut.protectRtcp(serializeRtcp([{ type: 'sr', ssrc: 0x5ec, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: 1, packetCount: 20, octetCount: 3200, reports: [], extension: new Uint8Array(0) }]));
    const n = muxed().length;
    caller.rtp.send(own, relay.caller.pair.rtpPort, HOST);
    // our own SRTCP context reads the reports that follow (each packet once: SRTCP has a replay window)
    const rx = new SrtpContext(srtpOptionsFromCrypto(relayKey));
    let checked = n;
    const lsr = await waitFor(() => {
      const all = muxed();
      for (; checked < all.length; checked++) {
        const c = parseRtcp(rx.unprotectRtcp(all[checked] as Buffer));
        const b = c[0]?.type === 'sr' || c[0]?.type === 'rr' ? c[0].reports[0] : undefined;
        if (b && b.lastSr !== 0) return b.lastSr;
      }
      return undefined;
    }, 'LSR from the muxed SRTCP SR');
    assert.equal(lsr, ntpMiddle32(ntp.seconds, ntp.fraction));
    // a forged (unauthenticated) RTCP packet is rejected, not read
    const rejected = relay.stats.rtcpRejected;
    caller.rtp.send(serializeRtcp([{ type: 'rr', ssrc: 0x5ec, reports: [], extension: new Uint8Array(0) }]), relay.caller.pair.rtpPort, HOST);
    await waitFor(() => (relay.stats.rtcpRejected > rejected ? true : undefined), 'the forged RTCP rejected');
    await relay.close();
    wheel.close();
  });

  it('through the B2BUA: rtcp-mux is answered when the caller offers it (RTCP on the RTP port), a=rtcp of the agent is honoured', async () => {
    const cores: Array<{ ua: UserAgentCore; stack: SipStack }> = [];
    const core = async () => {
      const stack = new SipStack({ transports: [new UdpTransport({ address: HOST })], timers: { T1: 20, T2: 160, T4: 200 } });
      await stack.start();
      const c = { ua: new UserAgentCore({ stack }), stack };
      cores.push(c);
      return { ua: c.ua, port: stack.layer.transports[0]!.local.port };
    };
    const callerSip = await core();
    const cardline = await core();
    const agentSip = await core();
    const b2bua = new B2bua({
      ua: cardline.ua, allocator, rtcpIntervalMs: 300,
      routes: [{ requestUri: /^sip:pay@/, target: `sip:agent@${HOST}:${agentSip.port}` }],
    });
    const caller = await endpoint();
    const agent = await endpoint();
    try {
      const offered = new Promise<IncomingInvite>((r) => { agentSip.ua.onInvite = r; });
      const sdp = (port: number, extra: string) => `v=0\r\no=- 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n${extra}`;
      const call = callerSip.ua.invite({ uri: `sip:pay@${HOST}:${cardline.port}`, from: '<sip:a@example.com>', body: sdp(caller.rtp.address().port, 'a=rtcp-mux\r\n') });
      const inv = await offered;
      const offer = describeMedia(parseSdp(new TextDecoder().decode(inv.request.body)), 0);
      assert.equal(offer.rtcpMux, true, 'the agent-leg offer proposes rtcp-mux (RFC 5761 §5.1.1)');
      assert.equal(offer.rtcp.port, offer.port + 1, 'with a=rtcp for an agent that does not mux (RFC 5761 §5.1.3)');
      // the agent does not mux and names a separate RTCP port (RFC 3605)
      inv.accept({ body: sdp(agent.rtp.address().port, `a=rtcp:${agent.rtcp.address().port}\r\n`) });
      const outcome = await call.outcome;
      assert.equal(outcome.kind, 'answered');
      if (outcome.kind !== 'answered') return;
      const answer = describeMedia(parseSdp(new TextDecoder().decode(outcome.response.body)), 0);
      assert.equal(answer.rtcpMux, true, 'the caller offered rtcp-mux: accepted');
      await sendPaced(caller.rtp, answer.port, Array.from({ length: 10 }, (_, i) => rtp(0x11, i)));
      await sendPaced(agent.rtp, offer.port, Array.from({ length: 10 }, (_, i) => rtp(0x22, i)));
      const muxedAtCaller = () => caller.rtpIn.filter((m) => looksLikeRtcp(m));
      await waitFor(() => (muxedAtCaller().length >= 1 && agent.rtcpIn.length >= 1 ? true : undefined), 'RTCP on both legs');
      assert.equal(caller.rtcpIn.length, 0, 'nothing to the caller RTP port + 1: the caller leg is muxed');
      const atCaller = parseRtcp(muxedAtCaller()[0] as Buffer);
      const atAgent = parseRtcp(agent.rtcpIn[0] as Buffer);
      const callerAudio = caller.rtpIn.filter((m) => !looksLikeRtcp(m)).map((m) => parseRtp(m).ssrc);
      const agentAudio = agent.rtpIn.map((m) => parseRtp(m).ssrc);
      for (const [c, ssrcs] of [[atCaller, callerAudio], [atAgent, agentAudio]] as const) {
        const first = c[0];
        assert.ok(first?.type === 'sr' || first?.type === 'rr');
        assert.ok(ssrcs.length > 0 && ssrcs.every((x) => x === first.ssrc), 'reports for the SSRC that leg receives RTP from');
      }
      await outcome.dialog.bye();
    } finally {
      await b2bua.close();
      for (const c of cores) c.ua.close();
      await Promise.all(cores.map((c) => c.stack.close()));
    }
  });
});
