/** SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760). */
export { StaticCredentialStore, type CredentialEntry, type CredentialStore, type SipCredentials } from './credentials.ts';
export { algorithmRank, digestHash, digestResponse, parseAlgorithm, SUPPORTED_ALGORITHMS, type DigestAlgorithm, type DigestInput } from './digest.ts';
export { DigestClient, type AuthorizationHeader } from './digest-client.ts';
export { DigestServer, type DigestServerOptions, type DigestVerdict } from './digest-server.ts';
