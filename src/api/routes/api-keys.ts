import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ApiKeyInfo, Security } from '../../auth/index.ts';
import { CardlineError } from '../../errors/index.ts';
import { ApiKeySchema, CreateApiKeyBody } from '../back-office-schemas.ts';
import { ctxOf, IdParams } from './request-context.ts';

/** API keys for machine clients (admin role): create, list, rotate with a grace period, revoke. */
const Issued = Type.Object({
  key: Type.String({ description: 'the key itself, shown once: store it now' }),
  apiKey: Type.Ref('ApiKey'),
}, { additionalProperties: false });

const RotateQuery = Type.Object({
  graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600, description: 'how long the old key keeps working (default 24 h)' })),
}, { additionalProperties: false });

const ListQuery = Type.Object({ includeRevoked: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export { ApiKeySchema };

export function registerApiKeyRoutes(app: FastifyInstance, security: Security): void {
  const keys = security.apiKeys;
  const tags = ['api-keys'];
  type IdReq<B = unknown> = FastifyRequest<{ Params: Static<typeof IdParams>; Body: B }>;

  async function scoped(request: FastifyRequest, id: string): Promise<ApiKeyInfo> {
    const k = await keys.get(id);
    const m = request.principal?.merchantId ?? null;
    if (m !== null && k.merchantId !== m) throw new CardlineError('api-key-not-found');
    return k;
  }

  app.get('/v1/api-keys', {
    config: { permission: 'apikeys:read' },
    schema: { summary: 'List API keys (never the keys themselves)', tags, querystring: ListQuery, response: { 200: Type.Object({ apiKeys: Type.Array(Type.Ref('ApiKey')) }, { additionalProperties: false }) } },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof ListQuery> }>) => ({
    apiKeys: await keys.list({ merchantId: request.principal?.merchantId ?? null, includeRevoked: request.query.includeRevoked === true }),
  }));

  app.post('/v1/api-keys', {
    config: { permission: 'apikeys:write' },
    schema: { summary: 'Create an API key (the key is in this response only)', tags, body: CreateApiKeyBody, response: { 201: Issued } },
  }, async (request: FastifyRequest<{ Body: Static<typeof CreateApiKeyBody> }>, reply) => {
    const scope = request.principal?.merchantId ?? null;
    const b = request.body;
    if (scope !== null && b.merchantId !== undefined && b.merchantId !== scope) throw new CardlineError('forbidden', 'other merchant');
    const issued = await keys.create({ name: b.name, ...(b.permissions ? { permissions: b.permissions } : {}), merchantId: scope ?? b.merchantId ?? null }, ctxOf(request));
    void reply.code(201);
    return { key: issued.key, apiKey: issued.info };
  });

  app.post('/v1/api-keys/:id/rotate', {
    config: { permission: 'apikeys:write' },
    schema: { summary: 'Issue a replacement key; the old one expires after the grace period', tags, params: IdParams, querystring: RotateQuery, response: { 200: Issued } },
  }, async (request: FastifyRequest<{ Params: Static<typeof IdParams>; Querystring: Static<typeof RotateQuery> }>) => {
    await scoped(request, request.params.id);
    const g = request.query.graceSeconds;
    const issued = await keys.rotate(request.params.id, ctxOf(request), g === undefined ? undefined : g * 1000);
    return { key: issued.key, apiKey: issued.info };
  });

  app.delete('/v1/api-keys/:id', {
    config: { permission: 'apikeys:write' },
    schema: { summary: 'Revoke an API key at once', tags, params: IdParams, response: { 200: Type.Ref('ApiKey') } },
  }, async (request: IdReq) => {
    await scoped(request, request.params.id);
    return keys.revoke(request.params.id, ctxOf(request));
  });
}
