import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CardlineError } from '../errors/index.ts';
import type { MaskedSession, SessionEvent } from '../payments/types.ts';
import { SessionEventSchema, SNAPSHOT_EVENT_TYPE, type WireSessionEvent } from './schemas.ts';

// TypeBox's Value checker knows no formats until registered (fastify's Ajv has its own, via ajv-formats)
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) && !Number.isNaN(Date.parse(v)));
}

/**
 * The one serialisation of an event for every push channel (WebSocket, SSE, status callbacks).
 * The event is copied through its schema: properties the schema does not declare are removed, so a field
 * added to a domain object by mistake cannot reach an agent screen or a merchant's endpoint (PCI DSS 4.0
 * req. 3.4.1), and a value of the wrong shape is refused rather than sent.
 */
export function toWireEvent(event: SessionEvent | WireSessionEvent): WireSessionEvent {
  const copy = Value.Clean(SessionEventSchema, Value.Clone(event));
  if (!Value.Check(SessionEventSchema, copy)) {
    const first = Value.Errors(SessionEventSchema, copy).First();
    throw new CardlineError('internal', `event does not match its schema at ${first?.path ?? '(root)'}`);
  }
  return copy;
}

export function maskedEventJson(event: SessionEvent | WireSessionEvent): string {
  return JSON.stringify(toWireEvent(event));
}

/** The first message of a stream: the current state, as an event of type `session.snapshot`. */
export function snapshotEvent(session: MaskedSession, sequence: number, at: string = new Date().toISOString()): WireSessionEvent {
  return toWireEvent({ type: SNAPSHOT_EVENT_TYPE, sessionId: session.id, sequence, at, session });
}
