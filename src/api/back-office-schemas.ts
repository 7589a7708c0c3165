import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Wire shapes of the back-office routes (users, API keys, audit, billing), TypeBox only and free of I/O, so the
 * console's API client can take its types from them with a type-only import (erased from the browser bundle):
 * one definition for the server's validation and serialisation, the OpenAPI document and the client.
 */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const MerchantId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$' });

// --- users -------------------------------------------------------------------------------------------------------
export const UserRoleSchema = Type.Union([Type.Literal('agent'), Type.Literal('supervisor'), Type.Literal('admin'), Type.Literal('auditor')]);
export const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Nullable(Type.String()),
  email: Nullable(Type.String()),
  role: UserRoleSchema,
  merchantId: Nullable(Type.String()),
  teamId: Nullable(Type.String()),
  sipUri: Nullable(Type.String({ description: "the agent's SIP identity (sip:user@host), matched against the gateway's agent leg" })),
  mfaRequired: Type.Boolean(),
  mfaEnrolled: Type.Boolean(),
  disabled: Type.Boolean(),
  lastLoginAt: Nullable(Type.String({ format: 'date-time' })),
  passwordChangedAt: Type.String({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
}, { additionalProperties: false, $id: 'User' });
export type UserJson = Static<typeof UserSchema>;

// --- API keys ----------------------------------------------------------------------------------------------------
export const ApiKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  permissions: Type.Array(Type.String()),
  merchantId: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
  revokedAt: Nullable(Type.String({ format: 'date-time' })),
  lastUsedAt: Nullable(Type.String({ format: 'date-time' })),
  rotatedFrom: Nullable(Type.String()),
  replacedBy: Nullable(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('expiring'), Type.Literal('expired'), Type.Literal('revoked')]),
}, { additionalProperties: false, $id: 'ApiKey' });
export type ApiKeyJson = Static<typeof ApiKeySchema>;

export const CreateApiKeyBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  permissions: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 8, description: 'subset of sessions:read, sessions:write, sessions:digits, reports:read (default: the three session permissions)' })),
  merchantId: Type.Optional(Type.Union([MerchantId, Type.Null()])),
}, { additionalProperties: false });
export type CreateApiKeyInput = Static<typeof CreateApiKeyBody>;

// --- audit -------------------------------------------------------------------------------------------------------
export const AuditOutcomeSchema = Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]);
export const AuditQuerySchema = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  actorId: Type.Optional(Type.String({ maxLength: 128 })),
  action: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z0-9.*-]+$', description: 'exact, or a prefix ending in "." or "*" (auth.* = every auth action)' })),
  outcome: Type.Optional(AuditOutcomeSchema),
  targetId: Type.Optional(Type.String({ maxLength: 256 })),
  afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
}, { additionalProperties: false });
export type AuditQueryJson = Static<typeof AuditQuerySchema>;

export const AuditEventSchema = Type.Object({
  seq: Type.Integer(), at: Type.String({ format: 'date-time' }), actorKind: Type.String(), actorId: Nullable(Type.String()), actorName: Nullable(Type.String()),
  action: Type.String(), outcome: Type.String(), targetKind: Nullable(Type.String()), targetId: Nullable(Type.String()), merchantId: Nullable(Type.String()),
  ip: Nullable(Type.String()), userAgent: Nullable(Type.String()),
  detail: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
  prevHash: Type.String(), hash: Type.String(),
}, { additionalProperties: false, $id: 'AuditEvent' });
export type AuditEventJson = Static<typeof AuditEventSchema>;

const AuditProblem = Type.Object({ kind: Type.String(), seq: Type.Integer(), recordSeq: Type.Optional(Type.Integer()), reason: Type.String() }, { additionalProperties: false });
export const AuditVerifySchema = Type.Object({
  ok: Type.Boolean(), records: Type.Integer(), checkpoints: Type.Integer(), unsealed: Type.Integer(),
  firstBroken: Nullable(AuditProblem), problems: Type.Array(AuditProblem),
}, { additionalProperties: false });
export type AuditVerifyJson = Static<typeof AuditVerifySchema>;

// --- billing -----------------------------------------------------------------------------------------------------
export const PlanBody = Type.Object({
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  perMinuteMinor: Type.Integer({ minimum: 0, maximum: 1e12 }),
  monthlyMinimumMinor: Type.Integer({ minimum: 0, maximum: 1e12 }),
  transactionFees: Type.Record(Type.String({ pattern: '^[a-z*-]+/[a-z*]+$' }), Type.Integer({ minimum: 0, maximum: 1e12 }), { description: 'keys "<channel|*>/<succeeded|failed|*>", most specific wins' }),
}, { additionalProperties: false });
export const PlanSchema = Type.Composite([PlanBody, Type.Object({ merchantId: Type.String(), updatedAt: Type.String({ format: 'date-time' }), updatedBy: Nullable(Type.String()) })], { additionalProperties: false });
export type PlanInput = Static<typeof PlanBody>;
export type PlanJson = Static<typeof PlanSchema>;

const InvoiceLineSchema = Type.Object({
  kind: Type.Union([Type.Literal('transaction'), Type.Literal('secure-audio')]),
  description: Type.String(), channel: Nullable(Type.String()), outcome: Nullable(Type.String()),
  quantity: Type.Number(), unit: Type.Union([Type.Literal('transaction'), Type.Literal('minute')]), unitPriceMinor: Type.Integer(), amountMinor: Type.Integer(),
}, { additionalProperties: false });
const InvoiceSchema = Type.Object({
  merchantId: Type.String(), month: Type.String(), periodStart: Type.String({ format: 'date-time' }), periodEnd: Type.String({ format: 'date-time' }),
  currency: Type.String(), plan: Type.String(), lines: Type.Array(InvoiceLineSchema), transactions: Type.Integer(), secureAudioMs: Type.Integer(),
  subtotalMinor: Type.Integer(), minimumMinor: Type.Integer(), minimumTopUpMinor: Type.Integer(), totalMinor: Type.Integer(),
}, { additionalProperties: false });
export const BillingReportSchema = Type.Object({
  month: Type.String(), generatedAt: Type.String({ format: 'date-time' }), invoices: Type.Array(InvoiceSchema), totals: Type.Record(Type.String(), Type.Integer()),
}, { additionalProperties: false });
export type BillingReportJson = Static<typeof BillingReportSchema>;

const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'UTC calendar day, YYYY-MM-DD' });
export const DailyQuery = Type.Object({
  from: Day, to: Type.Optional(Day), merchantId: Type.Optional(MerchantId),
}, { additionalProperties: false, description: 'inclusive day range (at most 366 days; to defaults to from)' });
export type DailyQueryJson = Static<typeof DailyQuery>;
export const DailyTransactionsSchema = Type.Object({
  from: Type.String(), to: Type.String(),
  days: Type.Array(Type.Object({ date: Type.String(), succeeded: Type.Integer(), failed: Type.Integer() }, { additionalProperties: false })),
  totals: Type.Object({ succeeded: Type.Integer(), failed: Type.Integer() }, { additionalProperties: false }),
}, { additionalProperties: false });
export type DailyTransactionsJson = Static<typeof DailyTransactionsSchema>;
