/**
 * The header fields of one SIP message, in order (RFC 3261 §7.3). Each entry is one field value: list headers
 * (Via, Contact, Route…) are split on their commas at parse time, so `getAll('Via')` is the Via list top first
 * and `prepend('Via', …)` adds a new top Via. Names are matched case-insensitively with compact forms
 * expanded (§7.3.3); they are written in canonical spelling. Content-Length is not stored: the serializer
 * derives it from the body, so the two can never disagree.
 */
import { canonicalHeaderName, headerKey, isListHeader } from './header-names.ts';
import { splitList } from './grammar.ts';

export interface HeaderEntry {
  /** Canonical spelling for known headers, as received otherwise. */
  readonly name: string;
  readonly value: string;
}

export class SipHeaders {
  #entries: Array<{ name: string; key: string; value: string }> = [];
  #version = 0;

  constructor(init?: Iterable<readonly [string, string]>) {
    if (init) for (const [n, v] of init) this.append(n, v);
  }

  /** Incremented on every change; lets message accessors cache parsed values safely. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#entries.length;
  }

  get(name: string): string | undefined {
    const key = headerKey(name);
    return this.#entries.find((e) => e.key === key)?.value;
  }

  getAll(name: string): string[] {
    const key = headerKey(name);
    return this.#entries.filter((e) => e.key === key).map((e) => e.value);
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.#entries.some((e) => e.key === key);
  }

  count(name: string): number {
    const key = headerKey(name);
    return this.#entries.reduce((n, e) => n + (e.key === key ? 1 : 0), 0);
  }

  /** Appends one value; a list header's comma-joined value is split into entries. */
  append(name: string, value: string): this {
    const values = this.#prepare(name, value);
    const key = headerKey(name);
    const canonical = canonicalHeaderName(name);
    for (const v of values) this.#entries.push({ name: canonical, key, value: v });
    this.#version++;
    return this;
  }

  /** Inserts before the first field of that name (or at the end): a new top Via or Record-Route. */
  prepend(name: string, value: string): this {
    const values = this.#prepare(name, value);
    const key = headerKey(name);
    const canonical = canonicalHeaderName(name);
    let at = this.#entries.findIndex((e) => e.key === key);
    if (at < 0) at = this.#entries.length;
    this.#entries.splice(at, 0, ...values.map((v) => ({ name: canonical, key, value: v })));
    this.#version++;
    return this;
  }

  /** Replaces every field of that name with `values`, keeping the position of the first one. */
  set(name: string, value: string | readonly string[]): this {
    const key = headerKey(name);
    const list = typeof value === 'string' ? [value] : value;
    const values = list.flatMap((v) => this.#prepare(name, v));
    const canonical = canonicalHeaderName(name);
    let at = this.#entries.findIndex((e) => e.key === key);
    this.#entries = this.#entries.filter((e) => e.key !== key);
    if (at < 0 || at > this.#entries.length) at = this.#entries.length;
    this.#entries.splice(at, 0, ...values.map((v) => ({ name: canonical, key, value: v })));
    this.#version++;
    return this;
  }

  /** Removes every field of that name; returns how many were removed. */
  delete(name: string): number {
    const key = headerKey(name);
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.key !== key);
    if (this.#entries.length !== before) this.#version++;
    return before - this.#entries.length;
  }

  /** Removes the first field of that name (the top Via when a response goes upstream, §18.1.2). */
  shift(name: string): string | undefined {
    const key = headerKey(name);
    const at = this.#entries.findIndex((e) => e.key === key);
    if (at < 0) return undefined;
    const [e] = this.#entries.splice(at, 1);
    this.#version++;
    return e?.value;
  }

  entries(): HeaderEntry[] {
    return this.#entries.map((e) => ({ name: e.name, value: e.value }));
  }

  clone(): SipHeaders {
    const h = new SipHeaders();
    for (const e of this.#entries) h.#entries.push({ ...e });
    return h;
  }

  /** Header injection guard: a value may never carry CR or LF (folding is undone at parse time). */
  #prepare(name: string, value: string): string[] {
    if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(name)) throw new TypeError('bad header name');
    if (/[\r\n]/.test(value)) throw new TypeError('header value contains CR or LF');
    if (headerKey(name) === 'content-length') throw new TypeError('Content-Length is derived from the body');
    const trimmed = trimLws(value);
    return isListHeader(name) ? splitList(trimmed, canonicalHeaderName(name)) : [trimmed];
  }
}

/** Trims SP/HTAB only: `String.prototype.trim` would also strip U+FEFF and other Unicode spaces from values. */
function trimLws(s: string): string {
  return s.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
}
