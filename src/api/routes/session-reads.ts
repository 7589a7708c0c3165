import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { CardlineError } from '../../errors/index.ts';
import type { CallId, MaskedSession, MerchantId, SessionId } from '../../payments/types.ts';
import type { SessionListFilter } from '../../payments/ports.ts';
import { MaskedSessionSchema, SessionIdParams, SessionList, SessionListQuery } from '../schemas.ts';

/**
 * Read side of payment sessions: one masked session, and a filtered list. The source is a port so the
 * live service (in-memory state of sessions in progress) can answer first and the store (outcomes) after.
 */
export interface SessionReader {
  get(id: SessionId): Promise<MaskedSession | null>;
  list(filter: SessionListFilter): Promise<MaskedSession[]>;
}

export function registerSessionReadRoutes(app: FastifyInstance, reader: SessionReader): void {
  app.get<{ Params: Static<typeof SessionIdParams> }>('/v1/sessions/:id', {
    config: { permission: 'sessions:read' },
    schema: {
      summary: 'Read the masked state of a payment session',
      tags: ['sessions'],
      params: SessionIdParams,
      response: { 200: MaskedSessionSchema },
    },
  }, async (request) => {
    const s = await reader.get(request.params.id as SessionId);
    // another merchant's session is reported as absent, not forbidden: ids are not confirmed to outsiders
    const scope = request.principal?.merchantId ?? null;
    if (s === null || (scope !== null && s.merchantId !== scope)) throw new CardlineError('session-not-found');
    return s;
  });

  app.get<{ Querystring: Static<typeof SessionListQuery> }>('/v1/sessions', {
    config: { permission: 'sessions:read' },
    schema: {
      summary: 'List payment sessions, newest first',
      tags: ['sessions'],
      querystring: SessionListQuery,
      response: { 200: SessionList },
    },
  }, async (request) => {
    const q = request.query;
    const filter: SessionListFilter = { limit: q.limit ?? 100 };
    if (q.merchantId !== undefined) filter.merchantId = q.merchantId as MerchantId;
    if (q.callId !== undefined) filter.callId = q.callId as CallId;
    if (q.state !== undefined) filter.state = q.state;
    if (q.createdBy !== undefined) filter.createdBy = q.createdBy;
    if (q.from !== undefined) filter.from = q.from;
    if (q.to !== undefined) filter.to = q.to;
    // a principal bound to one merchant sees only that merchant's sessions
    const scope = request.principal?.merchantId ?? null;
    if (scope !== null) {
      if (filter.merchantId !== undefined && filter.merchantId !== scope) throw new CardlineError('forbidden', 'other merchant');
      filter.merchantId = scope as MerchantId;
    }
    return { sessions: await reader.list(filter) };
  });
}
