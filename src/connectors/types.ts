import { CardlineError, type ErrorCode } from '../errors/index.ts';
import type { CardData } from '../payments/vault.ts';
import type { CardBrand, MerchantId, SessionId, Token } from '../payments/types.ts';

/**
 * The payment-connector port (ports and adapters, house style 7): one interface for every processor.
 *
 * Contract every adapter keeps:
 *  - The idempotency key is sent to the processor on every attempt of the same operation, so a retry (ours,
 *    the SDK's, or the agent's second "submit") never charges twice.
 *  - Card data arrives as `CardData` Buffers valid only until the returned promise settles; an adapter must not
 *    keep them, log them, or put them in an error.
 *  - Failures are `ConnectorError`s with a catalogue code and `retryable` saying whether the same request with
 *    the same key may be sent again (network errors, timeouts, 5xx: yes; declines and bad card data: no).
 *  - Messages returned or thrown are plain words from the processor, never card data.
 */
export interface ConnectorCapabilities {
  tokenize: boolean;
  charge: boolean;
  refund: boolean;
}

export interface ConnectorCallContext {
  sessionId: SessionId;
  merchantId: MerchantId;
  idempotencyKey: string;
  /** aborted when the caller gives up (timeout, shutdown) */
  signal?: AbortSignal;
}

export interface TokenizeRequest extends ConnectorCallContext {
  card: CardData;
  brand: CardBrand;
  description: string | null;
  reference: string | null;
}

export interface ChargeRequest extends TokenizeRequest {
  /** integer minor units */
  amountMinor: number;
  /** ISO 4217, upper case */
  currency: string;
}

export interface RefundRequest {
  merchantId: MerchantId;
  sessionId: SessionId;
  idempotencyKey: string;
  /** the processor's reference of the charge being refunded */
  connectorReference: string;
  /** null = the whole remaining amount */
  amountMinor: number | null;
  currency: string | null;
  signal?: AbortSignal;
}

export interface ConnectorOutcome {
  /** reusable payment token (tokenize), or null */
  token: Token | null;
  /** processor's id of the charge / payment method / setup */
  connectorReference: string | null;
  authorizationCode: string | null;
  message: string | null;
}

export interface RefundOutcome {
  connectorReference: string;
  amountMinor: number | null;
  message: string | null;
}

export interface PaymentConnector {
  /** short id recorded on transactions: 'sandbox', 'webhook', 'stripe' */
  readonly name: string;
  readonly capabilities: ConnectorCapabilities;
  tokenize(req: TokenizeRequest): Promise<ConnectorOutcome>;
  charge(req: ChargeRequest): Promise<ConnectorOutcome>;
  /** throws `connector-unsupported` where the processor has no refunds */
  refund(req: RefundRequest): Promise<RefundOutcome>;
  /** release sockets/agents; idempotent */
  close?(): Promise<void>;
}

/** Which connector serves a merchant (see `createConnectorRegistry`). */
export interface ConnectorResolver {
  /** throws `connector-not-configured` when the merchant has none and there is no default */
  forMerchant(merchantId: MerchantId): PaymentConnector;
  close?(): Promise<void>;
}

/** Codes a connector may raise. */
export type ConnectorErrorCode = Extract<ErrorCode,
  | 'connector-error' | 'connector-timeout' | 'connector-unsupported' | 'connector-not-configured'
  | 'card-declined' | 'insufficient-funds' | 'invalid-card-number' | 'invalid-expiry' | 'invalid-security-code'
  | 'invalid-postal-code' | 'idempotency-conflict' | 'amount-required' | 'invalid-amount'>;

export class ConnectorError extends CardlineError {
  override readonly code: ConnectorErrorCode;
  /** the same request with the same idempotency key may be sent again */
  readonly retryable: boolean;
  readonly connector: string;
  /** processor's own code (e.g. Stripe `decline_code`), safe to show */
  readonly processorCode: string | null;

  constructor(code: ConnectorErrorCode, connector: string, opts: { retryable?: boolean; detail?: string; processorCode?: string | null; cause?: unknown } = {}) {
    super(code, opts.detail, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ConnectorError';
    this.code = code;
    this.connector = connector;
    this.retryable = opts.retryable ?? (code === 'connector-error' || code === 'connector-timeout');
    this.processorCode = opts.processorCode ?? null;
  }
}

export function isConnectorError(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError;
}

/** Free text from a processor, bounded and with anything card-number-like (12+ digits) removed. */
export function sanitizeProcessorText(s: unknown, max = 200): string | null {
  if (typeof s !== 'string') return null;
  const t = s.replace(/\d(?:[ -]?\d){11,}/g, '[number removed]').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  if (t.length === 0) return null;
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
