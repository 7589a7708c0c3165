import { createCipheriv, createDecipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { CardlineError } from '../errors/index.ts';
import type { CardField, SessionId } from './types.ts';

/**
 * The card vault: the only place card data exists between the keypad and the connector.
 *
 * - Memory only. Nothing here is ever serialised, logged, or written to disk (PCI DSS 4.0 req. 3.2.1: no SAD
 *   after authorisation; req. 3.3.1.2: the security code is never stored).
 * - Every field is encrypted at rest in memory with AES-256-GCM (NIST SP 800-38D) under a per-session random
 *   256-bit key, a fresh 96-bit IV per write, and the session id + field name as additional authenticated data,
 *   so a ciphertext cannot be replayed into another session or field.
 * - Digits are accumulated in Buffers, never strings: each key press decrypts into a Buffer, appends, re-encrypts,
 *   and zeroes the plaintext (`fill(0)`). Plaintext exists only inside `inspect()` (synchronous validation) and
 *   `withCard()` (the connector call) and is zeroed when they return or throw.
 * - `wipe()` zeroes the key and every ciphertext and forgets the session.
 *
 * Limits, stated honestly: JavaScript cannot pin or lock memory, so the GC may have copied a Buffer before it
 * was zeroed, and OpenSSL keeps its own copy of the key inside a cipher context until that context is freed.
 * A connector that needs a string (e.g. an SDK's form encoder) creates an immutable JS string that only the
 * GC can reclaim; connectors keep such strings as short-lived as they can.
 */
export type RandomBytes = (n: number) => Buffer;

export interface CardVaultOptions {
  /** randomness port: keys and IVs (default node:crypto randomBytes) */
  randomBytes?: RandomBytes;
}

interface SealedField {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  length: number;
}

interface Entry {
  key: Buffer;
  fields: Map<CardField, SealedField>;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;

/**
 * Card data handed to a connector inside `withCard()`. The Buffers hold ASCII digits and are zeroed as soon as
 * the callback settles: a connector must not keep them. `toJSON` and `util.inspect` print a placeholder, so a
 * stray `log.info({ card })` or `console.log(card)` cannot print digits.
 */
export class CardData {
  readonly number: Buffer;
  readonly expiryMonth: number;
  /** four-digit year */
  readonly expiryYear: number;
  readonly securityCode: Buffer | null;
  readonly postalCode: Buffer | null;

  constructor(init: { number: Buffer; expiryMonth: number; expiryYear: number; securityCode: Buffer | null; postalCode: Buffer | null }) {
    this.number = init.number;
    this.expiryMonth = init.expiryMonth;
    this.expiryYear = init.expiryYear;
    this.securityCode = init.securityCode;
    this.postalCode = init.postalCode;
  }

  toJSON(): string {
    return '[card data]';
  }

  [inspect.custom](): string {
    return 'CardData [redacted]';
  }

  /** Zero every buffer this object holds. */
  zero(): void {
    this.number.fill(0);
    this.securityCode?.fill(0);
    this.postalCode?.fill(0);
  }
}

export class CardVault {
  readonly #random: RandomBytes;
  readonly #entries = new Map<SessionId, Entry>();

  constructor(opts: CardVaultOptions = {}) {
    this.#random = opts.randomBytes ?? nodeRandomBytes;
  }

  /** Creates the session's slot and its random key. */
  open(id: SessionId): void {
    if (this.#entries.has(id)) throw new CardlineError('vault-error', 'a vault entry already exists for this session');
    const key = this.#random(KEY_BYTES);
    if (key.length !== KEY_BYTES) throw new CardlineError('vault-error', 'random source returned a short key');
    this.#entries.set(id, { key, fields: new Map() });
  }

  has(id: SessionId): boolean {
    return this.#entries.has(id);
  }

  /** Number of live entries (sessions whose card data is still held). */
  get size(): number {
    return this.#entries.size;
  }

  /** Digits held for a field (0 when none): a count is safe to show, the digits are not. */
  length(id: SessionId, field: CardField): number {
    return this.#entry(id).fields.get(field)?.length ?? 0;
  }

  /** Appends one ASCII digit ('0'..'9') to a field; returns the new length. */
  append(id: SessionId, field: CardField, asciiDigit: number): number {
    if (asciiDigit < 0x30 || asciiDigit > 0x39) throw new CardlineError('vault-error', 'only digits are stored');
    const entry = this.#entry(id);
    const current = this.#open(id, entry, field);
    const next = Buffer.alloc(current.length + 1);
    try {
      current.copy(next);
      next[current.length] = asciiDigit;
      this.#seal(id, entry, field, next);
      return next.length;
    } finally {
      current.fill(0);
      next.fill(0);
    }
  }

  /** Forgets a field's digits (the `*` key, a failed attempt, a re-capture). */
  clear(id: SessionId, field: CardField): void {
    const entry = this.#entry(id);
    const sealed = entry.fields.get(field);
    if (!sealed) return;
    zeroSealed(sealed);
    entry.fields.delete(field);
  }

  /**
   * Synchronous access to one field's plaintext, for validation. The Buffer is zeroed when `fn` returns or
   * throws; `fn` must copy out only what may be shown (brand, last four, lengths, a parsed month/year).
   */
  inspect<T>(id: SessionId, field: CardField, fn: (digits: Buffer) => T): T {
    const plain = this.#open(id, this.#entry(id), field);
    try {
      return fn(plain);
    } finally {
      plain.fill(0);
    }
  }

  /**
   * Decrypts the card for one connector call. Card number and expiry must be present; the security code and
   * postal code are passed when captured. Every plaintext Buffer is zeroed when the callback settles.
   */
  async withCard<T>(id: SessionId, fn: (card: CardData) => Promise<T>): Promise<T> {
    const entry = this.#entry(id);
    if (!entry.fields.has('card-number') || !entry.fields.get('expiry')) {
      throw new CardlineError('vault-error', 'card number and expiry are required');
    }
    const opened: Buffer[] = [];
    const take = (f: CardField): Buffer | null => {
      if (!entry.fields.has(f)) return null;
      const b = this.#open(id, entry, f);
      opened.push(b);
      return b;
    };
    let card: CardData | undefined;
    try {
      const number = take('card-number') as Buffer;
      const expiry = take('expiry') as Buffer;
      if (expiry.length !== 4) throw new CardlineError('vault-error', 'expiry is not MMYY');
      const d = (i: number): number => (expiry[i] ?? 0x30) - 0x30;
      card = new CardData({
        number,
        expiryMonth: d(0) * 10 + d(1),
        expiryYear: 2000 + d(2) * 10 + d(3),
        securityCode: take('security-code'),
        postalCode: take('postal-code'),
      });
      expiry.fill(0);
      return await fn(card);
    } finally {
      card?.zero();
      for (const b of opened) b.fill(0);
    }
  }

  /** Zeroes the key and all ciphertexts and forgets the session. Idempotent. */
  wipe(id: SessionId): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    for (const sealed of entry.fields.values()) zeroSealed(sealed);
    entry.fields.clear();
    entry.key.fill(0);
    this.#entries.delete(id);
  }

  /** Wipes every session (shutdown). */
  wipeAll(): void {
    for (const id of [...this.#entries.keys()]) this.wipe(id);
  }

  #entry(id: SessionId): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new CardlineError('vault-error', 'no vault entry for this session');
    return e;
  }

  #aad(id: SessionId, field: CardField): Buffer {
    return Buffer.from(`cardline-vault|${id}|${field}`, 'utf8');
  }

  #seal(id: SessionId, entry: Entry, field: CardField, plain: Buffer): void {
    const iv = this.#random(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, entry.key, iv);
    cipher.setAAD(this.#aad(id, field));
    const head = cipher.update(plain);
    const tail = cipher.final();
    const ciphertext = tail.length === 0 ? head : Buffer.concat([head, tail]);
    const old = entry.fields.get(field);
    entry.fields.set(field, { iv, ciphertext, tag: cipher.getAuthTag(), length: plain.length });
    if (old) zeroSealed(old);
  }

  /** Returns a fresh plaintext Buffer (caller zeroes it); empty when the field has no digits. */
  #open(id: SessionId, entry: Entry, field: CardField): Buffer {
    const sealed = entry.fields.get(field);
    if (!sealed) return Buffer.alloc(0);
    const decipher = createDecipheriv(ALGORITHM, entry.key, sealed.iv);
    decipher.setAAD(this.#aad(id, field));
    decipher.setAuthTag(sealed.tag);
    const head = decipher.update(sealed.ciphertext);
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch (err) {
      head.fill(0);
      throw new CardlineError('vault-error', 'authentication of a sealed field failed', { cause: err });
    }
    if (tail.length === 0) return head;
    const all = Buffer.concat([head, tail]);
    head.fill(0);
    tail.fill(0);
    return all;
  }
}

function zeroSealed(s: SealedField): void {
  s.ciphertext.fill(0);
  s.iv.fill(0);
  s.tag.fill(0);
}
