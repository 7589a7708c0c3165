/**
 * RFC 8285 header extension elements inside the RFC 3550 §5.3.1 extension block, parsed lazily: `parseRtp`
 * keeps the block raw, and only code that cares (audio level, MID…) calls `parseHeaderExtensionElements`.
 *
 * One-byte form (profile 0xBEDE, RFC 8285 §4.2): each element is one header octet then 1..16 data octets.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |       0xBE    |    0xDE       |           length=3            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  ID   | L=0   |     data      |  ID   |  L=1  |   data...       L = data length − 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         ...data   |    0 (pad)    |    0 (pad)    |  ID   | L=3   |  ID 0 = a padding octet
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Two-byte form (profile 0x100 << 4 | appbits, RFC 8285 §4.3): ID octet, length octet (0..255), data.
 * ID 0 is a single padding octet in both forms. In the one-byte form ID 15 is reserved: "processing of the
 * entire extension should terminate at that point" (§4.2), so parsing stops there.
 */
import type { RtpHeaderExtension } from './rtp-packet.ts';
import { RtpParseError } from './errors.ts';

export const ONE_BYTE_PROFILE = 0xbede;
/** Two-byte profiles are 0x1000..0x100F; the low 4 bits are "appbits" (RFC 8285 §4.3). */
export const TWO_BYTE_PROFILE_BASE = 0x1000;

export interface RtpExtensionElement {
  /** Local identifier, 1..14 (one-byte form) or 1..255 (two-byte form). */
  id: number;
  data: Uint8Array;
}

export type RtpExtensionForm = 'one-byte' | 'two-byte';

export interface ParsedHeaderExtension {
  form: RtpExtensionForm;
  /** Two-byte form only: the 4 application bits of the profile; 0 otherwise. */
  appBits: number;
  elements: RtpExtensionElement[];
}

/** The RFC 8285 form of a raw extension block, or null when the profile is something else. */
export function headerExtensionForm(ext: RtpHeaderExtension): RtpExtensionForm | null {
  if (ext.profile === ONE_BYTE_PROFILE) return 'one-byte';
  if ((ext.profile & 0xfff0) === TWO_BYTE_PROFILE_BASE) return 'two-byte';
  return null;
}

/**
 * Splits an RFC 8285 extension block into its elements. Returns null when the block uses another profile
 * (RFC 3550 leaves its content to that profile); throws `RtpParseError` when an element overruns the block.
 */
export function parseHeaderExtensionElements(ext: RtpHeaderExtension): ParsedHeaderExtension | null {
  const form = headerExtensionForm(ext);
  if (form === null) return null;
  const d = ext.data;
  const elements: RtpExtensionElement[] = [];
  let o = 0;
  if (form === 'one-byte') {
    while (o < d.length) {
      const h = d[o] as number;
      if (h === 0) { o++; continue; } // padding octet
      const id = h >>> 4;
      if (id === 15) break; // reserved: stop processing (RFC 8285 §4.2)
      const size = (h & 0x0f) + 1;
      if (o + 1 + size > d.length) throw new RtpParseError(`one-byte extension element ${id} of ${size} octets overruns the block`, o);
      elements.push({ id, data: d.subarray(o + 1, o + 1 + size) });
      o += 1 + size;
    }
    return { form, appBits: 0, elements };
  }
  while (o < d.length) {
    const id = d[o] as number;
    if (id === 0) { o++; continue; }
    if (o + 2 > d.length) throw new RtpParseError(`two-byte extension element ${id} has no length octet`, o);
    const size = d[o + 1] as number;
    if (o + 2 + size > d.length) throw new RtpParseError(`two-byte extension element ${id} of ${size} octets overruns the block`, o);
    elements.push({ id, data: d.subarray(o + 2, o + 2 + size) });
    o += 2 + size;
  }
  return { form, appBits: ext.profile & 0x0f, elements };
}

/**
 * Builds an extension block. The one-byte form is used when every element fits it (ID 1..14, 1..16 octets)
 * unless `form` forces one, as RFC 8285 §4.1.2 prefers; the block is zero-padded to a 32-bit boundary.
 */
export function serializeHeaderExtensionElements(elements: readonly RtpExtensionElement[], form?: RtpExtensionForm, appBits = 0): RtpHeaderExtension {
  const fitsOne = elements.every((e) => e.id >= 1 && e.id <= 14 && e.data.length >= 1 && e.data.length <= 16);
  const chosen: RtpExtensionForm = form ?? (fitsOne ? 'one-byte' : 'two-byte');
  if (chosen === 'one-byte' && !fitsOne) throw new RtpParseError('an element does not fit the one-byte form (ID 1..14, 1..16 octets)');
  if (chosen === 'two-byte') {
    for (const e of elements) {
      if (!Number.isInteger(e.id) || e.id < 1 || e.id > 255 || e.data.length > 255) {
        throw new RtpParseError('an element does not fit the two-byte form (ID 1..255, 0..255 octets)');
      }
    }
    if (!Number.isInteger(appBits) || appBits < 0 || appBits > 15) throw new RtpParseError('appbits must be 0..15');
  }
  const header = chosen === 'one-byte' ? 1 : 2;
  const raw = elements.reduce((n, e) => n + header + e.data.length, 0);
  const data = new Uint8Array(Math.ceil(raw / 4) * 4);
  let o = 0;
  for (const e of elements) {
    if (chosen === 'one-byte') {
      data[o++] = (e.id << 4) | (e.data.length - 1);
    } else {
      data[o++] = e.id;
      data[o++] = e.data.length;
    }
    data.set(e.data, o);
    o += e.data.length;
  }
  return { profile: chosen === 'one-byte' ? ONE_BYTE_PROFILE : TWO_BYTE_PROFILE_BASE | appBits, data };
}
