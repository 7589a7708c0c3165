import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { CardlineError } from '../../errors/index.ts';
import {
  ConnectorSettingBody, ConnectorSettingView, MaskingPolicyBody, MaskingPolicyView, MerchantParams, type SettingsStore,
} from '../../settings/index.ts';
import { ctxOf, OkBody } from './request-context.ts';

/**
 * Admin settings: the gateway's masking policy and the payment connector per merchant. Admins write
 * (`settings:write`); admins and auditors read (`settings:read`). Connector secrets are write-only: a PUT takes
 * them, no answer ever carries them (only `{ set, updatedAt, last4? }`). An admin bound to a merchant sees and
 * sets only that merchant's connector and cannot change the platform-wide masking policy.
 */
type MerchantReq<B = unknown> = FastifyRequest<{ Params: Static<typeof MerchantParams>; Body: B }>;

function platformOnly(request: FastifyRequest): void {
  if ((request.principal?.merchantId ?? null) !== null) throw new CardlineError('forbidden', 'platform-wide setting');
}

function merchantScope(request: FastifyRequest, merchantId: string): void {
  const scope = request.principal?.merchantId ?? null;
  if (scope !== null && merchantId !== scope) throw new CardlineError('settings-not-found');
}

export function registerSettingsRoutes(app: FastifyInstance, settings: SettingsStore): void {
  const tags = ['settings'];
  app.addSchema(MaskingPolicyBody);
  app.addSchema(MaskingPolicyView);
  app.addSchema(ConnectorSettingView);

  app.get('/v1/settings/masking-policy', {
    config: { permission: 'settings:read' },
    schema: { summary: 'The masking policy new calls get (the configured default until an admin saves one)', tags, response: { 200: Type.Ref('MaskingPolicyView') } },
  }, async () => settings.maskingPolicyView());

  app.put('/v1/settings/masking-policy', {
    config: { permission: 'settings:write' },
    schema: { summary: 'Set the masking policy (mode, secure by default, agent trigger sequences); applies to new calls', tags, body: Type.Ref('MaskingPolicy'), response: { 200: Type.Ref('MaskingPolicyView') } },
  }, async (request: FastifyRequest<{ Body: Static<typeof MaskingPolicyBody> }>) => {
    platformOnly(request);
    return settings.setMaskingPolicy(request.body, ctxOf(request));
  });

  app.get('/v1/settings/connectors', {
    config: { permission: 'settings:read' },
    schema: { summary: 'Payment connectors per merchant ("*" = default); secrets only as set / not set', tags, response: { 200: Type.Object({ connectors: Type.Array(Type.Ref('ConnectorSetting')) }, { additionalProperties: false }) } },
  }, async (request) => ({ connectors: settings.connectorViews(request.principal?.merchantId ?? null) }));

  app.put('/v1/settings/connectors/:merchantId', {
    config: { permission: 'settings:write' },
    schema: { summary: 'Set a merchant\'s payment connector (secrets write-only); applies to new submissions', tags, params: MerchantParams, body: ConnectorSettingBody, response: { 200: Type.Ref('ConnectorSetting') } },
  }, async (request: MerchantReq<Static<typeof ConnectorSettingBody>>) => {
    merchantScope(request, request.params.merchantId);
    return settings.setConnector(request.params.merchantId, request.body, ctxOf(request));
  });

  app.delete('/v1/settings/connectors/:merchantId', {
    config: { permission: 'settings:write' },
    schema: { summary: 'Forget a saved connector (back to the configured one)', tags, params: MerchantParams, response: { 200: OkBody } },
  }, async (request: MerchantReq) => {
    merchantScope(request, request.params.merchantId);
    await settings.removeConnector(request.params.merchantId, ctxOf(request));
    return { ok: true as const };
  });
}
