/**
 * Content-Type (RFC 3261 §20.15):  media-type = m-type SLASH m-subtype *( SEMI m-parameter )
 *   m-parameter = m-attribute EQUAL m-value;  m-value = token / quoted-string
 * Type and subtype are case-insensitive and stored lower-cased.
 */
import { Scanner } from './grammar.ts';
import { parseParams, serializeParams, type Params } from './name-addr.ts';

export interface MediaType {
  type: string;
  subtype: string;
  params: Params;
}

export function parseMediaType(text: string, header = 'Content-Type'): MediaType {
  const s = new Scanner(text, header);
  s.skipWs();
  const type = s.token('media type').toLowerCase();
  s.expectSep('/', 'media type /');
  const subtype = s.token('media subtype').toLowerCase();
  const params = parseParams(s);
  s.end();
  return { type, subtype, params };
}

export function serializeMediaType(m: MediaType): string {
  return `${m.type}/${m.subtype}${serializeParams(m.params)}`;
}

/** `application/sdp` for `{type:'application', subtype:'sdp'}`. */
export function mediaTypeName(m: MediaType): string {
  return `${m.type}/${m.subtype}`;
}
