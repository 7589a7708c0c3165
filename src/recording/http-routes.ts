/**
 * The recordings API: `GET /v1/recordings/:callId` returns a call's recording metadata (the JSON next to its WAV:
 * the call, its secure spans and where they are in the file, the pauses). For auditors (`audit:read`): it is the
 * evidence that recordings paused or were masked during card entry (PCI DSS 4.0 req. 3.3.1). It carries no audio,
 * no digits and no card data; the audio itself is not served over the API.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CardlineError } from '../errors/index.ts';
import type { Recorder } from './recorder.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Source = Type.Union(['api', 'trigger', 'policy', 'session-ended', 'call-ended'].map((s) => Type.Literal(s)));
const Time = Type.String({ format: 'date-time' });

export const RecordingMetadataSchema = Type.Object({
  version: Type.Literal(1),
  callId: Type.String({ format: 'uuid' }),
  sipCallId: Type.String(),
  caller: Type.String(),
  callee: Type.String(),
  agent: Type.String(),
  startedAt: Time,
  answeredAt: Nullable(Time),
  endedAt: Nullable(Time),
  endReason: Nullable(Type.String()),
  recording: Type.Object({
    file: Type.String(),
    format: Type.Literal('wav'),
    sampleRate: Type.Integer(),
    bitsPerSample: Type.Literal(16),
    channels: Type.Tuple([Type.Literal('caller'), Type.Literal('agent')]),
    secureSpan: Type.Union([Type.Literal('pause'), Type.Literal('masked')]),
    startedAt: Time,
    durationMs: Type.Number(),
    frames: Type.Integer(),
    complete: Type.Boolean(),
    error: Nullable(Type.String()),
    lateSamples: Type.Integer(),
    reanchors: Type.Integer(),
  }, { additionalProperties: false }),
  secureSpans: Type.Array(Type.Object({
    start: Time,
    end: Nullable(Time),
    startedBy: Source,
    endedBy: Nullable(Source),
    fileStartMs: Nullable(Type.Number()),
    fileEndMs: Nullable(Type.Number()),
  }, { additionalProperties: false }), { description: "the call's secure spans with their place in file time (pause mode: start = end, the cut)" }),
  pauses: Type.Array(Type.Object({
    fileOffsetMs: Type.Number(),
    durationMs: Type.Number(),
    start: Time,
    end: Time,
  }, { additionalProperties: false }), { description: 'pause mode: each cut, in file time' }),
}, { additionalProperties: false });

const Params = Type.Object({ callId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export function registerRecordingRoutes(app: FastifyInstance, recorder: Recorder): void {
  app.get('/v1/recordings/:callId', {
    config: { permission: 'audit:read' },
    schema: { summary: "A call's recording metadata (secure spans, pauses; no audio)", tags: ['recordings'], params: Params, response: { 200: RecordingMetadataSchema } },
  }, async (request: FastifyRequest<{ Params: Static<typeof Params> }>) => {
    const meta = await recorder.metadata(request.params.callId);
    if (meta === null) throw new CardlineError('recording-not-found');
    return meta;
  });
}
