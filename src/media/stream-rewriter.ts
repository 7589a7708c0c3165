/**
 * Per-leg SSRC / sequence number / timestamp rewriting for what Cardline sends on one leg.
 *
 * A B2BUA that anchors media is an RTP translator towards each far end, which must see one continuous
 * stream (RFC 3550 §7.2, RFC 7667 §3.2.1): one SSRC chosen by Cardline per outgoing leg, sequence numbers
 * that go up by one per packet sent, and timestamps on one timeline, even when the source behind it
 * changes (re-INVITE to another phone, a transfer, the sender restarting, Cardline's own prompt packets).
 *
 * - Within one source, differences are preserved: a timestamp jump (silence suppression, RFC 3551 §4.1)
 *   stays a jump, and a sequence gap caused by loss upstream stays a gap so the far end counts the loss.
 * - A packet Cardline deliberately does not forward (an RFC 4733 event towards the agent) is `skip`ped:
 *   later packets shift down by one, so the agent's receiver sees no loss and no hint a digit was there.
 * - A new source (another SSRC, or a sequence jump beyond RFC 3550 A.1's limits) continues right after the
 *   last packet sent: sequence + 1, and the timestamp advanced by the wall-clock time elapsed (at least
 *   one frame); its first packet gets the marker bit (start of a talkspurt, RFC 3551 §4.1).
 * - `reserve` takes numbers for packets Cardline injects itself (e.g. RFC 4733 prompts), shifting the
 *   relayed ones up so no number is used twice.
 *
 * Feed packets in sequence order (after the reorder buffer); a late packet of the current source is still
 * mapped consistently but is not treated as the newest.
 */
import { randomInt } from 'node:crypto';
import { MAX_DROPOUT, MAX_MISORDER } from './rtp-source-stats.ts';

export interface RtpHeaderFields {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
}

export interface StreamRewriterOptions {
  /** SSRC for this leg; random by default (RFC 3550 §8.1). */
  ssrc?: number;
  /** First outgoing sequence number; random by default (RFC 3550 §5.1). */
  initialSequence?: number;
  /** First outgoing timestamp; random by default. */
  initialTimestamp?: number;
  /** RTP clock rate. Default 8000. */
  clockRate?: number;
  /** Minimum timestamp advance at a source change (one packet). Default 160 (20 ms at 8 kHz). */
  frameSamples?: number;
}

interface SourceMap {
  ssrc: number;
  lastInSeq: number;
  seqOffset: number;
  tsOffset: number;
}

export class RtpStreamRewriter {
  readonly ssrc: number;
  readonly #clockRate: number;
  readonly #frame: number;
  #src: SourceMap | null = null;
  #lastOutSeq: number;
  #lastOutTs: number;
  #lastArrivalMs: number | null = null;
  #sent = 0;

  constructor(o: StreamRewriterOptions = {}) {
    this.ssrc = o.ssrc ?? randomInt(1, 0xffffffff);
    const seq = o.initialSequence ?? randomInt(0, 0x10000);
    const ts = o.initialTimestamp ?? randomInt(0, 0xffffffff);
    if (!Number.isInteger(this.ssrc) || this.ssrc < 0 || this.ssrc > 0xffffffff) throw new RangeError('ssrc must be a u32');
    if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) throw new RangeError('initialSequence must be a u16');
    if (!Number.isInteger(ts) || ts < 0 || ts > 0xffffffff) throw new RangeError('initialTimestamp must be a u32');
    this.#clockRate = o.clockRate ?? 8000;
    this.#frame = o.frameSamples ?? 160;
    if (!(this.#clockRate > 0) || !Number.isInteger(this.#frame) || this.#frame < 1) throw new RangeError('bad clock rate or frame size');
    // "Last sent" starts one before the first packet, so the first one gets exactly the initial values.
    this.#lastOutSeq = (seq - 1) & 0xffff;
    this.#lastOutTs = (ts - this.#frame) >>> 0;
  }

  /** Packets sent through this rewriter (relayed and reserved). */
  get sent(): number {
    return this.#sent;
  }

  /** Maps the header of a packet to forward on this leg. `arrivalMs` is a monotonic clock reading. */
  rewrite(p: RtpHeaderFields, arrivalMs: number): RtpHeaderFields {
    let src = this.#src;
    let marker = p.marker;
    if (!src || src.ssrc !== p.ssrc || this.#isJump(src, p.sequenceNumber)) {
      src = this.#newSource(p, arrivalMs);
      marker = true;
    }
    const seq = (p.sequenceNumber + src.seqOffset) & 0xffff;
    const ts = (p.timestamp + src.tsOffset) >>> 0;
    const newer = ((p.sequenceNumber - src.lastInSeq) & 0xffff) < 0x8000;
    if (newer) {
      src.lastInSeq = p.sequenceNumber;
      this.#lastOutSeq = seq;
      this.#lastOutTs = ts;
      this.#lastArrivalMs = arrivalMs;
    }
    this.#sent++;
    return { ssrc: this.ssrc, sequenceNumber: seq, timestamp: ts, marker };
  }

  /** The packet with this sequence number of the current source is not forwarded: close the gap. */
  skip(p: Pick<RtpHeaderFields, 'ssrc' | 'sequenceNumber'>): void {
    const src = this.#src;
    if (!src || src.ssrc !== p.ssrc) return; // nothing sent from that source yet: nothing to close
    src.seqOffset = (src.seqOffset - 1) & 0xffff;
    if (((p.sequenceNumber - src.lastInSeq) & 0xffff) < 0x8000) src.lastInSeq = p.sequenceNumber;
  }

  /**
   * Takes the next outgoing sequence number for a packet Cardline sends itself, with `timestamp` (default:
   * the current position) on this leg's timeline; relayed packets that follow are shifted up by one.
   */
  reserve(timestamp?: number): { ssrc: number; sequenceNumber: number; timestamp: number } {
    const seq = (this.#lastOutSeq + 1) & 0xffff;
    this.#lastOutSeq = seq;
    if (this.#src) this.#src.seqOffset = (this.#src.seqOffset + 1) & 0xffff;
    const ts = timestamp === undefined ? this.#lastOutTs : timestamp >>> 0;
    this.#sent++;
    return { ssrc: this.ssrc, sequenceNumber: seq, timestamp: ts };
  }

  /** The last timestamp sent on this leg (for building injected packets on the same timeline). */
  get lastTimestamp(): number {
    return this.#lastOutTs;
  }

  #isJump(src: SourceMap, seq: number): boolean {
    const d = (seq - src.lastInSeq) & 0xffff;
    return d >= MAX_DROPOUT && d <= 0x10000 - MAX_MISORDER;
  }

  #newSource(p: RtpHeaderFields, arrivalMs: number): SourceMap {
    const outSeq = (this.#lastOutSeq + 1) & 0xffff;
    let advance = this.#frame;
    if (this.#lastArrivalMs !== null) {
      const elapsed = Math.round(((arrivalMs - this.#lastArrivalMs) * this.#clockRate) / 1000);
      if (elapsed > advance) advance = Math.min(elapsed, 0x7fffffff);
    }
    const outTs = (this.#lastOutTs + advance) >>> 0;
    const src: SourceMap = {
      ssrc: p.ssrc,
      lastInSeq: (p.sequenceNumber - 1) & 0xffff,
      seqOffset: (outSeq - p.sequenceNumber) & 0xffff,
      tsOffset: (outTs - p.timestamp) >>> 0,
    };
    this.#src = src;
    return src;
  }
}
