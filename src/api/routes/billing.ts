import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Security } from '../../auth/index.ts';
import { billingReportCsv, CHANNELS, dailyTransactionsCsv } from '../../billing/index.ts';
import { CardlineError } from '../../errors/index.ts';
import { BillingReportSchema, DailyQuery, DailyTransactionsSchema, PlanBody, PlanSchema } from '../back-office-schemas.ts';
import { ctxOf, IdParams } from './request-context.ts';

/**
 * Billing: the monthly invoice-style report (JSON for reading, CSV as an audited export), price plans
 * (settings), and secure-audio metering for media nodes that run out of process.
 */
const Month = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'UTC calendar month, YYYY-MM' });
const ReportQuery = Type.Object({ month: Month, merchantId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$' })) }, { additionalProperties: false });

const SecureAudioBody = Type.Object({
  merchantId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$' }),
  callId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$' }),
  ms: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'milliseconds of masked audio' }),
  channel: Type.Optional(Type.Union(CHANNELS.map((c) => Type.Literal(c)))),
}, { additionalProperties: false });

function reportScope(request: FastifyRequest, merchantId: string | undefined): string | undefined {
  const scope = request.principal?.merchantId ?? null;
  if (scope === null) return merchantId;
  if (merchantId !== undefined && merchantId !== scope) throw new CardlineError('forbidden', 'other merchant');
  return scope;
}

export function registerBillingRoutes(app: FastifyInstance, security: Security): void {
  const tags = ['billing'];

  app.get('/v1/billing/report', {
    config: { permission: 'reports:read' },
    schema: { summary: 'Monthly billing report: invoice per merchant (lines, subtotal, minimum top-up, total; minor units)', tags, querystring: ReportQuery, response: { 200: BillingReportSchema } },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof ReportQuery> }>) => security.billing.report(request.query.month, reportScope(request, request.query.merchantId)));

  app.get('/v1/billing/report.csv', {
    config: { permission: 'reports:export' },
    schema: {
      summary: 'The monthly billing report as CSV (an audited export)', tags, querystring: ReportQuery,
      response: { 200: { description: 'text/csv', content: { 'text/csv': { schema: Type.String() } } } },
    },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof ReportQuery> }>, reply) => {
    const merchant = reportScope(request, request.query.merchantId);
    const report = await security.billing.report(request.query.month, merchant);
    const ctx = ctxOf(request);
    await security.audit.append({
      actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'report.export', outcome: 'success', target: { kind: 'billing-report', id: request.query.month },
      merchantId: merchant ?? null, detail: { report: 'billing', format: 'csv', month: request.query.month, invoices: report.invoices.length },
    });
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="cardline-billing-${request.query.month}.csv"`);
    return billingReportCsv(report);
  });

  app.get('/v1/billing/daily', {
    config: { permission: 'reports:read' },
    schema: { summary: 'Transactions per UTC day and outcome (succeeded, failed) over a day range, every day present', tags, querystring: DailyQuery, response: { 200: DailyTransactionsSchema } },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof DailyQuery> }>) => {
    const q = request.query;
    return security.billing.daily(q.from, q.to ?? q.from, reportScope(request, q.merchantId));
  });

  app.get('/v1/billing/daily.csv', {
    config: { permission: 'reports:export' },
    schema: {
      summary: 'Transactions per day and outcome as CSV (an audited export)', tags, querystring: DailyQuery,
      response: { 200: { description: 'text/csv', content: { 'text/csv': { schema: Type.String() } } } },
    },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof DailyQuery> }>, reply) => {
    const q = request.query;
    const merchant = reportScope(request, q.merchantId);
    const daily = await security.billing.daily(q.from, q.to ?? q.from, merchant);
    const ctx = ctxOf(request);
    await security.audit.append({
      actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'report.export', outcome: 'success', target: { kind: 'billing-daily', id: `${daily.from}..${daily.to}` },
      merchantId: merchant ?? null, detail: { report: 'billing-daily', format: 'csv', from: daily.from, to: daily.to, days: daily.days.length },
    });
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="cardline-transactions-${daily.from}-${daily.to}.csv"`);
    return dailyTransactionsCsv(daily);
  });

  app.get('/v1/billing/plans', {
    config: { permission: 'settings:read' },
    schema: { summary: 'Price plans (merchant "*" is the default)', tags, response: { 200: Type.Object({ plans: Type.Array(PlanSchema) }, { additionalProperties: false }) } },
  }, async () => ({ plans: await security.plans.list() }));

  app.put('/v1/billing/plans/:id', {
    config: { permission: 'settings:write' },
    schema: { summary: 'Set the price plan of a merchant (or "*" for the default)', tags, params: IdParams, body: PlanBody, response: { 200: PlanSchema } },
  }, async (request: FastifyRequest<{ Params: Static<typeof IdParams>; Body: Static<typeof PlanBody> }>) => {
    const scope = request.principal?.merchantId ?? null;
    if (scope !== null && request.params.id !== scope) throw new CardlineError('forbidden', 'other merchant');
    const ctx = ctxOf(request);
    const before = await security.plans.get(request.params.id);
    const plan = await security.plans.put(request.params.id, request.body, ctx.actor.id);
    await security.audit.append({
      actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'config.price-plan', outcome: 'success', target: { kind: 'price-plan', id: plan.merchantId },
      merchantId: plan.merchantId === '*' ? null : plan.merchantId,
      detail: { created: before === null, currency: plan.currency, perMinuteMinor: plan.perMinuteMinor, monthlyMinimumMinor: plan.monthlyMinimumMinor, transactionFees: JSON.stringify(plan.transactionFees) },
    });
    return plan;
  });

  app.post('/v1/billing/secure-audio', {
    config: { permission: 'sessions:digits' },
    schema: { summary: 'Meter masked (secure-mode) audio of a call (media nodes)', tags, body: SecureAudioBody, response: { 200: Type.Object({ ok: Type.Literal(true) }, { additionalProperties: false }) } },
  }, async (request: FastifyRequest<{ Body: Static<typeof SecureAudioBody> }>) => {
    const b = request.body;
    const scope = request.principal?.merchantId ?? null;
    if (scope !== null && b.merchantId !== scope) throw new CardlineError('forbidden', 'other merchant');
    await security.meter.recordSecureAudio(b.merchantId, b.callId, b.ms, b.channel ?? 'agent-assisted');
    return { ok: true as const };
  });
}
