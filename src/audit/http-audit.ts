import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog, AuditOutcome } from './audit-log.ts';

/**
 * Audit records for HTTP access that no domain service records itself (PCI DSS 4.0 req. 10.2.1: all
 * individual access to cardholder-data-related functions; 10.2.1.4: invalid logical access attempts):
 *  - payment-session create / read / list / subscribe / capture / amount / submit / cancel, with the outcome;
 *  - every refused request (401, 403) on any route, as `access.denied`.
 * Keypad-digit feeds are not recorded one by one (the media layer posts them many times per session; the
 * session's own records and the transaction cover them). Only route patterns, ids, addresses and user agents are
 * written: never a header value, a query string or a body.
 */
const SESSION_ACTIONS: Readonly<Record<string, string>> = {
  'POST /v1/sessions': 'session.create',
  'GET /v1/sessions': 'session.list',
  'GET /v1/sessions/:id': 'session.read',
  'POST /v1/sessions/:id/capture': 'session.capture',
  'PUT /v1/sessions/:id/amount': 'session.amount',
  'POST /v1/sessions/:id/submit': 'session.submit',
  'POST /v1/sessions/:id/cancel': 'session.cancel',
};
const SUBSCRIBE = 'GET /v1/sessions/:id/events';

export interface HttpAuditPrincipal {
  kind: string;
  id: string;
  name?: string | null;
  merchantId: string | null;
}

function actorOf(p: HttpAuditPrincipal | null) {
  if (p === null) return { kind: 'anonymous' as const, id: null, name: null };
  return { kind: p.kind === 'user' ? 'user' as const : 'api-key' as const, id: p.id, name: p.name ?? null };
}

function outcomeOf(status: number): AuditOutcome {
  if (status === 401 || status === 403) return 'denied';
  return status < 400 ? 'success' : 'failure';
}

export function installHttpAudit(app: FastifyInstance, audit: AuditLog, principalOf: (r: FastifyRequest) => HttpAuditPrincipal | null): void {
  const base = (request: FastifyRequest) => {
    const ua = request.headers['user-agent'];
    const p = principalOf(request);
    return { actor: actorOf(p), ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua : null, merchantId: p?.merchantId ?? null };
  };
  const sessionId = (request: FastifyRequest, reply: FastifyReply): string | null => {
    const id = (request.params as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string') return id;
    const loc = reply.getHeader('location');
    const m = typeof loc === 'string' ? /^\/v1\/sessions\/([^/]+)$/.exec(loc) : null;
    return m?.[1] === undefined ? null : decodeURIComponent(m[1]);
  };

  // live-event subscriptions may be upgraded to WebSockets (no onResponse): recorded once access is granted
  app.addHook('preHandler', async (request) => {
    const key = `${request.method} ${request.routeOptions.url ?? ''}`;
    if (key !== SUBSCRIBE) return;
    await audit.record({ ...base(request), action: 'session.subscribe', outcome: 'success', target: { kind: 'payment-session', id: (request.params as { id?: string }).id ?? null }, detail: { transport: request.headers.upgrade === 'websocket' ? 'websocket' : 'sse' } });
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined) return;
    const key = `${request.method} ${route}`;
    const status = reply.statusCode;
    const action = SESSION_ACTIONS[key];
    if (action !== undefined) {
      await audit.record({ ...base(request), action, outcome: outcomeOf(status), target: { kind: 'payment-session', id: action === 'session.list' ? null : sessionId(request, reply) }, detail: { status } });
      return;
    }
    // login failures are recorded by the auth service with their reason
    if ((status === 401 || status === 403) && route !== '/v1/auth/login') {
      await audit.record({ ...base(request), action: 'access.denied', outcome: 'denied', target: { kind: 'route', id: key }, detail: { status } });
    }
  });
}
