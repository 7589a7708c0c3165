import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type {} from '@fastify/websocket'; // route option `wsHandler`
import { Type } from '@sinclair/typebox';
import { CardlineError } from '../errors/index.ts';
import type { MaskedSession, SessionId } from '../payments/types.ts';
import { TERMINAL_STATES, type EventHub, type EventSubscription } from './event-hub.ts';
import { snapshotEvent, toWireEvent } from './masked-event.ts';
import { SessionIdParams, type WireSessionEvent } from './schemas.ts';

/**
 * Live masked events of one session, on one path, two transports:
 *
 *   GET /v1/sessions/:id/events   with `Upgrade: websocket`      → WebSocket (RFC 6455), one JSON event per text message
 *   GET /v1/sessions/:id/events   any other GET (Accept: text/event-stream) → Server-Sent Events (WHATWG HTML §9.2)
 *
 * Both send `session.snapshot` (the current masked state) first, then every event, each a `SessionEvent`
 * (see /openapi.json). Heartbeats: WebSocket ping frames (a peer that misses one pong is dropped) and SSE
 * comment lines. The stream ends cleanly after a terminal state (WebSocket close 1000, SSE end of body) and
 * on server shutdown (WebSocket 1001). Authentication is the same as every route (checked before upgrade).
 * `Last-Event-ID` is not needed: a reconnecting client gets a fresh snapshot.
 */
export interface EventStreamOptions {
  hub: EventHub;
  /** current masked state of a session that has no retained event (e.g. finished before a restart) */
  snapshot: (id: SessionId) => Promise<MaskedSession | null>;
  heartbeatMs: number;
  bufferSize: number;
}

type Req = FastifyRequest<{ Params: { id: string } }>;

export const EVENTS_PATH = '/v1/sessions/:id/events';

export function registerEventRoutes(app: FastifyInstance, o: EventStreamOptions): void {
  /** Subscribe first, then take the snapshot, so no event can fall between the two. */
  async function open(id: SessionId): Promise<{ sub: EventSubscription; first: WireSessionEvent; terminal: boolean } | null> {
    const sub = o.hub.subscribe(id, { bufferSize: o.bufferSize });
    const latest = o.hub.latest(id);
    const session = latest?.session ?? await o.snapshot(id);
    if (session === null) {
      sub.close();
      return null;
    }
    const terminal = TERMINAL_STATES.has(session.state);
    if (terminal) sub.close();
    return { sub, first: snapshotEvent(session, latest?.sequence ?? 0), terminal };
  }

  app.route({
    method: 'GET',
    url: EVENTS_PATH,
    config: { permission: 'sessions:read' },
    schema: {
      summary: 'Live masked events of a session (WebSocket or Server-Sent Events)',
      description: 'Upgrade to a WebSocket for one JSON SessionEvent per message, or send `Accept: text/event-stream` for SSE '
        + '(`event: <type>`, `id: <sequence>`, `data: <SessionEvent JSON>`). The first event is always `session.snapshot`. '
        + 'The stream closes after the session reaches a terminal state.',
      tags: ['events'],
      params: SessionIdParams,
      response: {
        200: {
          description: 'text/event-stream; each `data:` line is a SessionEvent (#/components/schemas/SessionEvent)',
          content: { 'text/event-stream': { schema: Type.String() } },
        },
      },
    },
    preHandler: async (request: Req) => {
      // refuse unknown sessions with a plain 404 before any upgrade or stream starts
      const id = request.params.id as SessionId;
      if (o.hub.latest(id) === undefined && (await o.snapshot(id)) === null) throw new CardlineError('session-not-found');
    },
    handler: async (request: Req, reply: FastifyReply) => {
      const opened = await open(request.params.id as SessionId);
      if (opened === null) throw new CardlineError('session-not-found');
      const { sub, first, terminal } = opened;
      request.raw.once('close', () => sub.close());
      void reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache, no-store, no-transform')
        .header('x-accel-buffering', 'no');
      return reply.send(Readable.from(sseFrames(sub, first, terminal, o.heartbeatMs), { objectMode: false }));
    },
    wsHandler: async (socket: WebSocket, request: Req) => {
      const log = request.log;
      const id = request.params.id as SessionId;
      let alive = true;
      socket.on('pong', () => { alive = true; });
      socket.on('message', () => { /* the stream is one-way; input is ignored (frames are size-capped) */ });
      const heartbeat = setInterval(() => {
        if (!alive) {
          log.info({ sessionId: id }, 'event stream: websocket peer missed a heartbeat');
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, o.heartbeatMs);
      heartbeat.unref();
      let sub: EventSubscription | null = null;
      socket.once('close', () => { clearInterval(heartbeat); sub?.close(); });
      const opened = await open(id);
      if (opened === null) {
        socket.close(4404, 'session not found');
        return;
      }
      sub = opened.sub;
      if (socket.readyState !== socket.OPEN) { sub.close(); return; }
      log.info({ sessionId: id }, 'event stream: websocket opened');
      try {
        await sendJson(socket, opened.first);
        if (!opened.terminal) {
          for await (const ev of sub) {
            if (socket.readyState !== socket.OPEN) break;
            await sendJson(socket, toWireEvent(ev));
          }
        }
        if (socket.readyState === socket.OPEN) {
          socket.close(o.hub.closed ? 1001 : 1000, o.hub.closed ? 'server shutting down' : 'session ended');
        }
      } catch (err) {
        log.info({ sessionId: id, err: err instanceof CardlineError ? err : undefined }, 'event stream: websocket send failed');
        socket.terminate();
      } finally {
        sub.close();
      }
    },
  });
}

function sendJson(socket: WebSocket, ev: WireSessionEvent): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(JSON.stringify(ev), (err) => (err ? reject(err) : resolve()));
  });
}

function sseFrame(ev: WireSessionEvent): string {
  // JSON.stringify never emits a raw newline, so one `data:` line is always enough
  return `event: ${ev.type}\nid: ${ev.sequence}\ndata: ${JSON.stringify(ev)}\n\n`;
}

const HEARTBEAT = Symbol('heartbeat');

/** Pull-driven: a slow reader stops the pulls, so back-pressure lands in the subscriber's bounded buffer. */
async function* sseFrames(sub: EventSubscription, first: WireSessionEvent, terminal: boolean, heartbeatMs: number): AsyncGenerator<string> {
  try {
    yield `retry: 3000\n${sseFrame(first)}`;
    if (terminal) return;
    let pending = sub.next();
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<typeof HEARTBEAT>((r) => { timer = setTimeout(() => r(HEARTBEAT), heartbeatMs); });
      const got = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (got === HEARTBEAT) {
        yield ': heartbeat\n\n';
        continue;
      }
      if (got === null) return;
      yield sseFrame(toWireEvent(got));
      pending = sub.next();
    }
  } finally {
    sub.close();
  }
}
