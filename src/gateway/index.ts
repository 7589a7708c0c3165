/**
 * The media gateway's public face (house style 1): the per-call RTP relay (and, next, the B2BUA on top of it).
 */
export {
  MediaRelay, legEndpoint,
  type DirectionStats, type LegMedia, type MediaRelayOptions, type MediaRelayStats, type RelayLeg, type RemoteAddress,
  type SecureDigitSink, type SecureDigitSource,
} from './media-relay.ts';
