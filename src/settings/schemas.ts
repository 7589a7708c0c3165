import { Type, type Static } from '@sinclair/typebox';

/**
 * The settings' wire shapes (typebox only, no I/O): the API validates with them, the OpenAPI document shows them,
 * and the console's client derives its types from them (a type-only import, erased from the browser bundle).
 */
const MerchantOrDefault = Type.String({ pattern: '^(\\*|[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127})$', description: 'a merchant id, or "*" for the default connector' });

export const MaskModeSchema = Type.Union([Type.Literal('tone'), Type.Literal('silence'), Type.Literal('noise')]);
export const TriggersSchema = Type.Object({
  start: Type.String({ maxLength: 32, description: 'agent-side keys that turn secure mode on, e.g. #388*' }),
  end: Type.String({ maxLength: 32, description: 'agent-side keys that turn secure mode off, e.g. #388#' }),
}, { additionalProperties: false });

export const MaskingPolicyBody = Type.Object({
  secureByDefault: Type.Boolean({ description: 'mask DTMF on every call from answer to hang-up' }),
  maskMode: MaskModeSchema,
  triggers: Type.Union([TriggersSchema, Type.Null()]),
}, { additionalProperties: false, $id: 'MaskingPolicy' });

export const MaskingPolicyView = Type.Object({
  policy: Type.Ref('MaskingPolicy'),
  source: Type.Union([Type.Literal('config'), Type.Literal('settings')], { description: 'config = the defaults, until an admin saves a policy' }),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
}, { additionalProperties: false, $id: 'MaskingPolicyView' });

/** One connector type's non-secret options (the secret ones go in `secrets` and are never returned). */
export const SandboxOptionsSchema = Type.Object({
  seed: Type.Optional(Type.String({ maxLength: 128 })),
  slowDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
}, { additionalProperties: false });
export const WebhookOptionsSchema = Type.Object({
  url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://' }),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
  maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  allowInsecureHttp: Type.Optional(Type.Boolean({ description: 'plain http (a loopback sidecar, tests)' })),
}, { additionalProperties: false });
export const StripeOptionsSchema = Type.Object({
  moto: Type.Optional(Type.Boolean()),
  captureMethod: Type.Optional(Type.Union([Type.Literal('automatic'), Type.Literal('manual')])),
  tokenizeWith: Type.Optional(Type.Union([Type.Literal('setup-intent'), Type.Literal('payment-method')])),
  customer: Type.Optional(Type.String({ maxLength: 255 })),
  stripeAccount: Type.Optional(Type.String({ maxLength: 255 })),
}, { additionalProperties: false });

/** Write-only values: accepted on PUT, sealed at rest, never answered. */
const SecretValue = Type.String({ minLength: 8, maxLength: 512 });
export const WebhookSecretsSchema = Type.Object({ secret: Type.Optional(SecretValue) }, { additionalProperties: false });
export const StripeSecretsSchema = Type.Object({ apiKey: Type.Optional(SecretValue) }, { additionalProperties: false });

export const ConnectorSettingBody = Type.Union([
  Type.Object({ type: Type.Literal('sandbox'), options: SandboxOptionsSchema, secrets: Type.Optional(Type.Object({}, { additionalProperties: false })) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('webhook'), options: WebhookOptionsSchema, secrets: Type.Optional(WebhookSecretsSchema) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('stripe'), options: StripeOptionsSchema, secrets: Type.Optional(StripeSecretsSchema) }, { additionalProperties: false }),
], { description: 'a secret left out keeps its saved value (same connector type)' });

export const SecretState = Type.Object({
  set: Type.Boolean(),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last4: Type.Optional(Type.String({ maxLength: 4 })),
}, { additionalProperties: false });

export const ConnectorSettingView = Type.Object({
  merchantId: Type.String(),
  type: Type.Union([Type.Literal('sandbox'), Type.Literal('webhook'), Type.Literal('stripe')]),
  options: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  secrets: Type.Record(Type.String(), SecretState),
  source: Type.Union([Type.Literal('config'), Type.Literal('settings')]),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
}, { additionalProperties: false, $id: 'ConnectorSetting' });

export const MerchantParams = Type.Object({ merchantId: MerchantOrDefault }, { additionalProperties: false });

export type MaskingPolicyInput = Static<typeof MaskingPolicyBody>;
export type ConnectorSettingInput = Static<typeof ConnectorSettingBody>;
export type ConnectorSettingJson = Static<typeof ConnectorSettingView>;
export type SecretStateJson = Static<typeof SecretState>;
export type ConnectorType = ConnectorSettingJson['type'];
export interface MaskingPolicyViewJson {
  policy: MaskingPolicyInput;
  source: 'config' | 'settings';
  updatedAt: string | null;
  updatedBy: string | null;
}
/** which fields of each connector type are secret (write-only) */
export const SECRET_FIELDS: Readonly<Record<ConnectorType, readonly string[]>> = { sandbox: [], webhook: ['secret'], stripe: ['apiKey'] };
