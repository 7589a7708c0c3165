/**
 * Character classes and a small scanner for SIP header values (RFC 3261 §25.1, the ABNF this file quotes).
 *
 * Header values reach the scanner unfolded (§7.3.1: folding is LWS, which has the semantics of SP), so linear
 * white space here is only SP and HTAB. Separators are surrounded by optional white space:
 *   SWS = [LWS];  SEMI = SWS ";" SWS;  EQUAL = SWS "=" SWS;  SLASH = SWS "/" SWS;  COLON = SWS ":" SWS;
 *   COMMA = SWS "," SWS;  LAQUOT = SWS "<";  RAQUOT = ">" SWS
 * Every scanner failure throws a `SipParseError` naming the header and the grammar element, never the value.
 */
import { SipParseError } from './sip-parse-error.ts';

function charSet(chars: string, alnum = true): Uint8Array {
  const set = new Uint8Array(128);
  if (alnum) {
    for (let c = 0x30; c <= 0x39; c++) set[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) set[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) set[c] = 1;
  }
  for (const ch of chars) set[ch.charCodeAt(0)] = 1;
  return set;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN_CHARS = charSet("-.!%*_+`'~");
/** word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") — Call-ID */
export const WORD_CHARS = charSet("-.!%*_+`'~()<>:\\\"/[]?{}");
/** unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
export const UNRESERVED_CHARS = charSet("-_.!~*'()");
/** user = 1*(unreserved / escaped / user-unreserved); user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
export const USER_CHARS = charSet("-_.!~*'()&=+$,;?/");
/** password = *(unreserved / escaped / "&" / "=" / "+" / "$" / ",") */
export const PASSWORD_CHARS = charSet("-_.!~*'()&=+$,");
/** paramchar = param-unreserved / unreserved / escaped; param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$" */
export const PARAM_CHARS = charSet("-_.!~*'()[]/:&+$");
/** hname / hvalue: hnv-unreserved / unreserved / escaped; hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" */
export const HEADER_CHARS = charSet("-_.!~*'()[]/?:+$");
/** hostname characters (alphanum, "-", "."); "_" is tolerated because container host names use it. */
export const HOST_CHARS = charSet('-._');
/** gen-value = token / host / quoted-string: a token plus the characters of an IPv6 host (RFC 5118 received=). */
export const GEN_VALUE_CHARS = charSet("-.!%*_+`'~:[]");

export function isIn(set: Uint8Array, code: number): boolean {
  return code < 128 && set[code] === 1;
}

export function allIn(set: Uint8Array, s: string, allowEscapes = false): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (allowEscapes && c === 0x25) {
      // escaped = "%" HEXDIG HEXDIG
      if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (!isIn(set, c)) return false;
  }
  return true;
}

export function isToken(s: string): boolean {
  return allIn(TOKEN_CHARS, s);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

export function isDigits(s: string): boolean {
  return s.length > 0 && /^[0-9]+$/.test(s);
}

/**
 * A decimal scalar with an upper bound. RFC 4475 §3.1.2.4/§3.1.2.5 (scalar02, scalarlg) send values far past
 * 2^32; parse them as errors, never as `Infinity` or a rounded double.
 */
export function parseBoundedInt(s: string, max: number): number | undefined {
  if (!isDigits(s)) return undefined;
  const digits = s.replace(/^0+(?=[0-9])/, '');
  if (digits.length > 15) return undefined;
  const n = Number(digits);
  return n <= max ? n : undefined;
}

/** quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE; returns the content with quoted-pairs resolved. */
export function unquote(value: string): string {
  if (value.length < 2 || value[0] !== '"' || value[value.length - 1] !== '"') return value;
  let out = '';
  for (let i = 1; i < value.length - 1; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length - 1) {
      out += value[i + 1];
      i++;
    } else out += ch;
  }
  return out;
}

/** Writes `s` as a quoted-string. quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): CR and LF cannot be quoted. */
export function quote(s: string): string {
  if (/[\r\n]/.test(s)) throw new TypeError('a quoted-string cannot hold CR or LF');
  // Quote, backslash and the other controls go out as quoted-pairs; qdtext admits none of them.
  return `"${s.replace(/[\\"\x00-\x1f\x7f]/g, (c) => `\\${c}`)}"`;
}

/**
 * Splits a list header on commas outside quoted strings and angle brackets (RFC 3261 §7.3.1: "multiple header
 * field rows ... can be combined into one ... separated by commas"). Elements are trimmed; empty elements are
 * dropped (`a,,b` is the list a, b). An unterminated quote or bracket is malformed.
 */
export function splitList(value: string, header: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++; // quoted-pair: skip the escaped character
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      const part = trimLws(value.slice(start, i));
      if (part.length > 0) out.push(part);
      start = i + 1;
    }
  }
  if (inQuote) throw new SipParseError(`${header}: unterminated quoted string`);
  if (inAngle) throw new SipParseError(`${header}: unterminated <`);
  const last = trimLws(value.slice(start));
  if (last.length > 0) out.push(last);
  return out;
}

/** Trims SP/HTAB (LWS after unfolding); unlike `trim()` it keeps U+FEFF and other Unicode spaces. */
export function trimLws(s: string): string {
  return s.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
}

/** A cursor over one header value. Methods that consume throw `SipParseError` naming `header` on failure. */
export class Scanner {
  readonly text: string;
  readonly header: string;
  pos = 0;

  constructor(text: string, header: string) {
    this.text = text;
    this.header = header;
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  fail(what: string): never {
    throw new SipParseError(`${this.header}: ${what}`);
  }

  /** LWS after unfolding: SP / HTAB. */
  skipWs(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09) break;
      this.pos++;
    }
    return this.pos > start;
  }

  /** SWS c SWS; returns false (consuming only white space) when the next character is not `c`. */
  trySep(c: string): boolean {
    const save = this.pos;
    this.skipWs();
    if (this.text[this.pos] === c) {
      this.pos++;
      this.skipWs();
      return true;
    }
    this.pos = save;
    return false;
  }

  expectSep(c: string, what: string): void {
    if (!this.trySep(c)) this.fail(`expected ${what}`);
  }

  /** Longest run of characters in `set` (may be empty). */
  run(set: Uint8Array): string {
    const start = this.pos;
    while (this.pos < this.text.length && isIn(set, this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  token(what: string): string {
    const t = this.run(TOKEN_CHARS);
    if (t.length === 0) this.fail(`expected ${what}`);
    return t;
  }

  /** quoted-string, returned raw (with its quotes and quoted-pairs) so it can be written back unchanged. */
  quotedString(what: string): string {
    const start = this.pos;
    if (this.text[this.pos] !== '"') this.fail(`expected quoted ${what}`);
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x5c) {
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        const n = this.text.charCodeAt(this.pos + 1);
        if (Number.isNaN(n) || n === 0x0a || n === 0x0d || n > 0x7f) this.fail(`bad escape in ${what}`);
        this.pos += 2;
        continue;
      }
      if (c === 0x22) {
        this.pos++;
        return this.text.slice(start, this.pos);
      }
      // qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
      if (c < 0x20 && c !== 0x09) this.fail(`control character in ${what}`);
      if (c === 0x7f) this.fail(`control character in ${what}`);
      this.pos++;
    }
    this.fail(`unterminated quoted ${what}`);
  }

  /** Remaining text must be white space only. */
  end(): void {
    this.skipWs();
    if (!this.done) this.fail('unexpected characters');
  }
}
