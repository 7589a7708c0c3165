import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Principal } from '../auth.ts';
import type { Security, User, UserPatch, UserRole } from '../../auth/index.ts';
import { CardlineError } from '../../errors/index.ts';
import { ctxOf, IdParams, OkBody } from './request-context.ts';

/**
 * User administration (admin role). An admin bound to a merchant manages only that merchant's users and
 * cannot create platform-wide (merchant-less) users; every change is audited and ends the user's sessions
 * where it changes what they may do.
 */
const Role = Type.Union([Type.Literal('agent'), Type.Literal('supervisor'), Type.Literal('admin'), Type.Literal('auditor')]);
const Scope = Type.Union([Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$' }), Type.Null()]);

const SipIdentity = Type.Union([Type.String({ maxLength: 256, description: 'SIP identity, e.g. sip:alice@pbx.example.com (stored as sip:user@host); null clears it' }), Type.Null()]);

const CreateUserBody = Type.Object({
  username: Type.String({ minLength: 2, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 1024, description: 'initial password (policy applies); hand it over out of band' }),
  role: Role,
  merchantId: Type.Optional(Scope),
  teamId: Type.Optional(Scope),
  displayName: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
  email: Type.Optional(Type.Union([Type.String({ maxLength: 254 }), Type.Null()])),
  sipUri: Type.Optional(SipIdentity),
  mfaRequired: Type.Optional(Type.Boolean({ description: 'agents and auditors: default on; admin and supervisor: always on' })),
}, { additionalProperties: false });

const PatchUserBody = Type.Object({
  role: Type.Optional(Role),
  merchantId: Type.Optional(Scope),
  teamId: Type.Optional(Scope),
  displayName: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
  email: Type.Optional(Type.Union([Type.String({ maxLength: 254 }), Type.Null()])),
  sipUri: Type.Optional(SipIdentity),
  mfaRequired: Type.Optional(Type.Boolean()),
  disabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, minProperties: 1 });

const ListQuery = Type.Object({
  role: Type.Optional(Role),
  teamId: Type.Optional(Type.String({ maxLength: 128 })),
  merchantId: Type.Optional(Type.String({ maxLength: 128 })),
}, { additionalProperties: false });

const SetPasswordBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
const UserList = Type.Object({ users: Type.Array(Type.Ref('User')) }, { additionalProperties: false });

function inScope(p: Principal | null, user: User): void {
  const m = p?.merchantId ?? null;
  // outside the admin's merchant: reported as absent
  if (m !== null && user.merchantId !== m) throw new CardlineError('user-not-found');
}

function checkMerchantAssignment(p: Principal | null, merchantId: string | null | undefined): void {
  const m = p?.merchantId ?? null;
  if (m !== null && merchantId !== undefined && merchantId !== m) throw new CardlineError('forbidden', 'an admin bound to a merchant can only assign that merchant');
}

export function registerUserRoutes(app: FastifyInstance, security: Security): void {
  const auth = security.auth;
  const tags = ['users'];
  type IdReq<B = unknown> = FastifyRequest<{ Params: Static<typeof IdParams>; Body: B }>;

  async function scopedUser(request: FastifyRequest, id: string): Promise<User> {
    const u = await auth.getUser(id);
    inScope(request.principal, u);
    return u;
  }

  app.get('/v1/users', {
    config: { permission: 'users:read' },
    schema: { summary: 'List users', tags, querystring: ListQuery, response: { 200: UserList } },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof ListQuery> }>) => {
    const q = request.query;
    const scope = request.principal?.merchantId ?? null;
    if (scope !== null && q.merchantId !== undefined && q.merchantId !== scope) throw new CardlineError('forbidden', 'other merchant');
    const users = await auth.listUsers({
      ...(q.role !== undefined ? { role: q.role } : {}), ...(q.teamId !== undefined ? { teamId: q.teamId } : {}),
      merchantId: scope ?? q.merchantId ?? null,
    });
    return { users };
  });

  app.post('/v1/users', {
    config: { permission: 'users:write' },
    schema: { summary: 'Create a user', tags, body: CreateUserBody, response: { 201: Type.Ref('User') } },
  }, async (request: FastifyRequest<{ Body: Static<typeof CreateUserBody> }>, reply) => {
    const b = request.body;
    const scope = request.principal?.merchantId ?? null;
    checkMerchantAssignment(request.principal, b.merchantId ?? (scope === null ? undefined : null));
    const user = await auth.createUser({ ...b, role: b.role as UserRole, merchantId: b.merchantId ?? scope }, ctxOf(request));
    void reply.code(201).header('location', `/v1/users/${user.id}`);
    return user;
  });

  app.get('/v1/users/:id', {
    config: { permission: 'users:read' },
    schema: { summary: 'Read a user', tags, params: IdParams, response: { 200: Type.Ref('User') } },
  }, async (request: IdReq) => scopedUser(request, request.params.id));

  app.patch('/v1/users/:id', {
    config: { permission: 'users:write' },
    schema: { summary: 'Change role, team, merchant, SIP identity, MFA requirement or status', tags, params: IdParams, body: PatchUserBody, response: { 200: Type.Ref('User') } },
  }, async (request: IdReq<Static<typeof PatchUserBody>>) => {
    await scopedUser(request, request.params.id);
    checkMerchantAssignment(request.principal, request.body.merchantId);
    if (request.params.id === request.principal?.id && (request.body.disabled === true || (request.body.role !== undefined && request.body.role !== 'admin'))) {
      throw new CardlineError('forbidden', 'an admin cannot disable or demote itself');
    }
    return auth.updateUser(request.params.id, request.body as UserPatch, ctxOf(request));
  });

  app.post('/v1/users/:id/password', {
    config: { permission: 'users:write' },
    schema: { summary: 'Set a new password for a user (their sessions end)', tags, params: IdParams, body: SetPasswordBody, response: { 200: OkBody } },
  }, async (request: IdReq<Static<typeof SetPasswordBody>>) => {
    await scopedUser(request, request.params.id);
    await auth.setPassword(request.params.id, request.body.password, ctxOf(request));
    return { ok: true as const };
  });

  app.post('/v1/users/:id/reset-mfa', {
    config: { permission: 'users:write' },
    schema: { summary: 'Forget a user\'s authenticator and recovery codes (they enrol again)', tags, params: IdParams, response: { 200: OkBody } },
  }, async (request: IdReq) => {
    await scopedUser(request, request.params.id);
    await auth.resetMfa(request.params.id, ctxOf(request));
    return { ok: true as const };
  });

  app.post('/v1/users/:id/unlock', {
    config: { permission: 'users:write' },
    schema: { summary: 'Clear a login lockout', tags, params: IdParams, response: { 200: OkBody } },
  }, async (request: IdReq) => {
    await scopedUser(request, request.params.id);
    await auth.unlock(request.params.id, ctxOf(request));
    return { ok: true as const };
  });
}
