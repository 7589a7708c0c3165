import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CardlineError, ERROR_CATALOGUE, isCardlineError, type ErrorCode } from '../errors/index.ts';
import type { ErrorBodyT } from './schemas.ts';

/**
 * One error shape for every failure: `{ "error": { "code", "message" } }`, status from the catalogue.
 *
 * Messages are built here, not passed through: a JSON parser's own message can quote the request body (V8's
 * `Unexpected token … "{"pan":"4111…` does), and a body can hold card data, so parse errors get a fixed
 * message; schema errors name the failing path and rule (Ajv messages carry no instance values); anything
 * unexpected becomes a generic 500 whose details go only to the log (PCI DSS 4.0 req. 3.3, 6.2.4).
 */
export function errorBody(code: ErrorCode, message?: string): ErrorBodyT {
  return { error: { code, message: message ?? ERROR_CATALOGUE[code].summary } };
}

/** Maps any thrown value to a catalogue code and a message that is safe to show. */
export function toCardlineError(err: unknown): { error: CardlineError; expected: boolean } {
  if (isCardlineError(err)) return { error: err, expected: err.status < 500 };
  const fe = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    return { error: new CardlineError('invalid-request', describeValidation(fe.validation, fe.validationContext)), expected: true };
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { error: new CardlineError('invalid-json'), expected: true };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { error: new CardlineError('unsupported-media-type'), expected: true };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { error: new CardlineError('payload-too-large'), expected: true };
    default:
      break;
  }
  if (err instanceof SyntaxError) return { error: new CardlineError('invalid-json'), expected: true };
  // other client errors raised by fastify itself (bad content-length, aborted body, …): generic 400
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { error: new CardlineError('invalid-request', fe.code ?? 'malformed request'), expected: true };
  }
  return { error: new CardlineError('internal'), expected: false };
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function describeValidation(issues: ValidationIssue[], context: string | undefined): string {
  const first = issues[0];
  if (first === undefined) return `${context ?? 'request'} is not valid`;
  let where = `${context ?? 'request'}${first.instancePath ?? ''}`;
  const missing = first.params?.missingProperty;
  const extra = first.params?.additionalProperty;
  if (typeof missing === 'string') where += `/${missing}`;
  if (typeof extra === 'string') where += `/${extra}`;
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  return `${where} ${first.message ?? 'is not valid'}${more}`.slice(0, 300);
}

/** Installs the error and not-found handlers on the root instance. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { error, expected } = toCardlineError(err);
    if (expected) {
      request.log.info({ code: error.code, status: error.status }, 'request refused');
    } else {
      // full detail (stack, cause chain) in the log only; the client gets the catalogue summary
      request.log.error({ err, code: error.code }, 'request failed');
    }
    if (error.code === 'unauthenticated') void reply.header('www-authenticate', 'Bearer realm="cardline"');
    return reply.status(error.status).send(errorBody(error.code, error.message));
  });
  app.setNotFoundHandler((_request: FastifyRequest, reply: FastifyReply) =>
    reply.status(404).send(errorBody('not-found')));
}
