/**
 * The media domain's public face (house style 1): RTP/RTCP codecs, RFC 4733 events, SRTP/SDES, SDP
 * offer/answer, ports, reordering and per-leg rewriting — the pure pieces the B2BUA's relay stands on.
 */
export {
  isMediaParseError, MediaParseError, RtcpParseError, RtpParseError, SdpParseError, SrtpError, TelephoneEventParseError,
  type MediaParseErrorCode, type SrtpErrorCode,
} from './errors.ts';

// --- RTP / RTCP (RFC 3550, RFC 8285, RFC 4585, RFC 5761) ------------------------------------------------------
export {
  looksLikeRtcp, parseRtp, RTP_FIXED_HEADER_LENGTH, RTP_MAX_CSRC, rtpHeaderLength, rtpPacketLength, serializeRtp, serializeRtpInto,
  type ParseRtpOptions, type RtpHeaderExtension, type RtpPacket,
} from './rtp-packet.ts';
export {
  headerExtensionForm, ONE_BYTE_PROFILE, parseHeaderExtensionElements, serializeHeaderExtensionElements, TWO_BYTE_PROFILE_BASE,
  type ParsedHeaderExtension, type RtpExtensionElement, type RtpExtensionForm,
} from './rtp-header-extension.ts';
export {
  parseRtcp, RTCP_APP, RTCP_BYE, RTCP_PSFB, RTCP_RR, RTCP_RTPFB, RTCP_SDES, RTCP_SR, rtcpSenderSsrc, SDES_CNAME, sdesCname,
  sdesWithCname, serializeRtcp,
  type ParseRtcpOptions, type RtcpApp, type RtcpBye, type RtcpFeedback, type RtcpPacket, type RtcpReceiverReport,
  type RtcpReportBlock, type RtcpSdes, type RtcpSdesChunk, type RtcpSdesItem, type RtcpSenderReport, type RtcpUnknown,
} from './rtcp-packet.ts';
export { MAX_DROPOUT, MAX_MISORDER, MIN_SEQUENTIAL, RtpSourceStats } from './rtp-source-stats.ts';
export { ntpFromUnixMs, ntpMiddle32, RtcpReporter, type RtcpReporterOptions } from './rtcp-reporter.ts';
export { ReorderBuffer, type ReorderBufferOptions, type ReorderStats } from './reorder-buffer.ts';
export { RtpStreamRewriter, type RtpHeaderFields, type StreamRewriterOptions } from './stream-rewriter.ts';

// --- RFC 4733 telephone-event ----------------------------------------------------------------------------------
export {
  buildTelephoneEventPackets, digitToEvent, EVENT_FLASH, eventToDigit, MAX_SEGMENT_DURATION, parseTelephoneEvent,
  serializeTelephoneEvent, TELEPHONE_EVENT_LENGTH, TelephoneEventReceiver,
  type KeyPress, type ScheduledRtpPacket, type TelephoneEvent, type TelephoneEventNotice, type TelephoneEventReceiverOptions,
  type TelephoneEventReceiverStats, type TelephoneEventSendOptions,
} from './telephone-event.ts';

// --- SRTP / SRTCP (RFC 3711) and SDES (RFC 4568) ------------------------------------------------------------------
export {
  estimateRoc, isSrtpProfileName, SRTP_PROFILES, SrtpContext, type SrtpContextOptions, type SrtpProfile, type SrtpProfileName,
} from './srtp-context.ts';
export { ReplayWindow, type ReplayVerdict } from './srtp-replay-window.ts';
export {
  chooseCrypto, generateCrypto, parseCryptoAttribute, serializeCryptoAttribute, srtpOptionsFromCrypto, SUPPORTED_SUITES,
  unsupportedReason, type SdesCrypto, type SdesKey,
} from './sdes.ts';

// --- SDP (RFC 4566) and offer/answer (RFC 3264) -------------------------------------------------------------------
export {
  describeMedia, parseSdp, SDP_MAX_LENGTH, SDP_MAX_LINES, serializeSdp, splitAttribute,
  type MediaInfo, type RtpCodec, type SdpConnection, type SdpDirection, type SdpLine, type SdpMedia, type SdpOrigin,
  type SessionDescription,
} from './sdp.ts';
export {
  anchoredAudioIndex, createAnswer, DEFAULT_KEEP_CODECS, MASKABLE_CODECS, negotiated, rewriteForAnchor,
  type AnchorOptions, type AnswerOptions, type MaskableCodec, type MediaEndpoint, type NegotiatedAudio,
} from './sdp-offer-answer.ts';

// --- sockets --------------------------------------------------------------------------------------------------------
export { RtpPortAllocator, type PortAllocatorOptions, type RtpPortPair } from './port-allocator.ts';
