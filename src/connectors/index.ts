/**
 * Payment connectors: one interface (`PaymentConnector`) over the built-in sandbox, the merchant's own
 * endpoint (signed webhook), and Stripe. Configure per merchant with `createConnectorRegistry`.
 */
export {
  ConnectorError, isConnectorError, sanitizeProcessorText,
  type ChargeRequest, type ConnectorCallContext, type ConnectorCapabilities, type ConnectorErrorCode, type ConnectorOutcome,
  type ConnectorResolver, type PaymentConnector, type RefundOutcome, type RefundRequest, type TokenizeRequest,
} from './types.ts';
export { SandboxConnector, SANDBOX_TEST_CARDS, type SandboxCharge, type SandboxOptions } from './sandbox-connector.ts';
export { WebhookConnector, type WebhookConnectorOptions } from './webhook-connector.ts';
export {
  computeSignature, signatureHeader, verifyWebhookSignature, SIGNATURE_HEADER, DEFAULT_TOLERANCE_SEC,
  type VerifyOptions, type VerifyResult,
} from './webhook-signature.ts';
export { StripeConnector, mapStripeError, type StripeConnectorOptions } from './stripe-connector.ts';
export {
  ConnectorRegistry, createConnector, createConnectorRegistry, type ConnectorConfig, type ConnectorRegistryConfig,
} from './registry.ts';
