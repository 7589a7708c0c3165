/**
 * Payment-session vocabulary shared by the domain, the store, the API and the media layer.
 * Branded types keep card data from flowing where a token or an id is expected (house style 8).
 * Nothing in this file may carry a full PAN or a security code except the branded `Pan`/`SecurityCode`,
 * which only the vault and connectors handle.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type SessionId = Brand<string, 'SessionId'>;
export type CallId = Brand<string, 'CallId'>;
export type MerchantId = Brand<string, 'MerchantId'>;
export type Token = Brand<string, 'Token'>;
/** Full primary account number: only inside the vault and a connector call. */
export type Pan = Brand<string, 'Pan'>;
/** CVV2/CVC2/CID: only inside the vault and a connector call; never stored after authorisation (PCI DSS 3.3.1.2). */
export type SecurityCode = Brand<string, 'SecurityCode'>;

export const CARD_FIELDS = ['card-number', 'expiry', 'security-code', 'postal-code'] as const;
export type CardField = (typeof CARD_FIELDS)[number];

export type SessionState = 'created' | 'capturing' | 'ready' | 'submitting' | 'succeeded' | 'failed' | 'cancelled' | 'expired';
export type FieldState = 'waiting' | 'entering' | 'valid' | 'invalid' | 'skipped';
export type Channel = 'agent-assisted' | 'ivr' | 'pay-by-link';
export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay' | 'maestro' | 'unknown';
export type PaymentIntent = 'tokenize' | 'charge';

/** What an agent may see of one field (PCI DSS 3.4.1: at most first six / last four of the PAN). */
export interface MaskedField {
  field: CardField;
  state: FieldState;
  /** number of digits entered so far (shown as dots) */
  digitCount: number;
  attempts: number;
  maxAttempts: number;
  /** only for card-number, once complete and valid: e.g. "•••• •••• •••• 1111" */
  display: string | null;
  errorCode: string | null;
}

/** The masked state of a session: the only shape that leaves the domain towards agents, logs and storage. */
export interface MaskedSession {
  id: SessionId;
  callId: CallId;
  merchantId: MerchantId;
  channel: Channel;
  intent: PaymentIntent;
  state: SessionState;
  currentField: CardField | null;
  fields: MaskedField[];
  brand: CardBrand | null;
  last4: string | null;
  amountMinor: number | null;
  currency: string | null;
  description: string | null;
  reference: string | null;
  result: PaymentResult | null;
  errorCode: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PaymentResult {
  status: 'succeeded' | 'failed';
  token: Token | null;
  authorizationCode: string | null;
  connector: string;
  connectorReference: string | null;
  errorCode: string | null;
  /** plain-words reason from the connector, checked to contain no card data */
  message: string | null;
}

/** A masked event, emitted on every change. Carries no digit, no PAN beyond last four, no security code. */
export interface SessionEvent {
  type: 'session.created' | 'field.started' | 'field.progress' | 'field.completed' | 'field.invalid' | 'session.ready'
    | 'session.submitting' | 'session.succeeded' | 'session.failed' | 'session.cancelled' | 'session.expired' | 'session.updated';
  sessionId: SessionId;
  sequence: number;
  at: string;
  session: MaskedSession;
}
