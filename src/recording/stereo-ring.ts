/**
 * A fixed-size window of the recording's timeline: two 16-bit channels, interleaved (WAV order), addressed by
 * absolute sample position. Packets are written where their timeline position says; everything not written is
 * silence. `drain` hands the oldest frames on (to the file) and clears them for reuse, so memory is bounded by the
 * capacity however long the call. Pure: no I/O; no allocation after construction.
 */
export type RingChannel = 0 | 1;

export class StereoRing {
  readonly capacity: number;
  readonly #buf: Int16Array;
  #start: number;

  /** `capacityFrames` frames of both channels; the window starts at timeline position `start`. */
  constructor(capacityFrames: number, start: number) {
    if (!Number.isInteger(capacityFrames) || capacityFrames < 1) throw new RangeError('capacityFrames must be a positive integer');
    if (!Number.isInteger(start)) throw new RangeError('start must be an integer');
    this.capacity = capacityFrames;
    this.#buf = new Int16Array(capacityFrames * 2);
    this.#start = start;
  }

  /** Position of the oldest frame not yet drained: anything before it is already on its way to the file. */
  get start(): number {
    return this.#start;
  }

  /** One past the last position the window can hold now. */
  get end(): number {
    return this.#start + this.capacity;
  }

  /**
   * Writes `pcm` at timeline position `pos` on `channel` (overwriting). Samples before `start` (late) or at or
   * beyond `end` (too early: drain first) are not written; returns how many were dropped.
   */
  write(channel: RingChannel, pos: number, pcm: Int16Array): number {
    const from = Math.max(pos, this.#start);
    const to = Math.min(pos + pcm.length, this.end);
    if (to <= from) return pcm.length;
    const cap = this.capacity;
    let idx = mod(from, cap);
    for (let i = from - pos, p = from; p < to; i++, p++) {
      this.#buf[idx * 2 + channel] = pcm[i] as number;
      if (++idx === cap) idx = 0;
    }
    return pcm.length - (to - from);
  }

  /**
   * Hands the frames before `upTo` to `sink` in order, as interleaved views (valid only during the call; at most
   * `capacity` frames each — long gaps come as several chunks of silence), and clears them.
   */
  drain(upTo: number, sink: (interleaved: Int16Array, fromPos: number) => void): void {
    const cap = this.capacity;
    while (this.#start < upTo) {
      const idx = mod(this.#start, cap);
      const n = Math.min(upTo - this.#start, cap - idx);
      const view = this.#buf.subarray(idx * 2, (idx + n) * 2);
      try {
        sink(view, this.#start);
      } finally {
        view.fill(0);
        this.#start += n;
      }
    }
  }
}

function mod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r;
}
