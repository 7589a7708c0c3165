/**
 * Places one channel's packets on the recording's timeline (8 kHz sample positions since the recorder started).
 *
 * How the two channels stay aligned: both are placed against ONE monotonic wall clock shared by the call. The
 * first packet of a channel is anchored so that its audio ends at its arrival time; every later packet is placed by
 * its RTP timestamp relative to the previous one (RFC 3550 §5.1: the timestamp counts sampling instants, so loss,
 * reordering and silence suppression / DTX leave exactly the right gap, filled with silence by the ring). When the
 * RTP timeline and the wall clock disagree by more than `toleranceSamples` (a sender restarted its clock, a long
 * hold, clock skew built up over hours) the channel is re-anchored to the wall clock; a packet a little older
 * than the last one (reordering) never does. Alignment error between the two
 * channels is therefore the difference of their anchoring packets' arrival jitter (milliseconds on a LAN), bounded by
 * the tolerance in the worst case.
 *
 * Pure: no I/O, no allocation.
 */
export class ChannelTimeline {
  readonly toleranceSamples: number;
  #anchored = false;
  #ts = 0;
  #pos = 0;
  #reanchors = 0;

  constructor(toleranceSamples: number) {
    if (!Number.isInteger(toleranceSamples) || toleranceSamples < 0) throw new RangeError('toleranceSamples must be a non-negative integer');
    this.toleranceSamples = toleranceSamples;
  }

  /** Times the channel was re-anchored to the wall clock after its first packet. */
  get reanchors(): number {
    return this.#reanchors;
  }

  /**
   * The timeline position of the first sample of a packet with RTP timestamp `ts` carrying `length` samples that
   * arrived at timeline position `wallPos`.
   */
  place(ts: number, length: number, wallPos: number): number {
    if (this.#anchored) {
      // serial difference (RFC 3550 §5.1 wrap-around): signed 32-bit
      const diff = (ts - this.#ts) | 0;
      const pos = this.#pos + diff;
      // A slightly older packet (reordered, late) goes where it belongs and never moves the anchor: it says nothing
      // about the sender's clock now (the ring drops it if its place is already written). A step back by more than
      // the tolerance is a restarted clock: handled like a jump below.
      if (diff < 0 && -diff <= this.toleranceSamples) return pos;
      if (Math.abs(pos + length - wallPos) <= this.toleranceSamples) {
        this.#ts = ts >>> 0;
        this.#pos = pos;
        return pos;
      }
      this.#reanchors++;
    }
    this.#anchored = true;
    this.#ts = ts >>> 0;
    this.#pos = wallPos - length;
    return this.#pos;
  }
}
