/** SIP messages (RFC 3261 §7, §19, §20, §25): the codec and the typed header values. */
export { parseAuthHeader, serializeAuthHeader, type AuthHeader } from './auth-header.ts';
export { createResponse, type CreateResponseOptions } from './create-response.ts';
export { CSEQ_MAX, parseCSeq, serializeCSeq, type CSeq } from './cseq.ts';
export { isToken, quote, splitList, unquote } from './grammar.ts';
export { canonicalHeaderName, headerKey, isListHeader } from './header-names.ts';
export { newBranch, newCallId, newTag } from './identifiers.ts';
export { mediaTypeName, parseMediaType, serializeMediaType, type MediaType } from './media-type.ts';
export {
  cloneNameAddr, parseNameAddr, parseParams, serializeNameAddr, serializeParams, tagOf,
  type NameAddr, type ParseNameAddrOptions, type Params,
} from './name-addr.ts';
export {
  DEFAULT_MAX_MESSAGE_SIZE, parseSipMessage, salvageRequest, type ParseSipOptions, type SalvagedRequest,
} from './parse-sip-message.ts';
export { serializeSipMessage } from './serialize-sip-message.ts';
export {
  formatSipIdentity, parseSipIdentity, sameSipIdentity, SIP_IDENTITY_MAX, type SipIdentity,
} from './sip-identity.ts';
export { SipHeaders, type HeaderEntry } from './sip-headers.ts';
export { SIP_VERSION, SipRequest, SipResponse, type SipMessage } from './sip-message.ts';
export { isSipParseError, SipParseError, type SipParseErrorCode } from './sip-parse-error.ts';
export {
  cloneUri, escapeUser, isSipUri, parseUri, serializeUri, sipUri, unescapeUriComponent, uriEquals,
  type AbsoluteUri, type SipUri, type SipUriInit, type Uri,
} from './sip-uri.ts';
export { reasonPhrase } from './status-codes.ts';
export { BRANCH_MAGIC_COOKIE, cloneVia, parseVia, serializeVia, viaBranch, type Via } from './via.ts';
