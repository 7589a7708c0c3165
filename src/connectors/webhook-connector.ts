import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Token } from '../payments/types.ts';
import {
  ConnectorError, sanitizeProcessorText, type ChargeRequest, type ConnectorCapabilities, type ConnectorErrorCode,
  type ConnectorOutcome, type PaymentConnector, type RefundOutcome, type RefundRequest, type TokenizeRequest,
} from './types.ts';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.ts';

/**
 * Webhook connector: hands the card to the merchant's own payment endpoint, the way Twilio's Generic Pay
 * Connector does, with the guarantees that one lacks spelled out.
 *
 * Request: `POST <url>`, `Content-Type: application/json`, headers `Idempotency-Key: <key>` (the same on every
 * retry), `Cardline-Signature: t=…,v1=…` (HMAC-SHA256 over "<t>." + body, see webhook-signature.ts),
 * `Cardline-Attempt: <n>`. Body (schema version 1; the card object is absent for refunds):
 *
 *   { "version": 1, "type": "charge" | "tokenize" | "refund", "idempotency_key": "…", "session_id": "…",
 *     "merchant_id": "…", "amount_minor": 1250 | null, "currency": "USD" | null, "description": …, "reference": …,
 *     "charge_reference": "…" (refund only),
 *     "card": { "brand": "visa", "number": "4111…", "expiry_month": 12, "expiry_year": 2030,
 *               "security_code": "123" | null, "postal_code": "94107" | null } }
 *
 * Response (2xx or 4xx, JSON, at most 64 KiB):
 *
 *   { "status": "succeeded" | "declined" | "failed",
 *     "token": "…" (tokenize), "reference": "…" (charge, refund), "authorization_code": "…",
 *     "error_code": "card-declined" | "insufficient-funds" | "invalid-card-number" | "invalid-expiry"
 *                   | "invalid-security-code" | "invalid-postal-code" (declined only),
 *     "retryable": false (failed only), "message": "plain words, never card data" }
 *
 * Transport: HTTPS only, unless `allowInsecureHttp` (tests, a loopback sidecar). Each attempt has `timeoutMs`;
 * network errors, timeouts, 408, 429 and 5xx are retried up to `maxRetries` times with exponential back-off
 * (`retryBaseDelayMs` · 2^n, plus jitter); nothing else is retried. Redirects are not followed. A 2xx answer that
 * does not match the schema is `connector-error`, retryable at the session level (the outcome is unknown and
 * the key makes a retry safe) but not retried here.
 *
 * The request body is assembled as a Buffer with the card digits copied in byte for byte (no JS string of the
 * PAN is created here) and zeroed once the last attempt is over.
 */
export interface WebhookConnectorOptions {
  url: string;
  /** HMAC-SHA256 signing secret shared with the merchant endpoint; at least 16 characters */
  secret: string;
  timeoutMs?: number;
  maxRetries?: number;
  retryBaseDelayMs?: number;
  /** add up to one base delay of random jitter to each back-off; default true */
  jitter?: boolean;
  allowInsecureHttp?: boolean;
  /** extra trusted CA certificate(s) in PEM (a private PKI, a self-signed test server) */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** extra request headers (e.g. the endpoint's own authorization) */
  headers?: Readonly<Record<string, string>>;
  capabilities?: Partial<ConnectorCapabilities>;
  /** unix-seconds clock for the signature timestamp; default wall clock */
  nowSec?: () => number;
}

const NAME = 'webhook';
const MAX_RESPONSE_BYTES = 64 * 1024;
const DECLINE_CODES: readonly ConnectorErrorCode[] = [
  'card-declined', 'insufficient-funds', 'invalid-card-number', 'invalid-expiry', 'invalid-security-code', 'invalid-postal-code',
];
const TLS_CONFIG_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/;

interface WireResponse {
  status: 'succeeded' | 'declined' | 'failed';
  token: string | null;
  reference: string | null;
  authorizationCode: string | null;
  errorCode: string | null;
  retryable: boolean;
  message: string | null;
}

class AttemptError extends Error {
  constructor(readonly kind: 'network' | 'timeout' | 'http', readonly statusCode: number | null, readonly retry: boolean, detail: string) {
    super(detail);
  }
}

export class WebhookConnector implements PaymentConnector {
  readonly name = NAME;
  readonly capabilities: ConnectorCapabilities;
  readonly #url: URL;
  readonly #secret: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #baseDelayMs: number;
  readonly #jitter: boolean;
  readonly #headers: Record<string, string>;
  readonly #nowSec: () => number;
  readonly #agent: HttpAgent | HttpsAgent;

  constructor(o: WebhookConnectorOptions) {
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      throw new ConnectorError('connector-not-configured', NAME, { detail: 'webhook url is not a URL' });
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && o.allowInsecureHttp)) {
      throw new ConnectorError('connector-not-configured', NAME, { detail: 'webhook url must be https (http needs allowInsecureHttp)' });
    }
    if (url.username || url.password) throw new ConnectorError('connector-not-configured', NAME, { detail: 'credentials in the webhook url are not allowed; use headers' });
    if (typeof o.secret !== 'string' || o.secret.length < 16) throw new ConnectorError('connector-not-configured', NAME, { detail: 'webhook secret must have at least 16 characters' });
    this.#url = url;
    this.#secret = o.secret;
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#maxRetries = o.maxRetries ?? 2;
    this.#baseDelayMs = o.retryBaseDelayMs ?? 500;
    this.#jitter = o.jitter ?? true;
    this.#headers = { ...o.headers };
    this.#nowSec = o.nowSec ?? (() => Math.floor(Date.now() / 1000));
    this.capabilities = { tokenize: true, charge: true, refund: true, ...o.capabilities };
    const ca = o.ca === undefined ? undefined : Array.isArray(o.ca) ? [...o.ca] : o.ca;
    this.#agent = url.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets: 16, ...(ca !== undefined ? { ca: ca as string | Buffer | (string | Buffer)[] } : {}) })
      : new HttpAgent({ keepAlive: true, maxSockets: 16 });
    if (!Number.isInteger(this.#maxRetries) || this.#maxRetries < 0 || this.#maxRetries > 10) {
      throw new ConnectorError('connector-not-configured', NAME, { detail: 'maxRetries must be 0-10' });
    }
  }

  async tokenize(req: TokenizeRequest): Promise<ConnectorOutcome> {
    this.#assertCapable('tokenize');
    const res = await this.#send(this.#cardBody('tokenize', req, null, null), req.idempotencyKey, req.signal);
    if (!res.token) throw this.#badResponse('a succeeded tokenize needs a token');
    return { token: res.token as Token, connectorReference: res.reference, authorizationCode: res.authorizationCode, message: res.message };
  }

  async charge(req: ChargeRequest): Promise<ConnectorOutcome> {
    this.#assertCapable('charge');
    const res = await this.#send(this.#cardBody('charge', req, req.amountMinor, req.currency), req.idempotencyKey, req.signal);
    if (!res.reference) throw this.#badResponse('a succeeded charge needs a reference');
    return { token: res.token as Token | null, connectorReference: res.reference, authorizationCode: res.authorizationCode, message: res.message };
  }

  async refund(req: RefundRequest): Promise<RefundOutcome> {
    this.#assertCapable('refund');
    const body = Buffer.from(JSON.stringify({
      version: 1, type: 'refund', idempotency_key: req.idempotencyKey, session_id: req.sessionId, merchant_id: req.merchantId,
      amount_minor: req.amountMinor, currency: req.currency, description: null, reference: null, charge_reference: req.connectorReference,
    }), 'utf8');
    const res = await this.#send(body, req.idempotencyKey, req.signal);
    if (!res.reference) throw this.#badResponse('a succeeded refund needs a reference');
    return { connectorReference: res.reference, amountMinor: req.amountMinor, message: res.message };
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }

  #assertCapable(op: keyof ConnectorCapabilities): void {
    if (!this.capabilities[op]) throw new ConnectorError('connector-unsupported', NAME, { detail: op });
  }

  /** JSON head from a plain object, then the card object spliced in as bytes. */
  #cardBody(type: 'charge' | 'tokenize', req: TokenizeRequest, amountMinor: number | null, currency: string | null): Buffer {
    const head = JSON.stringify({
      version: 1, type, idempotency_key: req.idempotencyKey, session_id: req.sessionId, merchant_id: req.merchantId,
      amount_minor: amountMinor, currency, description: req.description, reference: req.reference,
    });
    const c = req.card;
    const str = (b: Buffer | null): Buffer[] => (b === null ? [Buffer.from('null')] : [Buffer.from('"'), b, Buffer.from('"')]);
    const parts: Buffer[] = [
      Buffer.from(`${head.slice(0, -1)},"card":{"brand":${JSON.stringify(req.brand)},"number":`, 'utf8'),
      ...str(c.number),
      Buffer.from(`,"expiry_month":${c.expiryMonth},"expiry_year":${c.expiryYear},"security_code":`),
      ...str(c.securityCode),
      Buffer.from(',"postal_code":'),
      ...str(c.postalCode),
      Buffer.from('}}'),
    ];
    return Buffer.concat(parts);
  }

  /** Sends with retries; always zeroes `body` at the end. */
  async #send(body: Buffer, idempotencyKey: string, signal: AbortSignal | undefined): Promise<WireResponse> {
    try {
      for (let attempt = 1; ; attempt++) {
        if (signal?.aborted) throw new ConnectorError('connector-timeout', NAME, { detail: 'aborted by the caller' });
        let last: AttemptError;
        try {
          const { statusCode, text } = await this.#attempt(body, idempotencyKey, attempt, signal);
          return this.#interpret(statusCode, text);
        } catch (err) {
          if (!(err instanceof AttemptError)) throw err;
          last = err;
        }
        if (!last.retry || attempt > this.#maxRetries) {
          const code: ConnectorErrorCode = last.kind === 'timeout' ? 'connector-timeout' : 'connector-error';
          throw new ConnectorError(code, NAME, { retryable: last.retry, detail: `${last.message} (after ${attempt} attempt${attempt > 1 ? 's' : ''})` });
        }
        const delay = this.#baseDelayMs * 2 ** (attempt - 1) + (this.#jitter ? Math.floor(Math.random() * this.#baseDelayMs) : 0);
        try {
          await sleep(delay, undefined, signal ? { signal } : undefined);
        } catch {
          throw new ConnectorError('connector-timeout', NAME, { detail: 'aborted by the caller during back-off' });
        }
      }
    } finally {
      body.fill(0);
    }
  }

  #attempt(body: Buffer, idempotencyKey: string, attempt: number, signal: AbortSignal | undefined): Promise<{ statusCode: number; text: string }> {
    return new Promise((resolve, reject) => {
      const ts = this.#nowSec();
      const requestFn = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const done = (f: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        f();
      };
      const req = requestFn(this.#url, {
        method: 'POST',
        agent: this.#agent,
        headers: {
          ...this.#headers,
          'content-type': 'application/json',
          'content-length': String(body.length),
          'user-agent': 'cardline-webhook-connector/1',
          'idempotency-key': idempotencyKey,
          [SIGNATURE_HEADER]: signatureHeader(this.#secret, ts, body),
          'cardline-attempt': String(attempt),
        },
      }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy();
            done(() => reject(new AttemptError('http', res.statusCode ?? 0, false, 'response larger than 64 KiB')));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => done(() => resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })));
        res.on('error', (e) => done(() => reject(this.#networkError(e))));
      });
      const timer = setTimeout(() => {
        req.destroy();
        done(() => reject(new AttemptError('timeout', null, true, `no answer within ${this.#timeoutMs} ms`)));
      }, this.#timeoutMs);
      const onAbort = (): void => {
        req.destroy();
        done(() => reject(new ConnectorError('connector-timeout', NAME, { detail: 'aborted by the caller' })));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => done(() => reject(this.#networkError(e))));
      req.end(body);
    });
  }

  #networkError(e: Error & { code?: string }): AttemptError {
    const code = e.code ?? 'network error';
    // a certificate problem is configuration, not weather: retrying will not help
    const retry = !TLS_CONFIG_ERRORS.test(code);
    return new AttemptError('network', null, retry, `transport error ${code}`);
  }

  #interpret(statusCode: number, text: string): WireResponse {
    if (statusCode === 408 || statusCode === 429 || statusCode >= 500) {
      throw new AttemptError('http', statusCode, true, `endpoint answered HTTP ${statusCode}`);
    }
    if (statusCode >= 300 && statusCode < 400) throw new AttemptError('http', statusCode, false, `endpoint answered HTTP ${statusCode} (redirects are not followed)`);
    const parsed = parseWire(text);
    if (statusCode >= 400) {
      if (parsed && parsed.status === 'declined') return this.#declined(parsed);
      throw new ConnectorError('connector-error', NAME, { retryable: false, detail: `endpoint answered HTTP ${statusCode}${parsed?.message ? `: ${parsed.message}` : ''}` });
    }
    if (!parsed) throw this.#badResponse('body does not match the response schema');
    if (parsed.status === 'declined') return this.#declined(parsed);
    if (parsed.status === 'failed') {
      throw new ConnectorError('connector-error', NAME, { retryable: parsed.retryable, detail: parsed.message ?? 'endpoint reported a failure' });
    }
    return parsed;
  }

  #declined(p: WireResponse): never {
    const code = (DECLINE_CODES as readonly string[]).includes(p.errorCode ?? '') ? p.errorCode as ConnectorErrorCode : 'card-declined';
    throw new ConnectorError(code, NAME, { retryable: false, processorCode: p.errorCode, detail: p.message ?? undefined });
  }

  #badResponse(detail: string): ConnectorError {
    return new ConnectorError('connector-error', NAME, { retryable: true, detail: `invalid response: ${detail}` });
  }
}

function optText(v: unknown, max: number): string | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > max || /[\u0000-\u001f\u007f]/.test(v)) return undefined;
  return v;
}

/** Strict schema check of the endpoint's JSON; null when it does not match. */
function parseWire(text: string): WireResponse | null {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return null;
  const o = j as Record<string, unknown>;
  if (o.status !== 'succeeded' && o.status !== 'declined' && o.status !== 'failed') return null;
  const token = optText(o.token, 255);
  const reference = optText(o.reference, 255);
  const authorizationCode = optText(o.authorization_code, 64);
  const errorCode = optText(o.error_code, 64);
  if (token === undefined || reference === undefined || authorizationCode === undefined || errorCode === undefined) return null;
  if (o.retryable !== undefined && typeof o.retryable !== 'boolean') return null;
  if (o.message !== undefined && o.message !== null && typeof o.message !== 'string') return null;
  return {
    status: o.status, token, reference, authorizationCode, errorCode,
    retryable: o.retryable === true, message: sanitizeProcessorText(o.message),
  };
}
