/**
 * Per-source reception statistics, the algorithms of RFC 3550 Appendix A: sequence number validation
 * with probation (A.1), extended highest sequence number and loss (A.3), interarrival jitter (A.8),
 * and the report block an RR/SR carries for the source (§6.4.1).
 *
 * A.1 constants: a source is valid after MIN_SEQUENTIAL packets in sequence; a jump of MAX_DROPOUT or more
 * ahead, or MAX_MISORDER or more behind, is a "very large jump" and is believed only when the next packet
 * follows it (the sender restarted).
 */
import type { RtcpReportBlock } from './rtcp-packet.ts';

export const RTP_SEQ_MOD = 0x10000;
export const MAX_DROPOUT = 3000;
export const MAX_MISORDER = 100;
export const MIN_SEQUENTIAL = 2;

export class RtpSourceStats {
  readonly ssrc: number;
  #maxSeq = 0;
  #cycles = 0;
  #baseSeq = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  #probation = MIN_SEQUENTIAL;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit: number | null = null;
  /** Jitter estimate in timestamp units, scaled by 16 as in A.8's integer version. */
  #jitter16 = 0;

  constructor(ssrc: number, firstSeq: number) {
    this.ssrc = ssrc;
    this.#initSeq(firstSeq);
    this.#maxSeq = (firstSeq - 1) & 0xffff;
    this.#probation = MIN_SEQUENTIAL;
  }

  #initSeq(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#receivedPrior = 0;
    this.#expectedPrior = 0;
  }

  /** A.1 update_seq: true when the packet counts (valid source, plausible sequence number). */
  updateSeq(seq: number): boolean {
    const udelta = (seq - this.#maxSeq) & 0xffff;
    if (this.#probation > 0) {
      if (seq === ((this.#maxSeq + 1) & 0xffff)) {
        this.#probation--;
        this.#maxSeq = seq;
        if (this.#probation === 0) {
          // As A.1: statistics start at the packet that ends probation.
          this.#initSeq(seq);
          this.#received++;
          return true;
        }
      } else {
        this.#probation = MIN_SEQUENTIAL - 1;
        this.#maxSeq = seq;
      }
      return false;
    }
    if (udelta < MAX_DROPOUT) {
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD; // wrapped
      this.#maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      if (seq === this.#badSeq) {
        this.#initSeq(seq); // two sequential packets after a big jump: the sender restarted
      } else {
        this.#badSeq = (seq + 1) & 0xffff;
        return false;
      }
    }
    // else: duplicate or reordered packet, counted (A.1 does)
    this.#received++;
    return true;
  }

  /**
   * A.8 interarrival jitter. `arrival` is the arrival time in RTP timestamp units (wall clock × clock rate);
   * call for packets that `updateSeq` accepted.
   */
  updateJitter(rtpTimestamp: number, arrival: number): void {
    const transit = (arrival - rtpTimestamp) | 0;
    if (this.#transit !== null) {
      let d = (transit - this.#transit) | 0;
      if (d < 0) d = -d;
      this.#jitter16 += d - ((this.#jitter16 + 8) >> 4);
    }
    this.#transit = transit;
  }

  get valid(): boolean {
    return this.#probation === 0;
  }

  get received(): number {
    return this.#received;
  }

  /** Extended highest sequence number received (A.3). */
  get extendedMaxSeq(): number {
    return this.#cycles + this.#maxSeq;
  }

  get expected(): number {
    return this.extendedMaxSeq - this.#baseSeq + 1;
  }

  /** Cumulative packets lost (may be negative with duplicates), clamped to the 24-bit field. */
  get cumulativeLost(): number {
    return Math.max(-0x800000, Math.min(0x7fffff, this.expected - this.#received));
  }

  get jitter(): number {
    return this.#jitter16 >> 4;
  }

  /** A report block for this source; advances the "since last report" counters used by fraction lost (A.3). */
  reportBlock(lastSr = 0, delaySinceLastSr = 0): RtcpReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.#expectedPrior;
    this.#expectedPrior = expected;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost: this.cumulativeLost,
      highestSequence: this.extendedMaxSeq >>> 0,
      jitter: this.jitter >>> 0,
      lastSr: lastSr >>> 0,
      delaySinceLastSr: delaySinceLastSr >>> 0,
    };
  }
}
