import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CARD_FIELDS } from '../payments/types.ts';

/**
 * JSON Schemas (TypeBox) of everything the API sends and receives. Response schemas double as an allow-list:
 * fastify serialises responses through them, so a property the domain did not mean to expose cannot leave,
 * and `maskedEventJson` runs events for WebSocket/SSE/callbacks through the same schema.
 */

const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'stable kebab-case code from the error catalogue' }),
    message: Type.String(),
  }, { additionalProperties: false }),
}, { $id: 'ErrorBody', additionalProperties: false, description: 'Every error response has this shape' });
export type ErrorBodyT = Static<typeof ErrorBody>;

export const SessionStateSchema = lit(['created', 'capturing', 'ready', 'submitting', 'succeeded', 'failed', 'cancelled', 'expired'] as const);
export const FieldStateSchema = lit(['waiting', 'entering', 'valid', 'invalid', 'skipped'] as const);
export const ChannelSchema = lit(['agent-assisted', 'ivr', 'pay-by-link'] as const);
export const CardBrandSchema = lit(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'maestro', 'unknown'] as const);
export const IntentSchema = lit(['tokenize', 'charge'] as const);
export const CardFieldSchema = lit(CARD_FIELDS);
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const MaskedFieldSchema = Type.Object({
  field: CardFieldSchema,
  state: FieldStateSchema,
  digitCount: Type.Integer({ minimum: 0, description: 'digits entered so far (show as dots)' }),
  attempts: Type.Integer({ minimum: 0 }),
  maxAttempts: Type.Integer({ minimum: 0 }),
  display: Nullable(Type.String({ description: 'card-number only, once valid: last four behind bullets' })),
  errorCode: Nullable(Type.String()),
}, { additionalProperties: false });

export const PaymentResultSchema = Type.Object({
  status: lit(['succeeded', 'failed'] as const),
  token: Nullable(Type.String()),
  authorizationCode: Nullable(Type.String()),
  connector: Type.String(),
  connectorReference: Nullable(Type.String()),
  errorCode: Nullable(Type.String()),
  message: Nullable(Type.String()),
}, { additionalProperties: false });

export const MaskedSessionSchema = Type.Object({
  id: Type.String(),
  callId: Type.String(),
  merchantId: Type.String(),
  channel: ChannelSchema,
  intent: IntentSchema,
  state: SessionStateSchema,
  currentField: Nullable(CardFieldSchema),
  fields: Type.Array(MaskedFieldSchema),
  brand: Nullable(CardBrandSchema),
  last4: Nullable(Type.String({ pattern: '^[0-9]{4}$' })),
  amountMinor: Nullable(Type.Integer({ minimum: 0, description: 'amount in minor units (pence, cents)' })),
  currency: Nullable(Type.String({ pattern: '^[A-Z]{3}$' })),
  description: Nullable(Type.String()),
  reference: Nullable(Type.String()),
  result: Nullable(PaymentResultSchema),
  errorCode: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
}, { additionalProperties: false, description: 'What an agent may see of a payment session: never a PAN beyond the last four, never a security code' });

export const SESSION_EVENT_TYPES = ['session.created', 'field.started', 'field.progress', 'field.completed', 'field.invalid', 'session.ready',
  'session.submitting', 'session.succeeded', 'session.failed', 'session.cancelled', 'session.expired', 'session.updated'] as const;

/** The first message of every event stream: the current masked state. */
export const SNAPSHOT_EVENT_TYPE = 'session.snapshot';

export const SessionEventSchema = Type.Object({
  type: lit([...SESSION_EVENT_TYPES, SNAPSHOT_EVENT_TYPE] as const),
  sessionId: Type.String(),
  sequence: Type.Integer({ minimum: 0, description: 'per-session, increasing; a gap means events were skipped for a slow consumer (each event carries the full state)' }),
  at: Type.String({ format: 'date-time' }),
  session: MaskedSessionSchema,
}, { additionalProperties: false });
export type WireSessionEvent = Static<typeof SessionEventSchema>;

export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }) });

export const SessionListQuery = Type.Object({
  merchantId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  callId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  state: Type.Optional(SessionStateSchema),
  createdBy: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
}, { additionalProperties: false });

export const SessionList = Type.Object({ sessions: Type.Array(MaskedSessionSchema) }, { additionalProperties: false });

export const HealthBody = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
}, { additionalProperties: false });

// --- session commands --------------------------------------------------------------------------------------

/** Same rule as the domain's ids: letters, digits and `_.:@+-`, 1-128 characters. */
const IdText = (description: string) => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$', description });
const Terminator = Type.Union([Type.Literal('#'), Type.Literal('A'), Type.Literal('B'), Type.Literal('C'), Type.Literal('D'), Type.Null()]);

const fieldOptionProps = {
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'invalid attempts before the field gives up (default 3)' })),
  interDigitTimeoutMs: Type.Optional(Type.Integer({ minimum: 500, maximum: 600_000, description: 'pause after a key that ends the entry (default 10 s)' })),
  totalTimeoutMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 3_600_000, description: 'time allowed for one attempt (default 120 s)' })),
  terminator: Type.Optional(Terminator),
  required: Type.Optional(Type.Boolean({ description: 'postal-code only' })),
  minLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, description: 'postal-code only' })),
  maxLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, description: 'postal-code only' })),
};
export const FieldOptionsSchema = Type.Object(fieldOptionProps, { additionalProperties: false });
export const FieldSpecSchema = Type.Union([CardFieldSchema, Type.Object({ field: CardFieldSchema, ...fieldOptionProps }, { additionalProperties: false })]);

export const CaptureConfigSchema = Type.Object({
  fields: Type.Optional(Type.Array(FieldSpecSchema, { minItems: 2, maxItems: 4, description: 'capture order; must include card-number and expiry' })),
  fieldDefaults: Type.Optional(FieldOptionsSchema),
  acceptedBrands: Type.Optional(Type.Union([Type.Literal('all'), Type.Array(CardBrandSchema, { minItems: 1, maxItems: 9 })])),
  onMaxAttempts: Type.Optional(Type.Union([Type.Literal('fail'), Type.Literal('wait-for-agent')])),
  expiry: Type.Optional(Type.Object({
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    maxYearsAhead: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  }, { additionalProperties: false })),
  sessionTtlMs: Type.Optional(Type.Integer({ minimum: 10_000, maximum: 86_400_000 })),
  autoAdvance: Type.Optional(Type.Boolean()),
  maxSubmitAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
}, { additionalProperties: false });

const Amount = Type.Integer({ minimum: 1, maximum: 1e12, description: 'minor units (pence, cents)' });
const Currency = Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 alphabetic code' });
const Description = Type.String({ maxLength: 255, description: 'free text; a card-number-like digit run is refused' });
const Reference = Type.String({ maxLength: 128, description: 'merchant reference; a card-number-like digit run is refused' });

export const CreateSessionBody = Type.Object({
  callId: IdText('the call this payment belongs to'),
  merchantId: IdText('merchant whose connector and capture defaults apply'),
  channel: Type.Optional(ChannelSchema),
  intent: IntentSchema,
  fields: Type.Optional(Type.Array(FieldSpecSchema, { minItems: 2, maxItems: 4, description: 'shorthand for capture.fields' })),
  capture: Type.Optional(CaptureConfigSchema),
  amountMinor: Type.Optional(Type.Union([Amount, Type.Null()])),
  currency: Type.Optional(Type.Union([Currency, Type.Null()])),
  description: Type.Optional(Type.Union([Description, Type.Null()])),
  reference: Type.Optional(Type.Union([Reference, Type.Null()])),
  startCapture: Type.Optional(Type.Boolean({ description: 'start capturing the first field at once (typical for IVR)' })),
  statusCallbackUrl: Type.Optional(Type.String({ maxLength: 2048, description: 'https URL that receives every masked event of this session, signed (Cardline-Signature)' })),
}, { additionalProperties: false });
export type CreateSessionBodyT = Static<typeof CreateSessionBody>;

export const CaptureBody = Type.Object({
  field: Type.Optional(CardFieldSchema),
}, { additionalProperties: false, description: 'no field: start the next pending one; a field: (re-)capture it' });

export const DigitsBody = Type.Object({
  digits: Type.String({ pattern: '^[0-9A-D*#]{1,64}$', description: 'DTMF keys in order (0-9 * # A-D), at most 64 per call' }),
}, { additionalProperties: false });

export const AmountBody = Type.Object({
  amountMinor: Type.Union([Amount, Type.Null()]),
  currency: Type.Union([Currency, Type.Null()]),
  description: Type.Optional(Type.Union([Description, Type.Null()])),
  reference: Type.Optional(Type.Union([Reference, Type.Null()])),
}, { additionalProperties: false });
