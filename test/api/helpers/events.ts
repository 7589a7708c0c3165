import type { MaskedSession, SessionEvent, SessionId, SessionState } from '../../../src/payments/types.ts';
import { session } from '../../store/helpers/fixtures.ts';

/** A masked event as the payments service would publish it. */
export function event(sessionId: string, sequence: number, state: SessionState = 'capturing', type: SessionEvent['type'] = 'field.progress', patch: Partial<MaskedSession> = {}): SessionEvent {
  return {
    type,
    sessionId: sessionId as SessionId,
    sequence,
    at: new Date(Date.UTC(2026, 0, 1, 10, 0, sequence)).toISOString(),
    session: session({ ...patch, id: sessionId, state, updatedAt: new Date(Date.UTC(2026, 0, 1, 10, 0, sequence)).toISOString() }),
  };
}
