import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Security } from '../../auth/index.ts';
import { CardlineError } from '../../errors/index.ts';
import { ctxOf } from './request-context.ts';

/**
 * Embedding the agent panel in a CRM or contact-centre desktop (issue 7; README "Embedding the agent panel").
 *
 * 1. The integration's back end (an admin session or an API key with `embed-tokens:write`) mints a one-time token
 *    for the agent at the desk: `POST /v1/embed-tokens {userId, ttlSeconds ≤ 300}`.
 * 2. Its page frames `/console/embed#token=…` (a URL fragment: never sent to any server, so it lands in no access
 *    log and no Referer). The framed console posts the token to `POST /v1/auth/embed` once and gets a bearer login
 *    session it keeps in memory — no cookie, so nothing depends on third-party cookies in a cross-site iframe and
 *    there is no ambient credential to forge requests with (CSRF needs none).
 * Minting and every exchange, failed or not, are in the audit trail.
 */
const MintBody = Type.Object({
  userId: Type.String({ minLength: 1, maxLength: 64, description: 'the agent who will use the panel' }),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 300, description: 'default 120; the token must be exchanged before it ends' })),
}, { additionalProperties: false });
const MintResponse = Type.Object({
  token: Type.String({ description: 'one-time, shown once; put it in the frame URL fragment' }),
  expiresAt: Type.String({ format: 'date-time' }),
  url: Type.String({ description: 'path of the embedded panel with the token in its fragment: /console/embed#token=…' }),
}, { additionalProperties: false });
const ExchangeBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false });
const ExchangeResponse = Type.Object({
  token: Type.String({ description: 'bearer login session: "Authorization: Bearer <token>"; keep it in memory only' }),
  user: Type.Ref('User'),
  expiresAt: Type.String({ format: 'date-time' }),
  idleExpiresAt: Type.String({ format: 'date-time' }),
}, { additionalProperties: false });

export function registerEmbedRoutes(app: FastifyInstance, security: Security): void {
  const auth = security.auth;
  app.post('/v1/embed-tokens', {
    config: { permission: 'embed-tokens:write' },
    schema: { summary: 'Mint a one-time token that opens the embedded agent panel as an agent', tags: ['embedding'], body: MintBody, response: { 201: MintResponse } },
  }, async (request: FastifyRequest<{ Body: Static<typeof MintBody> }>, reply) => {
    const target = await auth.getUser(request.body.userId);
    const scope = request.principal?.merchantId ?? null;
    // outside the minter's merchant: reported as absent, like the users API
    if (scope !== null && target.merchantId !== scope) throw new CardlineError('user-not-found');
    const m = await auth.mintEmbedToken(target.id, request.body.ttlSeconds ?? 120, ctxOf(request));
    void reply.code(201);
    return { token: m.token, expiresAt: m.expiresAt, url: `/console/embed#token=${m.token}` };
  });

  app.post('/v1/auth/embed', {
    config: { permission: 'public' },
    schema: {
      summary: 'Exchange an embed token (once) for a bearer login session',
      description: 'Used by the embedded console. Unknown, expired and already used tokens are all refused with embed-token-invalid (401).',
      tags: ['embedding'], security: [], body: ExchangeBody, response: { 200: ExchangeResponse },
    },
  }, async (request: FastifyRequest<{ Body: Static<typeof ExchangeBody> }>) => {
    const { ip, userAgent } = ctxOf(request);
    const r = await auth.exchangeEmbedToken(request.body.token, { ip, userAgent });
    return { token: r.session.token, user: r.user, expiresAt: r.session.absoluteExpiresAt, idleExpiresAt: r.session.idleExpiresAt };
  });
}
