import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { Type } from '@sinclair/typebox';

const require = createRequire(import.meta.url);
export const CARDLINE_VERSION: string = (require('../../package.json') as { version: string }).version;

/**
 * OpenAPI 3.0 document generated from the route schemas by @fastify/swagger (v9, fastify 5), served at
 * `GET /openapi.json`. Each operation carries `x-cardline-permission` (from the route's `permission`) and,
 * unless public, the two accepted API-key schemes.
 */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Cardline API',
        version: CARDLINE_VERSION,
        description: 'Secure payment sessions for contact centres. Every response is masked: no PAN beyond the last four, '
          + 'no security code, no keypad digit. Errors: `{ "error": { "code", "message" } }`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'an API key, or a token from POST /v1/auth/login with session "token"' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          sessionCookie: {
            type: 'apiKey', in: 'cookie', name: 'cardline_session',
            description: 'web console session from POST /v1/auth/login with session "cookie" (HttpOnly, SameSite=Strict, '
              + '15-minute idle timeout); every state-changing request must also send the X-CSRF-Token header it was issued',
          },
        },
      },
      security: [{ bearerAuth: [] }, { apiKeyHeader: [] }, { sessionCookie: [] }],
    },
    // components keep the schemas' own $id names (ErrorBody, SessionEvent) instead of def-N
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const permission = route.config?.permission;
      const out: Record<string, unknown> = { ...(schema ?? {}), 'x-cardline-permission': permission ?? null };
      if (permission === 'public') out.security = [];
      return { schema: out as typeof schema, url };
    },
  });

  app.get('/openapi.json', {
    config: { permission: 'public' },
    schema: { hide: true, response: { 200: Type.Object({}, { additionalProperties: true }) } },
  }, async () => app.swagger());
}
