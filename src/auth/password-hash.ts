import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { CardlineError } from '../errors/index.ts';

/**
 * Password hashing with scrypt (RFC 7914) from node:crypto: no native addon to build, memory-hard.
 *
 * Parameters follow the OWASP Password Storage Cheat Sheet's first scrypt choice: N = 2^17, r = 8, p = 1
 * (128 MiB and ≈0.3–0.7 s per hash on this project's 2-core reference machine, measured at the time of
 * writing). They are stored in every hash, PHC string format style:
 *
 *   $scrypt$ln=17,r=8,p=1$<salt, base64 no padding>$<32-byte key, base64 no padding>
 *
 * so a cost change applies to new hashes while old ones still verify; `needsRehash` tells the login path to
 * re-hash with the current cost after a successful check (PCI DSS 4.0 req. 8.3.2: strong cryptography).
 * Hashing runs on libuv's thread pool (async scrypt), never blocking the event loop.
 */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N */
  ln: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ ln: 17, r: 8, p: 1 });
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Refuse absurd parameters from a (tampered) stored hash before spending memory on them. */
const LIMITS = { lnMin: 10, lnMax: 20, rMax: 32, pMax: 16 };

function checkParams(p: ScryptParams): void {
  if (!Number.isInteger(p.ln) || p.ln < LIMITS.lnMin || p.ln > LIMITS.lnMax) throw new CardlineError('invalid-config', `scrypt ln must be ${LIMITS.lnMin}-${LIMITS.lnMax}`);
  if (!Number.isInteger(p.r) || p.r < 1 || p.r > LIMITS.rMax) throw new CardlineError('invalid-config', `scrypt r must be 1-${LIMITS.rMax}`);
  if (!Number.isInteger(p.p) || p.p < 1 || p.p > LIMITS.pMax) throw new CardlineError('invalid-config', `scrypt p must be 1-${LIMITS.pMax}`);
}

function derive(password: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  const N = 2 ** p.ln;
  // scrypt needs 128·N·r bytes; leave headroom over Node's 32 MiB default
  const opts: ScryptOptions = { N, r: p.r, p: p.p, maxmem: 256 * N * p.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{43})$/;

function parse(encoded: string): Parsed {
  const m = FORMAT.exec(encoded);
  if (m === null) throw new CardlineError('store-error', 'stored password hash is not in the expected format');
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  checkParams(params);
  return { params, salt: Buffer.from(m[4] ?? '', 'base64'), key: Buffer.from(m[5] ?? '', 'base64') };
}

/** Constant-time comparison of the derived key (house style 11). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const h = parse(encoded);
  const key = await derive(password, h.salt, h.params);
  return key.length === h.key.length && timingSafeEqual(key, h.key);
}

export function needsRehash(encoded: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const h = parse(encoded);
  return h.params.ln !== params.ln || h.params.r !== params.r || h.params.p !== params.p;
}

export function validateScryptParams(p: ScryptParams): ScryptParams {
  checkParams(p);
  return p;
}
