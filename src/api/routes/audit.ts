import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Security } from '../../auth/index.ts';
import type { Kysely } from 'kysely';
import { exportAudit, verifyAuditTrail, type AuditDatabase, type AuditQuery } from '../../audit/index.ts';
import { AuditEventSchema, AuditQuerySchema, AuditVerifySchema, Nullable } from '../back-office-schemas.ts';
import { ctxOf } from './request-context.ts';

/**
 * The audit trail for auditors: search, export (JSON lines / CSV, itself audited as `report.export`), and a
 * live verification of the hash chain and checkpoints. An auditor bound to a merchant sees that merchant's
 * records only (and the verification summary, which reveals counts, not content).
 */
const Query = AuditQuerySchema;
const ExportQuery = Type.Composite([Query, Type.Object({ format: Type.Optional(Type.Union([Type.Literal('jsonl'), Type.Literal('csv')])) })], { additionalProperties: false });

function toQuery(q: Static<typeof Query>, merchantId: string | null): AuditQuery {
  const out: AuditQuery = {};
  if (q.from !== undefined) out.from = q.from;
  if (q.to !== undefined) out.to = q.to;
  if (q.actorId !== undefined) out.actorId = q.actorId;
  if (q.action !== undefined) out.action = q.action;
  if (q.outcome !== undefined) out.outcome = q.outcome;
  if (q.targetId !== undefined) out.targetId = q.targetId;
  if (q.afterSeq !== undefined) out.afterSeq = q.afterSeq;
  out.limit = q.limit ?? 1000;
  if (merchantId !== null) out.merchantId = merchantId;
  return out;
}

export function registerAuditRoutes(app: FastifyInstance, security: Security): void {
  const tags = ['audit'];
  app.addSchema(AuditEventSchema);

  app.get('/v1/audit/events', {
    config: { permission: 'audit:read' },
    schema: { summary: 'Search the audit trail (oldest first; page with afterSeq)', tags, querystring: Query, response: { 200: Type.Object({ events: Type.Array(Type.Ref('AuditEvent')), nextAfterSeq: Nullable(Type.Integer()) }, { additionalProperties: false }) } },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof Query> }>) => {
    const q = toQuery(request.query, request.principal?.merchantId ?? null);
    const events = await security.audit.query(q);
    const last = events[events.length - 1];
    return { events, nextAfterSeq: events.length === q.limit && last !== undefined ? last.seq : null };
  });

  app.get('/v1/audit/export', {
    config: { permission: 'reports:export' },
    schema: {
      summary: 'Export the audit trail as JSON lines or CSV (CSV-injection safe); the export is itself audited',
      tags, querystring: ExportQuery,
      response: { 200: { description: 'application/x-ndjson or text/csv', content: { 'application/x-ndjson': { schema: Type.String() }, 'text/csv': { schema: Type.String() } } } },
    },
  }, async (request: FastifyRequest<{ Querystring: Static<typeof ExportQuery> }>, reply) => {
    const format = request.query.format ?? 'jsonl';
    const q = toQuery({ ...request.query, limit: request.query.limit ?? 10_000 }, request.principal?.merchantId ?? null);
    const events = await security.audit.query(q);
    const ctx = ctxOf(request);
    await security.audit.append({
      actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'report.export', outcome: 'success', target: { kind: 'audit-trail', id: null },
      merchantId: request.principal?.merchantId ?? null, detail: { report: 'audit', format, records: events.length, from: q.from ?? null, to: q.to ?? null, filterAction: q.action ?? null },
    });
    void reply.header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="cardline-audit.${format === 'csv' ? 'csv' : 'jsonl'}"`);
    return exportAudit(events, format);
  });

  app.get('/v1/audit/verify', {
    config: { permission: 'audit:read' },
    schema: { summary: 'Recompute the hash chain and checkpoint MACs; names the first broken record', tags, response: { 200: AuditVerifySchema } },
  }, async () => verifyAuditTrail({ db: security.db as unknown as Kysely<AuditDatabase>, key: security.auditKey, anchorPath: security.anchorPath }));
}
