import type { FastifyInstance } from 'fastify';

/**
 * One log line per finished request: method, route PATTERN (not the raw URL: a mistyped path or query could
 * carry anything a client typed, card data included), status, duration, caller id. Never headers, never
 * bodies (PCI DSS 4.0 req. 3.3, 10.2: who, what, when, outcome — without sensitive data).
 * Fastify's own request logging is disabled in buildServer in favour of this.
 */
export function installRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({
      method: request.method,
      route: request.routeOptions.url ?? '(unmatched)',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      principal: request.principal?.id ?? null,
    }, 'request');
  });
}
