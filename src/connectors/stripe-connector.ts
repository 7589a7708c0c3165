import Stripe from 'stripe';
import type { Token } from '../payments/types.ts';
import {
  ConnectorError, sanitizeProcessorText, type ChargeRequest, type ConnectorCapabilities, type ConnectorErrorCode,
  type ConnectorOutcome, type PaymentConnector, type RefundOutcome, type RefundRequest, type TokenizeRequest,
} from './types.ts';

/**
 * Stripe connector, through Stripe's official Node SDK (PaymentMethods + PaymentIntents / SetupIntents).
 *
 * charge:   POST /v1/payment_methods (type=card, card[number|exp_month|exp_year|cvc], billing postal code)
 *           POST /v1/payment_intents (amount, currency, payment_method, confirm=true, automatic_payment_methods
 *                                     without redirects, capture_method, MOTO flag if enabled, metadata,
 *                                     expand[]=latest_charge for the authorization code)
 * tokenize: POST /v1/payment_methods, then (default) POST /v1/setup_intents (confirm=true, usage=off_session) so the
 *           issuer verifies the card before the token is handed out; the token is the PaymentMethod id.
 * refund:   POST /v1/refunds (payment_intent, amount).
 *
 * Idempotency: each Stripe call carries `Idempotency-Key: <our key>-<step>` (`-pm`, `-pi`, `-si`, `-re`), identical on
 * every retry — the SDK's own network retries and a later resubmit of the same session alike — so Stripe replays
 * the first result instead of creating a second charge.
 *
 * Raw card numbers reach Stripe's API only on accounts where Stripe enabled raw card data APIs; phone payments
 * usually also need the MOTO exemption (`moto: true`), which Stripe enables per account. The SDK form-encodes
 * strings, so the PAN exists as a JS string for the duration of the request; it is never logged or kept.
 */
export interface StripeConnectorOptions {
  /** secret or restricted key (sk_… / rk_…) */
  apiKey: string;
  /** API base: defaults to api.stripe.com:443 over https */
  host?: string;
  port?: number;
  protocol?: 'https' | 'http';
  /** per request; default 30 s */
  timeoutMs?: number;
  /** SDK network retries (same idempotency key); default 2 */
  maxNetworkRetries?: number;
  /** flag PaymentIntents/SetupIntents as mail-order/telephone-order (needs Stripe enablement); default false */
  moto?: boolean;
  /** 'manual' authorises only (capture later in Stripe); default 'automatic' */
  captureMethod?: 'automatic' | 'manual';
  /** 'setup-intent' (default) verifies the card with the issuer; 'payment-method' only creates the PaymentMethod */
  tokenizeWith?: 'setup-intent' | 'payment-method';
  /** attach tokenized cards to this Customer (needed to reuse a PaymentMethod more than once) */
  customer?: string;
  /** Connect: act on behalf of this account */
  stripeAccount?: string;
}

const NAME = 'stripe';

/** Stripe error type/code → our catalogue (https://docs.stripe.com/error-codes, /declines/codes). */
function mapCardError(code: string | undefined, declineCode: string | undefined): { code: ConnectorErrorCode; retryable: boolean } {
  switch (code) {
    case 'card_declined':
      return { code: declineCode === 'insufficient_funds' ? 'insufficient-funds' : 'card-declined', retryable: false };
    case 'expired_card':
    case 'invalid_expiry_month':
    case 'invalid_expiry_year':
      return { code: 'invalid-expiry', retryable: false };
    case 'incorrect_cvc':
    case 'invalid_cvc':
      return { code: 'invalid-security-code', retryable: false };
    case 'incorrect_number':
    case 'invalid_number':
      return { code: 'invalid-card-number', retryable: false };
    case 'incorrect_zip':
      return { code: 'invalid-postal-code', retryable: false };
    case 'processing_error':
      return { code: 'connector-error', retryable: true };
    default:
      return { code: 'card-declined', retryable: false };
  }
}

interface StripeLikeError {
  type?: string;
  code?: string;
  decline_code?: string;
  message?: string;
  statusCode?: number;
}

export function mapStripeError(err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as StripeLikeError;
  const detail = sanitizeProcessorText(e.message) ?? undefined;
  const processorCode = e.decline_code ?? e.code ?? null;
  switch (e.type) {
    case 'StripeCardError': {
      const m = mapCardError(e.code, e.decline_code);
      return new ConnectorError(m.code, NAME, { retryable: m.retryable, processorCode, detail, cause: err });
    }
    case 'StripeConnectionError': {
      const timeout = /time ?out/i.test(e.message ?? '');
      return new ConnectorError(timeout ? 'connector-timeout' : 'connector-error', NAME, { retryable: true, detail, cause: err });
    }
    case 'StripeAPIError':
    case 'StripeRateLimitError':
      return new ConnectorError('connector-error', NAME, { retryable: true, processorCode, detail, cause: err });
    case 'StripeIdempotencyError':
      return new ConnectorError('idempotency-conflict', NAME, { retryable: false, detail, cause: err });
    case 'StripeAuthenticationError':
    case 'StripePermissionError':
      return new ConnectorError('connector-error', NAME, { retryable: false, processorCode, detail: 'Stripe rejected the API key or its permissions', cause: err });
    case 'StripeInvalidRequestError':
      return new ConnectorError('connector-error', NAME, { retryable: false, processorCode, detail, cause: err });
    default:
      // not a Stripe API answer at all: outcome unknown, the idempotency key makes a retry safe
      return new ConnectorError('connector-error', NAME, { retryable: true, detail: 'unexpected failure calling Stripe', cause: err });
  }
}

export class StripeConnector implements PaymentConnector {
  readonly name = NAME;
  readonly capabilities: ConnectorCapabilities = { tokenize: true, charge: true, refund: true };
  readonly #stripe: Stripe;
  readonly #o: StripeConnectorOptions;

  constructor(o: StripeConnectorOptions) {
    if (typeof o.apiKey !== 'string' || !/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.test(o.apiKey)) {
      throw new ConnectorError('connector-not-configured', NAME, { detail: 'apiKey must be a Stripe secret or restricted key' });
    }
    this.#o = o;
    this.#stripe = new Stripe(o.apiKey, {
      ...(o.host !== undefined ? { host: o.host } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.protocol !== undefined ? { protocol: o.protocol } : {}),
      ...(o.stripeAccount !== undefined ? { stripeAccount: o.stripeAccount } : {}),
      timeout: o.timeoutMs ?? 30_000,
      maxNetworkRetries: o.maxNetworkRetries ?? 2,
      telemetry: false,
      appInfo: { name: 'Cardline', version: '0.1.0' },
    });
  }

  async tokenize(req: TokenizeRequest): Promise<ConnectorOutcome> {
    try {
      const pm = await this.#createPaymentMethod(req);
      if ((this.#o.tokenizeWith ?? 'setup-intent') === 'payment-method') {
        return { token: pm.id as Token, connectorReference: pm.id, authorizationCode: null, message: null };
      }
      const si = await this.#stripe.setupIntents.create({
        payment_method: pm.id,
        confirm: true,
        usage: 'off_session',
        // server-side confirmation with no customer browser: redirect-based methods are ruled out
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        ...(this.#o.customer ? { customer: this.#o.customer } : {}),
        ...(this.#o.moto ? { payment_method_options: { card: { moto: true } } } : {}),
        metadata: metadata(req),
      }, { idempotencyKey: `${req.idempotencyKey}-si` });
      if (si.status !== 'succeeded') throw this.#incomplete(si.status, si.last_setup_error ?? null);
      return { token: pm.id as Token, connectorReference: si.id, authorizationCode: null, message: null };
    } catch (err) {
      throw mapStripeError(err);
    }
  }

  async charge(req: ChargeRequest): Promise<ConnectorOutcome> {
    try {
      const pm = await this.#createPaymentMethod(req);
      const pi = await this.#stripe.paymentIntents.create({
        amount: req.amountMinor,
        currency: req.currency.toLowerCase(),
        payment_method: pm.id,
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        capture_method: this.#o.captureMethod ?? 'automatic',
        ...(req.description ? { description: req.description } : {}),
        ...(this.#o.moto ? { payment_method_options: { card: { moto: true } } } : {}),
        metadata: metadata(req),
        expand: ['latest_charge'],
      }, { idempotencyKey: `${req.idempotencyKey}-pi` });
      if (pi.status !== 'succeeded' && pi.status !== 'requires_capture' && pi.status !== 'processing') {
        throw this.#incomplete(pi.status, pi.last_payment_error ?? null);
      }
      const charge = typeof pi.latest_charge === 'object' && pi.latest_charge !== null ? pi.latest_charge : null;
      const authorizationCode = charge?.payment_method_details?.card?.authorization_code ?? null;
      return {
        token: null,
        connectorReference: pi.id,
        authorizationCode,
        message: pi.status === 'succeeded' ? null : `payment ${pi.status.replace('_', ' ')}`,
      };
    } catch (err) {
      throw mapStripeError(err);
    }
  }

  async refund(req: RefundRequest): Promise<RefundOutcome> {
    try {
      const r = await this.#stripe.refunds.create({
        payment_intent: req.connectorReference,
        ...(req.amountMinor !== null ? { amount: req.amountMinor } : {}),
        metadata: { cardline_session_id: req.sessionId },
      }, { idempotencyKey: `${req.idempotencyKey}-re` });
      if (r.status === 'failed' || r.status === 'canceled') {
        throw new ConnectorError('connector-error', NAME, { retryable: false, detail: `refund ${r.status}` });
      }
      return { connectorReference: r.id, amountMinor: r.amount, message: r.status === 'succeeded' ? null : `refund ${r.status ?? 'pending'}` };
    } catch (err) {
      throw mapStripeError(err);
    }
  }

  async close(): Promise<void> {}

  async #createPaymentMethod(req: TokenizeRequest): Promise<Stripe.PaymentMethod> {
    const c = req.card;
    const postal = c.postalCode ? c.postalCode.toString('ascii') : null;
    return this.#stripe.paymentMethods.create({
      type: 'card',
      card: {
        number: c.number.toString('ascii'),
        exp_month: c.expiryMonth,
        exp_year: c.expiryYear,
        ...(c.securityCode ? { cvc: c.securityCode.toString('ascii') } : {}),
      },
      ...(postal ? { billing_details: { address: { postal_code: postal } } } : {}),
      metadata: metadata(req),
    }, { idempotencyKey: `${req.idempotencyKey}-pm` });
  }

  /** An intent that neither succeeded nor raised: 3-D Secure wanted (impossible on a phone call) or a decline. */
  #incomplete(status: string, lastError: { code?: string; decline_code?: string; message?: string } | null): ConnectorError {
    if (status === 'requires_action') {
      return new ConnectorError('card-declined', NAME, {
        retryable: false, processorCode: 'authentication_required',
        detail: 'the issuer requires customer authentication (ask Stripe to enable MOTO and set moto: true)',
      });
    }
    if (lastError) {
      const m = mapCardError(lastError.code, lastError.decline_code);
      return new ConnectorError(m.code, NAME, { retryable: false, processorCode: lastError.decline_code ?? lastError.code ?? null, detail: sanitizeProcessorText(lastError.message) ?? undefined });
    }
    return new ConnectorError('connector-error', NAME, { retryable: false, detail: `unexpected status ${status}` });
  }
}

function metadata(req: TokenizeRequest): Record<string, string> {
  return {
    cardline_session_id: req.sessionId,
    cardline_merchant_id: req.merchantId,
    ...(req.reference ? { cardline_reference: req.reference } : {}),
  };
}
