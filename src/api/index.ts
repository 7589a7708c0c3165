/** The HTTP API: server factory, auth seam, live events, status callbacks and the merchant verify helper. */
export { buildServer, type ApiConfig, type ApiServer, type BuildServerOptions, type CardlineServices } from './build-server.ts';
export {
  ApiKeyAuthenticator, PERMISSIONS, permissionSetAuthorizer, presentedApiKey,
  type Authenticator, type Authorizer, type Permission, type Principal, type RouteRecord, type RoutePermission,
} from './auth.ts';
export { EventHub, EventSubscription, TERMINAL_STATES, type EventHubOptions, type HubListener } from './event-hub.ts';
export { EVENTS_PATH } from './event-streams.ts';
export { CallbackDispatcher, validateCallbackUrl, type CallbackDispatcherOptions, type CallbackStats } from './callback-dispatcher.ts';
export {
  computeSignature, DEFAULT_TOLERANCE_SEC, SIGNATURE_HEADER, signatureHeader, verifyCallbackSignature,
  type VerifyOptions, type VerifyResult,
} from './callback-signature.ts';
export { backoffDelay, postSigned, safeHost, type PostOutcome, type SignedPost } from './signed-delivery.ts';
export { maskedEventJson, snapshotEvent, toWireEvent } from './masked-event.ts';
export { errorBody, toCardlineError } from './errors.ts';
export { CARDLINE_VERSION } from './openapi.ts';
export type { SessionReader } from './routes/session-reads.ts';
export { serviceReader, type SessionService } from './routes/session-commands.ts';
export * as schemas from './schemas.ts';
