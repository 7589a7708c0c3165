/**
 * Network-order (big-endian) field access on Uint8Array, shared by the binary codecs of this folder.
 * Callers check lengths before reading; these helpers do no bounds checking of their own (with
 * `noUncheckedIndexedAccess` an out-of-range read would be `undefined`, which `| 0`-style arithmetic
 * would silently turn into 0 — so every parser validates the length first, then reads).
 */

export function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

export function u24(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 16) | ((b[o + 1] as number) << 8) | (b[o + 2] as number);
}

export function u32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function put24(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 16) & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = v & 0xff;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export function isUint(v: number, bits: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < 2 ** bits;
}

/** Serial-number difference a − b in a `bits`-bit space, in (−2^(bits−1), 2^(bits−1)] (RFC 1982 style). */
export function serialDiff(a: number, b: number, bits: 16 | 32): number {
  const m = 2 ** bits;
  let d = (a - b) % m;
  if (d < 0) d += m;
  return d > m / 2 ? d - m : d;
}
