/**
 * The cryptographic primitives of SRTP (RFC 3711) on `node:crypto`: AES in counter mode (§4.1.1), the
 * AES-CM key derivation PRF (§4.3), HMAC-SHA1 with truncation (§4.2) and a constant-time tag compare.
 *
 * AES-CM keystream (§4.1.1): block j = AES(k_e, IV + j), IV = (k_s · 2^16) ⊕ (SSRC · 2^64) ⊕ (i · 2^16),
 * with i the 48-bit packet index. As a 16-octet big-endian block:
 *
 *    octet:  0  1  2  3 | 4  5  6  7 | 8  9 10 11 12 13 | 14 15
 *           [ session salt k_s (14 octets)              ] [ 0  0 ]
 *         ⊕             [  SSRC     ]
 *         ⊕                          [ index i (48 bits) ]
 *         +                                               [  j   ]  block counter, < 2^16
 *
 * Performance: Node cannot re-key or re-IV a Cipher object, and creating an `aes-128-ctr` cipher per
 * packet costs several µs. ECB is stateless per block, so one `aes-128-ecb` Cipher per session key is
 * created once and fed the counter blocks of every packet; the XOR with the payload is done here.
 */
import { createCipheriv, createHmac, timingSafeEqual, type Cipher } from 'node:crypto';

export const AES_BLOCK = 16;

/** AES-CM keystream generator bound to one session encryption key; reuses one ECB cipher object. */
export class AesCounterMode {
  readonly #ecb: Cipher;
  #blocks: Uint8Array = new Uint8Array(AES_BLOCK * 64);

  constructor(key: Uint8Array) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError('AES key must be 16, 24 or 32 octets');
    const algo = key.length === 16 ? 'aes-128-ecb' : key.length === 24 ? 'aes-192-ecb' : 'aes-256-ecb';
    this.#ecb = createCipheriv(algo, key, null);
    this.#ecb.setAutoPadding(false);
  }

  /** Keystream of `length` octets starting at block counter 0 for `iv` (whose last two octets are 0). */
  keystream(iv: Uint8Array, length: number): Uint8Array {
    if (iv.length !== AES_BLOCK || iv[14] !== 0 || iv[15] !== 0) throw new RangeError('AES-CM IV must be 16 octets ending in two zero octets');
    const n = Math.ceil(length / AES_BLOCK);
    if (n > 0x10000) throw new RangeError('AES-CM segment longer than 2^16 blocks');
    const size = n * AES_BLOCK;
    if (this.#blocks.length < size) this.#blocks = new Uint8Array(size);
    const blocks = this.#blocks;
    for (let j = 0; j < n; j++) {
      const o = j * AES_BLOCK;
      blocks.set(iv, o);
      // The IV's low 16 bits are zero (§4.1.1), so adding j < 2^16 is writing it there: no carry.
      blocks[o + 14] = j >>> 8;
      blocks[o + 15] = j & 0xff;
    }
    if (size === 0) return new Uint8Array(0);
    return this.#ecb.update(blocks.subarray(0, size)).subarray(0, length);
  }

  /** XORs the keystream for `iv` into `data[start, end)` in place (encrypt = decrypt). */
  apply(iv: Uint8Array, data: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (len <= 0) return;
    const ks = this.keystream(iv, len);
    for (let k = 0; k < len; k++) data[start + k] = (data[start + k] as number) ^ (ks[k] as number);
  }
}

/** §4.1.1 IV for SRTP (index = 48-bit packet index) and SRTCP (index = 31-bit SRTCP index). */
export function aesCmIv(salt: Uint8Array, ssrc: number, index: number, out: Uint8Array = new Uint8Array(AES_BLOCK)): Uint8Array {
  out.fill(0);
  out.set(salt.subarray(0, 14), 0);
  out[4] = (out[4] as number) ^ ((ssrc >>> 24) & 0xff);
  out[5] = (out[5] as number) ^ ((ssrc >>> 16) & 0xff);
  out[6] = (out[6] as number) ^ ((ssrc >>> 8) & 0xff);
  out[7] = (out[7] as number) ^ (ssrc & 0xff);
  // index < 2^48: split into 16 high bits and 32 low bits to stay exact in float arithmetic.
  const hi = Math.floor(index / 0x100000000) & 0xffff;
  const lo = index >>> 0;
  out[8] = (out[8] as number) ^ (hi >>> 8);
  out[9] = (out[9] as number) ^ (hi & 0xff);
  out[10] = (out[10] as number) ^ (lo >>> 24);
  out[11] = (out[11] as number) ^ ((lo >>> 16) & 0xff);
  out[12] = (out[12] as number) ^ ((lo >>> 8) & 0xff);
  out[13] = (out[13] as number) ^ (lo & 0xff);
  return out;
}

/** RFC 3711 §4.3.3 key derivation labels. */
export const LABEL_RTP_ENCRYPTION = 0x00;
export const LABEL_RTP_AUTH = 0x01;
export const LABEL_RTP_SALT = 0x02;
export const LABEL_RTCP_ENCRYPTION = 0x03;
export const LABEL_RTCP_AUTH = 0x04;
export const LABEL_RTCP_SALT = 0x05;

/**
 * §4.3.1 with key_derivation_rate = 0 (r = 0, the only rate SDES offers by default and the only one we
 * accept): x = (label · 2^48) ⊕ master_salt, and the derived key is the first `length` octets of
 * AES-CM(master_key, x · 2^16). The label lands in octet 7 of the 14-octet salt.
 */
export function deriveSessionKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, length: number): Uint8Array {
  if (masterSalt.length !== 14) throw new RangeError('master salt must be 14 octets');
  const iv = new Uint8Array(AES_BLOCK);
  iv.set(masterSalt, 0);
  iv[7] = (iv[7] as number) ^ label;
  const algo = masterKey.length === 16 ? 'aes-128-ctr' : masterKey.length === 24 ? 'aes-192-ctr' : masterKey.length === 32 ? 'aes-256-ctr' : null;
  if (!algo) throw new RangeError('master key must be 16, 24 or 32 octets');
  const c = createCipheriv(algo, masterKey, iv);
  return new Uint8Array(c.update(new Uint8Array(length)));
}

/** HMAC-SHA1 over `a` || `b`, truncated to `tagLength` octets (§4.2.1). */
export function hmacSha1(key: Uint8Array, a: Uint8Array, b: Uint8Array | null, tagLength: number): Uint8Array {
  const h = createHmac('sha1', key).update(a);
  if (b) h.update(b);
  return h.digest().subarray(0, tagLength);
}

/** Constant-time equality of two tags (house style 11); different lengths are simply unequal. */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
