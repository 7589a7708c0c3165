/**
 * The payments domain (issue 4): secure payment sessions tied to a call. Import from here only.
 *
 *   const service = new PaymentSessionService({ store, connectors: createConnectorRegistry({...}) });
 *   const s = await service.create({ callId, merchantId, intent: 'charge', amountMinor: 1250, currency: 'USD' });
 *   await service.startCapture(s.id);
 *   await service.feedDigits(s.id, '4111111111111111#');   // from the media layer (DTMF) or tests
 *   ...
 *   const done = await service.submit(s.id);                // succeeded | failed | ready (retryable error)
 *
 * Everything returned or emitted is a `MaskedSession` / `SessionEvent`: no digit, no PAN beyond the last four,
 * no security code, no expiry.
 */
export * from './types.ts';
export type { PaymentStore, SessionListFilter, TransactionRecord, UsageRecord } from './ports.ts';
export {
  PaymentSessionService,
  type CreateSessionParams, type Listener, type MerchantPaymentConfig, type PaymentServiceOptions, type RefundParams,
} from './payment-service.ts';
export {
  PaymentSession, SESSION_TRANSITIONS, TERMINAL_STATES, assertTransition, canTransition, isTerminal, validateDetails,
  type PaymentSessionInit, type SessionDetails,
} from './payment-session.ts';
export {
  resolveCaptureConfig, mergeCaptureConfig, DEFAULT_FIELDS, DEFAULT_FIELD_OPTIONS, DEFAULT_SESSION_TTL_MS, DEFAULT_MAX_SUBMIT_ATTEMPTS,
  type CaptureConfig, type FieldOptions, type FieldSpec, type MaxAttemptsPolicy, type ResolvedCaptureConfig, type ResolvedField, type TerminatorKey,
} from './session-config.ts';
export {
  validateCardNumber, validateExpiry, validateSecurityCode, validatePostalCode, isBrandAccepted, normalizeAcceptedBrands, yearMonthAt,
  DEFAULT_EXPIRY_RULES, DEFAULT_POSTAL_CODE_RULES,
  type AcceptedBrands, type Check, type ExpiryRules, type PostalCodeRules, type ValidCardNumber, type YearMonth,
} from './card-validation.ts';
export {
  BRAND_RULES, KNOWN_BRANDS, detectBrand, brandFromPrefix, securityCodeLength, maxPanLength,
  type BrandMatch, type BrandRule, type PrefixBrand,
} from './card-brand.ts';
export { isLuhnValid, luhnCheckDigit } from './luhn.ts';
export { maskedPanDisplay, groupingFor, MASK_CHAR } from './masking.ts';
export { CardVault, CardData, type CardVaultOptions, type RandomBytes } from './vault.ts';
export { ManualClock, systemClock, type Clock, type TimerHandle } from './clock.ts';
export { MemoryPaymentStore } from './memory-store.ts';
