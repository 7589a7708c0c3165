/**
 * SDES: SRTP keys in SDP (RFC 4568).
 *
 *   a=crypto:<tag> <crypto-suite> <key-params> [<session-param> ...]            (§9.1 grammar)
 *     tag         1*9DIGIT, matches offer and answer
 *     key-params  key-param *(";" key-param)
 *     key-param   "inline:" base64(master key || master salt) ["|" lifetime] ["|" MKI-value ":" MKI-length]
 *     lifetime    ["2^"] 1*DIGIT                     packets under this master key (§6.1)
 *     MKI         decimal value ":" length in octets (1..128)
 *     session     KDR=n | UNENCRYPTED_SRTCP | UNENCRYPTED_SRTP | UNAUTHENTICATED_SRTP | FEC_ORDER=… |
 *                 FEC_KEY=… | WSH=n | extensions
 *
 * The key is a secret: no error or log line here ever contains it (details give lengths and positions).
 * Cardline accepts only what it implements: one master key per attribute (an MKI is fine), KDR 0, every
 * packet encrypted and authenticated, and WSH (a window-size hint, §6.3.7) ≥ 64. An attribute with any
 * other session parameter is skipped when choosing, as §6.3 asks for parameters the answerer does not
 * understand.
 */
import { randomBytes } from 'node:crypto';
import { SdpParseError } from './errors.ts';
import { isSrtpProfileName, SRTP_PROFILES, type SrtpContextOptions, type SrtpProfileName } from './srtp-context.ts';

export interface SdesKey {
  /** Master key || master salt as sent (inline), decoded. */
  keySalt: Uint8Array;
  /** Packets this key may protect (the "|lifetime" field), or null when absent. */
  lifetime: number | null;
  mki: { value: number; length: number } | null;
}

export interface SdesCrypto {
  tag: number;
  suite: string;
  keys: SdesKey[];
  /** Session parameters as written, e.g. ["KDR=0", "WSH=128"]. */
  sessionParams: string[];
}

export const SUPPORTED_SUITES: readonly SrtpProfileName[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

function bad(detail: string): SdpParseError {
  return new SdpParseError(detail, null, 'sdes-malformed');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseKeyParam(p: string, index: number): SdesKey {
  if (!p.startsWith('inline:')) throw bad(`key-param ${index} does not use the inline key method`);
  const parts = p.slice(7).split('|');
  const b64 = parts[0] ?? '';
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64)) throw bad(`key-param ${index}: key is not canonical base64 (${b64.length} characters)`);
  const keySalt = new Uint8Array(Buffer.from(b64, 'base64'));
  if (Buffer.from(keySalt).toString('base64') !== b64) throw bad(`key-param ${index}: key is not canonical base64`);
  let lifetime: number | null = null;
  let mki: SdesKey['mki'] = null;
  const rest = parts.slice(1);
  if (rest.length > 2) throw bad(`key-param ${index} has ${rest.length} "|" fields (max 2)`);
  for (const f of rest) {
    const m = /^([0-9]{1,20}):([0-9]{1,3})$/.exec(f);
    if (m) {
      if (mki) throw bad(`key-param ${index} has two MKI fields`);
      const value = Number(m[1]);
      const length = Number(m[2]);
      if (length < 1 || length > 128 || !Number.isSafeInteger(value) || (length < 7 && value >= 2 ** (8 * length))) {
        throw bad(`key-param ${index}: MKI does not fit its length`);
      }
      mki = { value, length };
      continue;
    }
    const l = /^(2\^)?([0-9]{1,15})$/.exec(f);
    if (!l || lifetime !== null || mki) throw bad(`key-param ${index}: bad lifetime or MKI field`);
    const n = Number(l[2]);
    if (l[1] && n > 64) throw bad(`key-param ${index}: lifetime exponent above 64`);
    lifetime = l[1] ? 2 ** n : n;
    if (!(lifetime > 0)) throw bad(`key-param ${index}: lifetime must be positive`);
  }
  return { keySalt, lifetime, mki };
}

/** Parses an a=crypto value (with or without the leading "a=crypto:" / "crypto:"). */
export function parseCryptoAttribute(input: string): SdesCrypto {
  const value = input.replace(/^a=/, '').replace(/^crypto:/, '');
  if (value.length > 4096) throw bad('attribute longer than 4096 characters');
  const fields = value.trim().split(/[ \t]+/);
  const [tagS, suite, keyParams, ...sessionParams] = fields;
  if (!tagS || !/^[0-9]{1,9}$/.test(tagS)) throw bad('tag is not 1 to 9 digits');
  if (!suite || !/^[A-Za-z0-9_]+$/.test(suite)) throw bad('crypto-suite missing or malformed');
  if (!keyParams) throw bad('key-params missing');
  const keys = keyParams.split(';').map((p, i) => parseKeyParam(p, i));
  for (const s of sessionParams) if (!/^[\x21-\x7e]+$/.test(s)) throw bad('session parameter with control characters');
  return { tag: Number(tagS), suite, keys, sessionParams };
}

function formatLifetime(n: number): string {
  const log = Math.log2(n);
  return Number.isInteger(log) && log >= 10 ? `2^${log}` : String(n);
}

/** The attribute value, without "a=crypto:". */
export function serializeCryptoAttribute(c: SdesCrypto): string {
  if (!Number.isInteger(c.tag) || c.tag < 0 || c.tag > 999_999_999) throw bad('tag out of range');
  if (!/^[A-Za-z0-9_]+$/.test(c.suite)) throw bad('crypto-suite malformed');
  if (c.keys.length === 0) throw bad('no key');
  const keys = c.keys.map((k) => {
    let s = `inline:${Buffer.from(k.keySalt).toString('base64')}`;
    if (k.lifetime !== null) s += `|${formatLifetime(k.lifetime)}`;
    if (k.mki) s += `|${k.mki.value}:${k.mki.length}`;
    return s;
  });
  return [String(c.tag), c.suite, keys.join(';'), ...c.sessionParams].join(' ');
}

/** Why Cardline cannot use this attribute, or null if it can. */
export function unsupportedReason(c: SdesCrypto): string | null {
  if (!isSrtpProfileName(c.suite) || !SUPPORTED_SUITES.includes(c.suite)) return 'crypto-suite not supported';
  const p = SRTP_PROFILES[c.suite];
  if (c.keys.length !== 1) return 'more than one master key';
  const k = c.keys[0] as SdesKey;
  if (k.keySalt.length !== p.masterKeyLength + p.masterSaltLength) return `key||salt of ${k.keySalt.length} octets, expected ${p.masterKeyLength + p.masterSaltLength}`;
  for (const s of c.sessionParams) {
    const [name, val] = s.split('=', 2);
    if (name === 'KDR' && val === '0') continue;
    if (name === 'WSH' && val !== undefined && /^[0-9]{1,6}$/.test(val) && Number(val) >= 64) continue;
    return `session parameter ${name ?? ''} not supported`;
  }
  return null;
}

/** The first attribute of an offer Cardline can use, in the offerer's order of preference (§7.1.1). */
export function chooseCrypto(offered: readonly SdesCrypto[], allowedSuites: readonly SrtpProfileName[] = SUPPORTED_SUITES): SdesCrypto | null {
  for (const c of offered) {
    if (unsupportedReason(c) === null && (allowedSuites as readonly string[]).includes(c.suite)) return c;
  }
  return null;
}

/** A fresh attribute with a random master key and salt from `crypto.randomBytes` (RFC 4568 §6.1, RFC 4086). */
export function generateCrypto(tag: number, suite: SrtpProfileName, random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n))): SdesCrypto {
  const p = SRTP_PROFILES[suite];
  return { tag, suite, keys: [{ keySalt: random(p.masterKeyLength + p.masterSaltLength), lifetime: null, mki: null }], sessionParams: [] };
}

/** SRTP context options for an attribute (one side's sending key). Throws `sdes-malformed` when unusable. */
export function srtpOptionsFromCrypto(c: SdesCrypto): SrtpContextOptions {
  const reason = unsupportedReason(c);
  if (reason !== null) throw bad(reason);
  const suite = c.suite as SrtpProfileName;
  const p = SRTP_PROFILES[suite];
  const k = c.keys[0] as SdesKey;
  const opts: SrtpContextOptions = {
    profile: suite,
    masterKey: k.keySalt.slice(0, p.masterKeyLength),
    masterSalt: k.keySalt.slice(p.masterKeyLength),
  };
  if (k.lifetime !== null) opts.keyLifetime = k.lifetime;
  if (k.mki) {
    const mki = new Uint8Array(k.mki.length);
    let v = k.mki.value;
    for (let i = k.mki.length - 1; i >= 0 && v > 0; i--) {
      mki[i] = v % 256;
      v = Math.floor(v / 256);
    }
    opts.mki = mki;
  }
  return opts;
}
