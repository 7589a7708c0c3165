/**
 * The calls API: the agent console lists the calls Cardline anchors (to bind a payment session to "my current
 * call") and turns a call's secure mode on or off (the bound payment session starts or ends). Registered on the
 * API server by the composition root when the gateway runs (`registerCallRoutes(app, b2bua.registry)`).
 *
 * Calls carry no digits and no card data; the listing is safe for `sessions:read`. Changing secure mode needs
 * `sessions:write`. Calls are not scoped to a merchant yet (one gateway per deployment).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CardlineError } from '../errors/index.ts';
import { CallState, type CallRegistry } from './call-registry.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const SecureSource = Type.Union(['api', 'trigger', 'policy', 'session-ended', 'call-ended'].map((s) => Type.Literal(s)), {
  description: 'what turned secure mode on/off: API (bound payment session), agent in-band trigger, policy, end of the bound session or of the call',
});

export const CallSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  sipCallId: Type.String(),
  caller: Type.String({ description: "the caller's From URI" }),
  callee: Type.String({ description: 'the Request-URI the caller dialled' }),
  agent: Type.String({ description: 'the target URI Cardline routed the call to' }),
  state: Type.Union(Object.values(CallState).map((s) => Type.Literal(s))),
  secure: Type.Boolean({ description: 'secure mode: caller DTMF is masked and goes only to the bound payment session' }),
  paymentSessionId: Nullable(Type.String()),
  startedAt: Type.String({ format: 'date-time' }),
  answeredAt: Nullable(Type.String({ format: 'date-time' })),
  endedAt: Nullable(Type.String({ format: 'date-time' })),
  endReason: Nullable(Type.String()),
  secureSpans: Type.Array(Type.Object({
    start: Type.String({ format: 'date-time' }),
    end: Nullable(Type.String({ format: 'date-time' })),
    startedBy: SecureSource,
    endedBy: Nullable(SecureSource),
  }, { additionalProperties: false }), { description: 'secure-mode spans (card entry), oldest first; the open one has end null' }),
}, { additionalProperties: false });

const CallParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const SecureBody = Type.Object({
  on: Type.Boolean(),
  sessionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'payment session to receive the digits (with on: true)' })),
}, { additionalProperties: false });

/** Looks a payment session up (the payment service's `find`): binding refuses unknown sessions. */
export interface SessionLookup {
  find(id: string): Promise<unknown>;
}

export function registerCallRoutes(app: FastifyInstance, registry: CallRegistry, sessions?: SessionLookup): void {
  const tags = ['calls'];
  app.get('/v1/calls', {
    config: { permission: 'sessions:read' },
    schema: { summary: 'Calls anchored by the media gateway', tags, response: { 200: Type.Object({ calls: Type.Array(CallSchema) }, { additionalProperties: false }) } },
  }, async () => ({ calls: registry.list() }));

  app.post('/v1/calls/:id/secure', {
    config: { permission: 'sessions:write' },
    schema: { summary: "Turn a call's secure mode on or off", tags, params: CallParams, body: SecureBody, response: { 200: CallSchema } },
  }, async (request: FastifyRequest<{ Params: Static<typeof CallParams>; Body: Static<typeof SecureBody> }>) => {
    const { on, sessionId } = request.body;
    if (sessionId !== undefined) {
      if (!on) throw new CardlineError('invalid-request', 'sessionId binds a session when turning secure mode on');
      if (!sessions || (await sessions.find(sessionId)) === null) throw new CardlineError('session-not-found');
    }
    return registry.setSecure(request.params.id, on, sessionId);
  });
}
