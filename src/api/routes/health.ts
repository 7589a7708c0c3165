import type { FastifyInstance } from 'fastify';
import { HealthBody } from '../schemas.ts';
import { CARDLINE_VERSION } from '../openapi.ts';

/** Liveness for load balancers and orchestrators: public, reveals only the version. */
export function registerHealthRoute(app: FastifyInstance): void {
  const started = Date.now();
  app.get('/health', {
    config: { permission: 'public' },
    schema: { summary: 'Liveness', tags: ['system'], response: { 200: HealthBody } },
  }, async () => ({ status: 'ok' as const, version: CARDLINE_VERSION, uptimeSeconds: Math.round((Date.now() - started) / 100) / 10 }));
}
