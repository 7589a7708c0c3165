/**
 * Jitter-tolerant in-order delivery for one RTP source: a small reorder buffer keyed by sequence number.
 *
 * The DTMF detector and masker need audio in order, and a relay must not add more than a few packets of
 * delay. Packets are released as soon as they are next in sequence; a gap is waited for until
 * `maxDelayPackets` newer packets are queued, then declared lost and skipped. Packets for the skipped
 * (or already released) numbers that arrive afterwards are `late` and dropped; repeats are `duplicates`.
 *
 * Sequence numbers wrap at 2^16 (RFC 3550 §5.1), so they are extended to a running count first. Large
 * jumps follow RFC 3550 Appendix A.1: a jump of MAX_DROPOUT (3000) or more ahead, or MAX_MISORDER (100) or
 * more behind, is believed only when the next packet continues from it (a restarted sender), and then the
 * buffer is flushed and restarted there; a lone wild packet is dropped as `invalid`.
 */
import { MAX_DROPOUT, MAX_MISORDER } from './rtp-source-stats.ts';

export interface ReorderBufferOptions {
  /** Packets held at most while waiting for a missing one (the added delay in packets). Default 3. */
  maxDelayPackets?: number;
}

export interface ReorderStats {
  received: number;
  released: number;
  /** Sequence numbers skipped because they did not arrive within the delay. */
  lost: number;
  duplicates: number;
  /** Arrived after their number was released or skipped. */
  late: number;
  /** Lone packets with a wild sequence number (A.1 "very large jump" not confirmed). */
  invalid: number;
  /** Restarts after a confirmed large jump. */
  resets: number;
}

/** How many released numbers are remembered to tell a duplicate from a late packet. */
const HISTORY = 512;

export class ReorderBuffer<T> {
  readonly maxDelayPackets: number;
  /** Next extended sequence number to release, or null before the first packet. */
  #next: number | null = null;
  readonly #held = new Map<number, T>();
  #highestHeld = -1;
  /** Released (not skipped) extended numbers, as a ring of flags. */
  readonly #releasedRing = new Uint8Array(HISTORY);
  #badSeq = -1;
  readonly #stats: ReorderStats = { received: 0, released: 0, lost: 0, duplicates: 0, late: 0, invalid: 0, resets: 0 };

  constructor(options: ReorderBufferOptions = {}) {
    this.maxDelayPackets = options.maxDelayPackets ?? 3;
    if (!Number.isInteger(this.maxDelayPackets) || this.maxDelayPackets < 0 || this.maxDelayPackets > 1000) {
      throw new RangeError('maxDelayPackets must be an integer in 0..1000');
    }
  }

  get stats(): Readonly<ReorderStats> {
    return { ...this.#stats };
  }

  /** Packets waiting for a gap to fill. */
  get pending(): number {
    return this.#held.size;
  }

  /** Offers one packet; returns the packets now deliverable, in order. */
  push(sequenceNumber: number, item: T): T[] {
    if (!Number.isInteger(sequenceNumber) || sequenceNumber < 0 || sequenceNumber > 0xffff) throw new RangeError('sequence number must be 0..65535');
    this.#stats.received++;
    const out: T[] = [];
    if (this.#next === null) {
      this.#start(sequenceNumber);
    }
    let next = this.#next as number;
    let d = (sequenceNumber - next) & 0xffff; // 0..65535 ahead of `next`
    if (d >= 0x8000) d -= 0x10000; // serial difference in (−2^15, 2^15]
    const reference = Math.max(next - 1, this.#highestHeld);
    let ahead = (sequenceNumber - reference) & 0xffff;
    if (ahead >= 0x8000) ahead -= 0x10000;
    if (ahead >= MAX_DROPOUT || ahead <= -MAX_MISORDER) {
      // A.1 "very large jump": believe it only if the next packet follows it.
      if (sequenceNumber !== this.#badSeq) {
        this.#badSeq = (sequenceNumber + 1) & 0xffff;
        this.#stats.invalid++;
        return out;
      }
      out.push(...this.flush());
      this.#stats.resets++;
      this.#start(sequenceNumber);
      next = this.#next as number;
      d = 0;
    }
    const ext = next + d;
    if (d < 0) {
      if (this.#wasReleased(ext)) this.#stats.duplicates++;
      else this.#stats.late++;
      return out;
    }
    if (this.#held.has(ext)) {
      this.#stats.duplicates++;
      return out;
    }
    this.#held.set(ext, item);
    if (ext > this.#highestHeld) this.#highestHeld = ext;
    this.#drain(out);
    // Give up on the gap once enough newer packets wait behind it.
    while (this.#held.size > this.maxDelayPackets) {
      this.#skipTo(Math.min(...this.#held.keys()));
      this.#drain(out);
    }
    return out;
  }

  /** Releases everything held, in order, skipping gaps (end of stream, or a timer saw no packet for a while). */
  flush(): T[] {
    const out: T[] = [];
    if (this.#next === null) return out;
    const keys = [...this.#held.keys()].sort((a, b) => a - b);
    for (const k of keys) {
      if (!this.#held.has(k)) continue;
      this.#skipTo(k);
      this.#drain(out);
    }
    return out;
  }

  #start(seq: number): void {
    // Extended numbers start high enough that "behind" arithmetic never goes negative.
    this.#next = 0x10000 + seq;
    this.#highestHeld = this.#next - 1;
    this.#held.clear();
    this.#releasedRing.fill(0);
    this.#badSeq = -1;
  }

  #drain(out: T[]): void {
    let next = this.#next as number;
    for (;;) {
      const item = this.#held.get(next);
      if (item === undefined && !this.#held.has(next)) break;
      this.#held.delete(next);
      out.push(item as T);
      this.#stats.released++;
      this.#releasedRing[next % HISTORY] = 1;
      // Forget the slot that just left the history window.
      this.#releasedRing[(next + 1) % HISTORY] = 0;
      next++;
    }
    this.#next = next;
  }

  /** Declares the numbers from `next` up to `ext` (exclusive) lost. */
  #skipTo(ext: number): void {
    const next = this.#next as number;
    if (ext <= next) return;
    this.#stats.lost += ext - next;
    for (let k = next; k < ext && k < next + HISTORY; k++) this.#releasedRing[k % HISTORY] = 0;
    this.#next = ext;
  }

  #wasReleased(ext: number): boolean {
    const next = this.#next as number;
    return next - ext < HISTORY - 1 && this.#releasedRing[ext % HISTORY] === 1;
  }
}
