/**
 * The media gateway's public face (house style 1): the B2BUA, its call registry and the per-call RTP relay.
 */
export { type AgentSrtpMode, B2bua, mapFailure, type B2buaOptions, type RouteRule } from './b2bua.ts';
export { type RouteAuthConfig, RouteCredentialStore } from './route-credentials.ts';
export { sharedTimerWheel, TimerWheel, type TimerWheelOptions, type WheelTimer } from './timer-wheel.ts';
export { CallSchema, isCallOf, registerCallRoutes, type CallAccess, type SessionLookup } from './http-routes.ts';
export { PaymentDigitBinder, type DigitBinderStats, type DigitFeeder } from './session-binding.ts';
export {
  policyFromConfig, routeRulesFromConfig, startGateway, tlsTransportFromConfig, type GatewayConfig, type RunningGateway, type StartGatewayOptions,
} from './start-gateway.ts';
export {
  DEFAULT_TRIGGER_TIMEOUT_MS, TRIGGER_MATCHER_TRANSITIONS, TriggerMatcher, TriggerMatcherState,
  type HeldKey, type TriggerMatcherOptions, type TriggerStep,
} from './trigger-matcher.ts';
export { isDtmfInfoType, MAX_INFO_DTMF_BODY, parseInfoDtmf } from './info-dtmf.ts';
export {
  Call, CALL_TRANSITIONS, CallRegistry, CallState, type CallControl, type CallView, type SecureChange, type SecureChangeListener,
  type SecureChangeSource, type SecureSpan, type SecureSpanView,
} from './call-registry.ts';
export { DEFAULT_MASKING_POLICY, validateTriggers, type MaskingPolicy, type PolicySource, type TriggerSequences } from './policy.ts';
export {
  MediaRelay, addRelayStats, emptyRelayStats, legEndpoint, type AgentKeyOrigin, type RelayTriggers,
  type DirectionStats, type LegMedia, type MediaRelayOptions, type MediaRelayStats, type MediaTap, type RelayLeg, type RemoteAddress,
  type TapChannel,
  type SecureDigitSink, type SecureDigitSource,
} from './media-relay.ts';
