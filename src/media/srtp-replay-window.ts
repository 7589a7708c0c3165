/**
 * Replay protection with a sliding window (RFC 3711 §3.3.2): a packet index is accepted once, if it is newer
 * than the highest seen or within the last `size` indices and not yet seen. §3.3.2 asks for at least 64;
 * the default here is 128 to ride out reordering on busy SBCs.
 *
 * The bitmap is circular: bit (index mod size) says whether that index was seen. Advancing the highest
 * index clears the bits it skips (all of them on a jump ≥ size), so every operation is O(size / 32) at worst.
 * `check` and `accept` are separate because SRTP may only update the window after authentication succeeds.
 */

export type ReplayVerdict = 'new' | 'replay' | 'too-old';

export class ReplayWindow {
  readonly size: number;
  readonly #bits: Uint32Array;
  /** Highest accepted index, or -1 before the first packet. */
  #highest = -1;

  constructor(size = 128) {
    if (!Number.isInteger(size) || size < 64 || size % 32 !== 0 || size > 32768) {
      throw new RangeError('replay window size must be a multiple of 32 in 64..32768');
    }
    this.size = size;
    this.#bits = new Uint32Array(size / 32);
  }

  get highest(): number {
    return this.#highest;
  }

  check(index: number): ReplayVerdict {
    if (index > this.#highest) return 'new';
    if (this.#highest - index >= this.size) return 'too-old';
    const slot = index % this.size;
    return ((this.#bits[slot >>> 5] as number) >>> (slot & 31)) & 1 ? 'replay' : 'new';
  }

  /** Records an authenticated index (call only after `check` returned 'new'). */
  accept(index: number): void {
    if (index > this.#highest) {
      const delta = this.#highest < 0 ? this.size : index - this.#highest;
      if (delta >= this.size) {
        this.#bits.fill(0);
      } else {
        for (let k = this.#highest + 1; k <= index; k++) {
          const slot = k % this.size;
          this.#bits[slot >>> 5] = (this.#bits[slot >>> 5] as number) & ~(1 << (slot & 31));
        }
      }
      this.#highest = index;
    } else if (this.#highest - index >= this.size) {
      return;
    }
    const slot = index % this.size;
    this.#bits[slot >>> 5] = (this.#bits[slot >>> 5] as number) | (1 << (slot & 31));
  }
}
