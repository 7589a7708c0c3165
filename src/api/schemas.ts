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
