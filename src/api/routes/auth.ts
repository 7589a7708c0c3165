import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CreatedSession, LoginResult, Security } from '../../auth/index.ts';
import { CardlineError } from '../../errors/index.ts';
import { clearSessionCookies, ctxOf, Nullable, OkBody, setSessionCookies, withRetryAfter } from './request-context.ts';

/**
 * Login and self-service: password → (TOTP | enrolment) → full session, as a web-console cookie or a bearer
 * token for programs; who am I; change my password; log out. Every step is audited by the AuthService.
 */
const Stage = Type.Union([Type.Literal('full'), Type.Literal('mfa-pending'), Type.Literal('enrolment')], {
  description: 'full: signed in; mfa-pending: send a TOTP or recovery code to /v1/auth/mfa/verify; enrolment: MFA is mandatory, enrol first (/v1/auth/mfa/enrol, /v1/auth/mfa/confirm)',
});
const SessionKindSchema = Type.Union([Type.Literal('cookie'), Type.Literal('token')]);

const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 128 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  session: Type.Optional(SessionKindSchema),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 43_200, description: 'token sessions: lifetime (default 1 h, capped by configuration)' })),
}, { additionalProperties: false });

const LoginResponse = Type.Object({
  stage: Stage,
  user: Type.Ref('User'),
  token: Nullable(Type.String({ description: 'token sessions only: send as "Authorization: Bearer <token>"; shown once' })),
  csrfToken: Nullable(Type.String({ description: 'cookie sessions only: echo in X-CSRF-Token on every state-changing request' })),
  expiresAt: Type.String({ format: 'date-time', description: 'absolute end of this session' }),
  idleExpiresAt: Type.String({ format: 'date-time', description: 'ends earlier if unused until then; each request moves it' }),
}, { additionalProperties: false });

const VerifyBody = Type.Object({
  code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
  recoveryCode: Type.Optional(Type.String({ minLength: 16, maxLength: 32 })),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 43_200 })),
}, { additionalProperties: false });

const EnrolResponse = Type.Object({
  secret: Type.String({ description: 'base32 seed for manual entry (shown once)' }),
  otpauthUri: Type.String(),
  qrSvgDataUrl: Type.String(),
}, { additionalProperties: false });

const ConfirmBody = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }), ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 43_200 })) }, { additionalProperties: false });
const ConfirmResponse = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'ten single-use codes, shown once' }),
  stage: Stage,
  user: Type.Ref('User'),
  token: Nullable(Type.String()),
  csrfToken: Nullable(Type.String()),
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
}, { additionalProperties: false });

const MeResponse = Type.Object({
  user: Type.Ref('User'),
  stage: Stage,
  via: Type.Union([Type.Literal('cookie'), Type.Literal('bearer')]),
  permissions: Type.Array(Type.String()),
  expiresAt: Type.String({ format: 'date-time' }),
  idleExpiresAt: Type.String({ format: 'date-time' }),
}, { additionalProperties: false });

const PasswordBody = Type.Object({
  currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
  newPassword: Type.String({ minLength: 1, maxLength: 1024 }),
}, { additionalProperties: false });

function respond(request: FastifyRequest, reply: FastifyReply, security: Security, r: Pick<LoginResult, 'user' | 'stage'> & { session: CreatedSession }) {
  const cookie = r.session.kind === 'cookie';
  if (cookie) setSessionCookies(request, reply, security, r.session);
  return {
    stage: r.stage,
    user: r.user,
    token: cookie ? null : r.session.token,
    csrfToken: r.session.csrfToken,
    expiresAt: r.session.absoluteExpiresAt,
    idleExpiresAt: r.session.idleExpiresAt,
  };
}

function loginRow(request: FastifyRequest) {
  const s = request.loginSession;
  if (s === null) throw new CardlineError('forbidden', 'a login session is required');
  return s;
}

export function registerAuthRoutes(app: FastifyInstance, security: Security): void {
  const auth = security.auth;
  const tags = ['auth'];

  app.post('/v1/auth/login', {
    config: { permission: 'public' },
    schema: {
      summary: 'Log in with username and password',
      description: 'session "cookie" (default; web console) sets HttpOnly SameSite=Strict cookies; "token" returns a bearer token for programs. '
        + 'Then, by stage: full = done; mfa-pending = POST /v1/auth/mfa/verify; enrolment = enrol an authenticator first. '
        + 'Failures are throttled per account and per address with exponential back-off (429 + Retry-After).',
      tags, security: [], body: LoginBody, response: { 200: LoginResponse },
    },
  }, async (request: FastifyRequest<{ Body: Static<typeof LoginBody> }>, reply) => withRetryAfter(reply, async () => {
    const b = request.body;
    const { ip, userAgent } = ctxOf(request);
    const result = await auth.login(b.username, b.password, b.session === 'token' ? 'bearer' : 'cookie', { ip, userAgent }, b.ttlSeconds === undefined ? undefined : b.ttlSeconds * 1000);
    return respond(request, reply, security, result);
  }));

  app.post('/v1/auth/mfa/verify', {
    config: { permission: 'auth:mfa-verify' },
    schema: { summary: 'Finish a login with a TOTP code or a recovery code', description: 'Replaces the MFA-pending session with a full one (new token / cookie).', tags, body: VerifyBody, response: { 200: LoginResponse } },
  }, async (request: FastifyRequest<{ Body: Static<typeof VerifyBody> }>, reply) => withRetryAfter(reply, async () => {
    const b = request.body;
    if ((b.code === undefined) === (b.recoveryCode === undefined)) throw new CardlineError('invalid-request', 'send exactly one of code, recoveryCode');
    const { ip, userAgent } = ctxOf(request);
    const proof = b.code !== undefined ? { code: b.code } : { recoveryCode: b.recoveryCode ?? '' };
    const result = await auth.verifyMfa(loginRow(request), proof, { ip, userAgent }, b.ttlSeconds === undefined ? undefined : b.ttlSeconds * 1000);
    return respond(request, reply, security, result);
  }));

  app.post('/v1/auth/mfa/enrol', {
    config: { permission: 'self:mfa' },
    schema: { summary: 'Start TOTP enrolment: a new seed as otpauth:// URI and QR code', tags, response: { 200: EnrolResponse } },
  }, async (request) => {
    const p = request.principal;
    if (p === null || p.kind !== 'user') throw new CardlineError('forbidden');
    return auth.beginEnrolment(p.id, ctxOf(request));
  });

  app.post('/v1/auth/mfa/confirm', {
    config: { permission: 'self:mfa' },
    schema: { summary: 'Confirm TOTP enrolment with a first valid code; returns recovery codes', description: 'An enrolment-stage session is replaced by a full one.', tags, body: ConfirmBody, response: { 200: ConfirmResponse } },
  }, async (request: FastifyRequest<{ Body: Static<typeof ConfirmBody> }>, reply) => withRetryAfter(reply, async () => {
    const p = request.principal;
    if (p === null || p.kind !== 'user') throw new CardlineError('forbidden');
    const r = await auth.confirmEnrolment(p.id, request.body.code, request.loginSession, ctxOf(request), request.body.ttlSeconds === undefined ? undefined : request.body.ttlSeconds * 1000);
    if (r.session === null) return { recoveryCodes: r.recoveryCodes, stage: p.stage ?? 'full', user: r.user, token: null, csrfToken: null, expiresAt: null };
    const body = respond(request, reply, security, { user: r.user, stage: 'full', session: r.session });
    return { recoveryCodes: r.recoveryCodes, stage: body.stage, user: body.user, token: body.token, csrfToken: body.csrfToken, expiresAt: body.expiresAt };
  }));

  app.get('/v1/auth/me', {
    config: { permission: 'self' },
    schema: { summary: 'The signed-in user, login stage and permissions', tags, response: { 200: MeResponse } },
  }, async (request) => {
    const s = loginRow(request);
    const p = request.principal;
    if (p === null || request.loginUser === null) throw new CardlineError('forbidden');
    return {
      user: request.loginUser, stage: p.stage ?? 'full', via: p.via === 'cookie' ? 'cookie' as const : 'bearer' as const,
      permissions: p.permissions === 'all' ? ['all'] : [...p.permissions].sort(), expiresAt: s.absolute_expires_at, idleExpiresAt: s.idle_expires_at,
    };
  });

  app.post('/v1/auth/password', {
    config: { permission: 'self' },
    schema: { summary: 'Change one\'s own password (other sessions end)', tags, body: PasswordBody, response: { 200: OkBody } },
  }, async (request: FastifyRequest<{ Body: Static<typeof PasswordBody> }>, reply) => withRetryAfter(reply, async () => {
    const s = loginRow(request);
    await auth.changeOwnPassword(s.user_id, s.id, request.body.currentPassword, request.body.newPassword, ctxOf(request));
    return { ok: true as const };
  }));

  app.post('/v1/auth/logout', {
    config: { permission: 'auth:session' },
    schema: { summary: 'End this login session (token or cookie)', tags, response: { 200: OkBody } },
  }, async (request, reply) => {
    await auth.logout(loginRow(request), ctxOf(request));
    clearSessionCookies(request, reply, security);
    return { ok: true as const };
  });
}
