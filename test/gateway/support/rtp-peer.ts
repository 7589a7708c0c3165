/**
 * Test RTP endpoints on 127.0.0.1 for relay tests: a UDP socket that records what it receives, G.711 packetisation
 * of PCM, and a wait-for-condition loop (no fixed sleeps).
 */
import dgram from 'node:dgram';
import { ulawDecode, ulawEncode } from '../../../src/dsp/index.ts';
import type { LegMedia } from '../../../src/gateway/index.ts';
import { parseRtp, type RtpPacket } from '../../../src/media/index.ts';

export const HOST = '127.0.0.1';
/** 20 ms at 8 kHz. */
export const FRAME = 160;
export const PCMU = 0;

export function bind(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, HOST, () => resolve(s));
  });
}

export function close(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

export interface Peer {
  socket: dgram.Socket;
  port: number;
  received: RtpPacket[];
  raw: Buffer[];
}

export async function peer(): Promise<Peer> {
  const socket = await bind();
  const p: Peer = { socket, port: socket.address().port, received: [], raw: [] };
  socket.on('message', (m) => {
    p.raw.push(m);
    try {
      p.received.push(parseRtp(m, { copy: true }));
    } catch {
      // counted by the test through raw.length
    }
  });
  return p;
}

export async function waitFor(cond: () => boolean, ms = 5000, what = 'packets'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One RTP packet per 20 ms frame of `pcm` (the last may be shorter). */
export function audioPackets(pcm: Int16Array, o: { ssrc: number; seq0: number; ts0: number; pt?: number; encode?: (x: Int16Array) => Uint8Array }): RtpPacket[] {
  const out: RtpPacket[] = [];
  for (let i = 0; i * FRAME < pcm.length; i++) {
    const chunk = pcm.subarray(i * FRAME, Math.min(pcm.length, (i + 1) * FRAME));
    out.push({
      marker: i === 0, payloadType: o.pt ?? PCMU, sequenceNumber: (o.seq0 + i) & 0xffff, timestamp: (o.ts0 + i * FRAME) >>> 0,
      ssrc: o.ssrc, csrcs: [], extension: null, payload: (o.encode ?? ulawEncode)(chunk), paddingLength: 0,
    });
  }
  return out;
}

/** telephone-event payload type used by the relay tests. */
export const TE_PT = 101;

/** Sends in small bursts so loopback buffers never overflow. */
export async function sendAll(from: dgram.Socket, port: number, packets: Uint8Array[]): Promise<void> {
  for (let i = 0; i < packets.length; i++) {
    from.send(packets[i] as Uint8Array, port, HOST);
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
  }
}

/** A PCMU leg whose far end is `port` on loopback. */
export function pcmuLeg(port: number, te: number | null = TE_PT): LegMedia {
  return { codec: 'PCMU', payloadType: PCMU, telephoneEventPayloadType: te, remote: { address: HOST, port } };
}

/** Received audio in (rewritten) sequence order, decoded; packets of other payload types (events) left out. */
export function receivedAudio(p: Peer, decode = ulawDecode, audioPt = PCMU): Int16Array {
  const pkts = p.received.filter((x) => x.payloadType === audioPt).sort((a, b) => ((a.sequenceNumber - b.sequenceNumber) << 16) >> 16);
  const parts = pkts.map((x) => decode(x.payload));
  const out = new Int16Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}
