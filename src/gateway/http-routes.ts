/**
 * The calls API: the agent console lists the calls Cardline anchors (to bind a payment session to "my current
 * call") and turns a call's secure mode on or off (the bound payment session starts or ends). Registered on the
 * API server by the composition root when the gateway runs (`registerCallRoutes(app, b2bua.registry)`).
 *
 * Calls carry no digits and no card data; the listing is safe for `sessions:read` (`?mine=1`: only the calls to
 * the signed-in agent's SIP identity). Changing secure mode needs `sessions:write`, and the composition root's
 * `CallAccess` keeps an agent to its own calls and its own payment sessions. Calls are not scoped to a merchant
 * yet (one gateway per deployment).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CardlineError } from '../errors/index.ts';
import { TERMINAL_STATES } from '../payments/index.ts';
import { sameSipIdentity } from '../sip/index.ts';
import { CallState, type CallRegistry, type CallView } from './call-registry.ts';

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

const ListQuery = Type.Object({
  mine: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('true')], {
    description: "only calls whose agent leg goes to the signed-in user's SIP identity (user and host, RFC 3261 §19.1.4); none without one",
  })),
}, { additionalProperties: false });

/**
 * Who may see and bind which call, supplied by the composition root (it knows users, the gateway does not).
 * Without it every caller holding the route's permission may bind any call (API keys, tests).
 */
export interface CallAccess {
  /** the requester's SIP identity (`sip:user@host`), or null when none is set or the requester is not a person */
  identityOf(request: FastifyRequest): Promise<string | null>;
  /** throws a CardlineError when the requester may not change this call's secure mode or bind this session */
  checkBind(request: FastifyRequest, call: CallView, sessionId: string | undefined): Promise<void>;
}

/** Whether a call's agent leg goes to this SIP identity (see src/sip/messages/sip-identity.ts). */
export function isCallOf(call: CallView, identity: string): boolean {
  return sameSipIdentity(identity, call.agent);
}

/**
 * Looks a payment session up (the payment service's `find`): binding refuses unknown sessions, and sessions that
 * already ended (their end would never turn the call's secure mode off again).
 */
export interface SessionLookup {
  find(id: string): Promise<{ state: string } | null>;
}

export function registerCallRoutes(app: FastifyInstance, registry: CallRegistry, sessions?: SessionLookup, access?: CallAccess): void {
  const tags = ['calls'];
  app.get('/v1/calls', {
    config: { permission: 'sessions:read' },
    schema: {
      summary: 'Calls anchored by the media gateway', tags, querystring: ListQuery,
      response: { 200: Type.Object({ calls: Type.Array(CallSchema) }, { additionalProperties: false }) },
    },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof ListQuery> }>) => {
    const calls = registry.list();
    if (request.query.mine === undefined) return { calls };
    const identity = access === undefined ? null : await access.identityOf(request);
    return { calls: identity === null ? [] : calls.filter((c) => isCallOf(c, identity)) };
  });

  app.post('/v1/calls/:id/secure', {
    config: { permission: 'sessions:write' },
    schema: { summary: "Turn a call's secure mode on or off", tags, params: CallParams, body: SecureBody, response: { 200: CallSchema } },
  }, async (request: FastifyRequest<{ Params: Static<typeof CallParams>; Body: Static<typeof SecureBody> }>) => {
    const { on, sessionId } = request.body;
    const call = registry.get(request.params.id);
    if (call === undefined) throw new CardlineError('call-not-found');
    await access?.checkBind(request, call.view(), sessionId);
    if (sessionId !== undefined) {
      if (!on) throw new CardlineError('invalid-request', 'sessionId binds a session when turning secure mode on');
      const found = sessions ? await sessions.find(sessionId) : null;
      if (found === null) throw new CardlineError('session-not-found');
      if ((TERMINAL_STATES as readonly string[]).includes(found.state)) throw new CardlineError('session-ended');
    }
    return registry.setSecure(request.params.id, on, sessionId);
  });
}
