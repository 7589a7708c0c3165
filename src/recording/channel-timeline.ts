/**
 * Places one channel's packets on the recording's timeline (8 kHz sample positions since the recorder started).
 *
 * How the two channels stay aligned: both are placed against ONE monotonic wall clock shared by the call. The
 * first packet of a channel is anchored so that its audio ends at its arrival time; every later packet is placed by
 * its RTP timestamp relative to the previous one (RFC 3550 §5.1: the timestamp counts sampling instants, so loss,
 * reordering and silence suppression / DTX leave exactly the right gap, filled with silence by the ring), and a
 * packet that arrives "too early" for that placement pulls the timeline back (the anchoring packet was delayed). When the
 * RTP timeline and the wall clock disagree by more than `toleranceSamples` (a sender restarted its clock, a long
 * hold, clock skew built up over hours) the channel is re-anchored to the wall clock; a packet a little older
 * than the last one (reordering) never does. Alignment error between the two
 * channels is therefore the difference of their least-delayed packets' transit times (well under a millisecond on a
 * LAN, a few ms across a WAN), bounded by the tolerance in the worst case.
 *
 * Pure: no I/O, no allocation.
 */
export class ChannelTimeline {
  readonly toleranceSamples: number;
  #anchored = false;
  #ts = 0;
  #pos = 0;
  #reanchors = 0;
  #corrections = 0;

  constructor(toleranceSamples: number) {
    if (!Number.isInteger(toleranceSamples) || toleranceSamples < 0) throw new RangeError('toleranceSamples must be a non-negative integer');
    this.toleranceSamples = toleranceSamples;
  }

  /** Times a packet pulled the timeline back (its anchor had arrived late). */
  get corrections(): number {
    return this.#corrections;
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
        // A packet cannot arrive before its last sample was sent: if it seems to, the anchoring packet was delayed
        // (the machine or the network was slow then). Pull the timeline back so this one ends at its arrival: the
        // anchor converges on the least-delayed packet, as clock synchronisation does (NTP's minimum-delay filter).
        const early = pos + length - wallPos;
        const placed = early > 0 ? pos - early : pos;
        this.#ts = ts >>> 0;
        this.#pos = placed;
        if (early > 0) this.#corrections++;
        return placed;
      }
      this.#reanchors++;
    }
    this.#anchored = true;
    this.#ts = ts >>> 0;
    this.#pos = wallPos - length;
    return this.#pos;
  }
}
