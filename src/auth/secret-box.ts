import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { CardlineError } from '../errors/index.ts';

/**
 * Seals the few secrets the server must be able to read back (TOTP seeds) with AES-256-GCM under a key from
 * the data directory (`auth-key`, separate from the audit and callback secrets), and keys the HMAC that hashes
 * recovery codes. Sub-keys come from HKDF-SHA256 (RFC 5869) with distinct `info` labels, so the one file key
 * is never used directly for two purposes.
 *
 * Sealed form: `v1.<iv>.<ciphertext>.<tag>` (base64url). The caller's context (e.g. `totp:<user id>`) is bound
 * as additional authenticated data, so a sealed seed copied onto another user's row does not open.
 */
export class SecretBox {
  readonly #encKey: Buffer;
  readonly #macKey: Buffer;

  constructor(fileKey: Buffer) {
    if (fileKey.length !== 32) throw new CardlineError('invalid-config', 'the auth key must be 256 bits');
    this.#encKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'cardline/auth/seal/v1', 32));
    this.#macKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'cardline/auth/mac/v1', 32));
  }

  seal(plain: Uint8Array, context: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#encKey, iv);
    c.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([c.update(plain), c.final()]);
    return ['v1', iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, context: string): Buffer {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') throw new CardlineError('store-error', 'sealed secret is not in the expected format');
    const iv = Buffer.from(parts[1] ?? '', 'base64url');
    const ct = Buffer.from(parts[2] ?? '', 'base64url');
    const tag = Buffer.from(parts[3] ?? '', 'base64url');
    if (iv.length !== 12 || tag.length !== 16 || ct.length > 1024) throw new CardlineError('store-error', 'sealed secret is not in the expected format');
    try {
      const d = createDecipheriv('aes-256-gcm', this.#encKey, iv);
      d.setAAD(Buffer.from(context, 'utf8'));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(ct), d.final()]);
    } catch (err) {
      throw new CardlineError('store-error', 'sealed secret does not open with the data directory\'s auth key', { cause: err });
    }
  }

  /** Keyed hash (hex) for values that are looked up, not read back (recovery codes). */
  mac(purpose: string, value: string): string {
    return createHmac('sha256', this.#macKey).update(`${purpose}\0${value}`, 'utf8').digest('hex');
  }
}
