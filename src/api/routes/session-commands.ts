import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { CardlineError } from '../../errors/index.ts';
import type {
  CardField, CreateSessionParams, MaskedSession, SessionDetails, SessionEvent, SessionListFilter,
} from '../../payments/index.ts';
import type { CallbackDispatcher } from '../callback-dispatcher.ts';
import { validateCallbackUrl } from '../callback-dispatcher.ts';
import type { EventHub } from '../event-hub.ts';
import {
  AmountBody, CaptureBody, CreateSessionBody, DigitsBody, MaskedSessionSchema, SessionIdParams,
} from '../schemas.ts';
import type { SessionReader } from './session-reads.ts';

/**
 * The payment-session commands the API needs; `PaymentSessionService` (src/payments) satisfies it.
 * A port rather than the class so the API can be tested and composed without the domain's internals.
 */
export interface SessionService {
  create(p: CreateSessionParams): Promise<MaskedSession>;
  get(id: string): Promise<MaskedSession>;
  /** like `get`, null for an unknown id */
  find(id: string): Promise<MaskedSession | null>;
  list(filter?: SessionListFilter): Promise<MaskedSession[]>;
  startCapture(id: string, field?: CardField): Promise<MaskedSession>;
  feedDigits(id: string, keys: string): Promise<MaskedSession>;
  setDetails(id: string, details: SessionDetails): Promise<MaskedSession>;
  submit(id: string): Promise<MaskedSession>;
  cancel(id: string): Promise<MaskedSession>;
  onEvent(listener: (event: SessionEvent) => void): () => void;
}

/** Reads through the service: live sessions from memory, finished ones from the store. */
export function serviceReader(svc: SessionService): SessionReader {
  return { get: (id) => svc.find(id), list: (filter) => svc.list(filter) };
}

type IdReq<B = unknown> = FastifyRequest<{ Params: Static<typeof SessionIdParams>; Body: B }>;

export interface SessionCommandDeps {
  service: SessionService;
  hub: EventHub;
  callbacks: CallbackDispatcher;
  allowHttpCallbacks: boolean;
}

export function registerSessionCommandRoutes(app: FastifyInstance, d: SessionCommandDeps): void {
  const { service } = d;

  /** A principal bound to one merchant acts only on that merchant's sessions (others look absent). */
  async function scoped(request: FastifyRequest, id: string): Promise<void> {
    const scope = request.principal?.merchantId ?? null;
    if (scope === null) return;
    const s = await service.get(id);
    if (s.merchantId !== scope) throw new CardlineError('session-not-found');
  }

  const ok = { 200: MaskedSessionSchema };
  const idSchema = { params: SessionIdParams, tags: ['sessions'] };

  app.post('/v1/sessions', {
    config: { permission: 'sessions:write' },
    schema: {
      summary: 'Create a payment session bound to a call',
      description: 'Returns the masked session. With `statusCallbackUrl`, every event of the session is POSTed there, '
        + 'signed `Cardline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`, retried with back-off.',
      tags: ['sessions'],
      body: CreateSessionBody,
      response: { 201: MaskedSessionSchema },
      // OpenAPI 3 callback object: what Cardline POSTs to statusCallbackUrl
      callbacks: {
        statusCallback: {
          '{$request.body#/statusCallbackUrl}': {
            post: {
              summary: 'A masked session event (signed: Cardline-Signature, Cardline-Delivery, Cardline-Event, Cardline-Attempt)',
              requestBody: { content: { 'application/json': { schema: { $ref: 'SessionEvent#' } } } },
              responses: { '2XX': { description: 'received; any other status is retried with back-off (408, 425, 429, 5xx) or dropped' } },
            },
          },
        },
      },
    },
  }, async (request: FastifyRequest<{ Body: Static<typeof CreateSessionBody> }>, reply: FastifyReply) => {
    const b = request.body;
    const scope = request.principal?.merchantId ?? null;
    if (scope !== null && b.merchantId !== scope) throw new CardlineError('forbidden', 'other merchant');
    // refuse a bad callback URL before anything is created
    const callbackUrl = b.statusCallbackUrl === undefined ? null : validateCallbackUrl(b.statusCallbackUrl, d.allowHttpCallbacks).toString();
    const params: CreateSessionParams = {
      callId: b.callId,
      merchantId: b.merchantId,
      intent: b.intent,
      createdBy: request.principal?.id ?? null,
    };
    if (b.channel !== undefined) params.channel = b.channel;
    if (b.fields !== undefined) params.fields = b.fields;
    if (b.capture !== undefined) params.capture = b.capture;
    if (b.amountMinor !== undefined) params.amountMinor = b.amountMinor;
    if (b.currency !== undefined) params.currency = b.currency === null ? null : b.currency.toUpperCase();
    if (b.description !== undefined) params.description = b.description;
    if (b.reference !== undefined) params.reference = b.reference;
    if (b.startCapture !== undefined) params.startCapture = b.startCapture;
    const created = await service.create(params);
    if (callbackUrl !== null) {
      d.callbacks.register(created.id, callbackUrl);
      // events emitted while creating were published before the URL was known: send the current state now
      const latest = d.hub.latest(created.id);
      if (latest !== undefined) d.callbacks.enqueue(latest);
    }
    void reply.code(201).header('location', `/v1/sessions/${encodeURIComponent(created.id)}`);
    return created;
  });

  app.post('/v1/sessions/:id/capture', {
    config: { permission: 'sessions:write' },
    schema: { ...idSchema, summary: 'Start capturing the next field, or (re-)capture a given field', body: CaptureBody, response: ok },
  }, async (request: IdReq<Static<typeof CaptureBody>>) => {
    await scoped(request, request.params.id);
    return service.startCapture(request.params.id, request.body.field);
  });

  app.post('/v1/sessions/:id/digits', {
    config: { permission: 'sessions:digits' },
    schema: {
      ...idSchema,
      summary: 'Feed keypad digits (media layer, IVR, tests)',
      description: 'The digits go to the session\'s vault; the response, like every event, shows only counts, brand and last four.',
      body: DigitsBody,
      response: ok,
    },
  }, async (request: IdReq<Static<typeof DigitsBody>>) => {
    await scoped(request, request.params.id);
    return service.feedDigits(request.params.id, request.body.digits);
  });

  app.put('/v1/sessions/:id/amount', {
    config: { permission: 'sessions:write' },
    schema: { ...idSchema, summary: 'Set the amount and currency (and optionally description and reference)', body: AmountBody, response: ok },
  }, async (request: IdReq<Static<typeof AmountBody>>) => {
    await scoped(request, request.params.id);
    const b = request.body;
    const details: SessionDetails = { amountMinor: b.amountMinor, currency: b.currency === null ? null : b.currency.toUpperCase() };
    if (b.description !== undefined) details.description = b.description;
    if (b.reference !== undefined) details.reference = b.reference;
    return service.setDetails(request.params.id, details);
  });

  app.post('/v1/sessions/:id/submit', {
    config: { permission: 'sessions:write' },
    schema: {
      ...idSchema,
      summary: 'Hand the captured card to the merchant\'s connector (once)',
      description: 'Answers with the session after the attempt: `succeeded`, `failed`, or `ready` again with `errorCode` after a retryable connector failure.',
      response: ok,
    },
  }, async (request: IdReq) => {
    await scoped(request, request.params.id);
    return service.submit(request.params.id);
  });

  app.post('/v1/sessions/:id/cancel', {
    config: { permission: 'sessions:write' },
    schema: { ...idSchema, summary: 'Cancel the session and wipe its card data', response: ok },
  }, async (request: IdReq) => {
    await scoped(request, request.params.id);
    return service.cancel(request.params.id);
  });
}

