/**
 * Cardline as it runs in production for end-to-end tests: `startCardline` (composition root) on a real SQLite data
 * directory with the gateway section, every log line captured, an API client that keeps every response body, the
 * agent-assisted payment flow over HTTP (create → capture → bind to the call's secure mode → ready → submit), and
 * the card-data scan over every artefact (logs, HTTP bodies, database files, peer logs).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey, hashApiKey, loadConfig } from '../../../src/config/index.ts';
import type { GatewayConfig } from '../../../src/gateway/index.ts';
import { createLogger } from '../../../src/log/index.ts';
import { type RunningCardline, startCardline } from '../../../src/server/index.ts';
import { freeUdpRange, HOST } from './baresip.ts';

/** A published test card (Visa, Luhn-valid, never a real card), a future expiry (MMYY) and a security code. */
export const CARD = { pan: '4111111111111111', expiry: '1229', cvv: '737' } as const;
/** What the caller types: "card number, hash; expiry, hash; security code, hash". */
export const CARD_KEYS = `${CARD.pan}#${CARD.expiry}#${CARD.cvv}#`;

export interface CardlineUnderTest {
  running: RunningCardline;
  url: string;
  sipPort: number;
  dataDir: string;
  /** every log line (pino JSON), debug level */
  logs: string[];
  /** every HTTP response body the test read */
  responses: string[];
  api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Stops Cardline (the data directory stays for the scan). */
  close(): Promise<void>;
  /** Deletes the data directory. */
  remove(): void;
}

export interface CallView {
  id: string;
  sipCallId: string;
  state: string;
  secure: boolean;
  paymentSessionId: string | null;
  endReason: string | null;
  secureSpans: Array<{ startedBy: string; endedBy: string | null; end: string | null }>;
}

export interface SessionView {
  id: string;
  state: string;
  errorCode: string | null;
  fields: Array<{ field: string; state: string; digitCount: number; attempts: number; errorCode: string | null }>;
  last4: string | null;
  brand: string | null;
  result: { status: string; token: string | null } | null;
}

export async function startGatewayCardline(o: {
  target: string;
  secureByDefault?: boolean;
  noAnswerTimeoutMs?: number;
  gateway?: Partial<GatewayConfig>;
}): Promise<CardlineUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cardline-e2e-'));
  const key = generateApiKey();
  const base = await freeUdpRange(20);
  const config = loadConfig({ env: {}, overrides: { host: HOST, port: 0, dataDir } });
  config.apiKeySha256 = [hashApiKey(key)];
  config.gateway = {
    sip: { host: HOST, port: 0, transports: ['udp'] },
    media: { address: HOST, minPort: base, maxPort: base + 19 },
    routes: [{ requestUri: '^sip:pay@', target: o.target }],
    ...(o.secureByDefault !== undefined ? { secureByDefault: o.secureByDefault } : {}),
    ...(o.noAnswerTimeoutMs !== undefined ? { noAnswerTimeoutMs: o.noAnswerTimeoutMs } : {}),
    ...o.gateway,
  };
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => { logs.push(s); } } });
  const running = await startCardline({ config, logger });
  assert.ok(running.gateway, 'the gateway runs');
  const sipPort = running.gateway.stack.layer.transports[0]!.local.port;
  const responses: string[] = [];
  const auth = { authorization: `Bearer ${key}` };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${running.url}${path}`, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };
  let closed = false;
  return {
    running, url: running.url, sipPort, dataDir, logs, responses, api,
    async close() {
      if (closed) return;
      closed = true;
      await running.close();
    },
    remove() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function until<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function calls(cl: CardlineUnderTest): Promise<CallView[]> {
  const r = await cl.api<{ calls: CallView[] }>('GET', '/v1/calls');
  assert.equal(r.status, 200);
  return r.body.calls;
}

/** Waits for the one answered call and returns it. */
export function answeredCall(cl: CardlineUnderTest, ms = 20_000): Promise<CallView> {
  return until('an answered call', async () => (await calls(cl)).find((c) => c.state === 'answered'), ms);
}

/**
 * The agent's side of a payment: creates a session bound to the call, starts capture and turns the call's secure
 * mode on bound to it (POST /v1/calls/:id/secure). Returns the session id.
 */
export async function bindPayment(cl: CardlineUnderTest, callId: string): Promise<string> {
  const created = await cl.api<SessionView>('POST', '/v1/sessions', { callId, merchantId: 'm-e2e', intent: 'tokenize' });
  assert.equal(created.status, 201);
  const id = created.body.id;
  assert.equal((await cl.api('POST', `/v1/sessions/${id}/capture`, {})).status, 200);
  const secure = await cl.api<CallView>('POST', `/v1/calls/${callId}/secure`, { on: true, sessionId: id });
  assert.equal(secure.status, 200);
  assert.deepEqual([secure.body.secure, secure.body.paymentSessionId], [true, id]);
  return id;
}

/** Waits until the session holds the whole card (`ready`: brand and last four shown, nothing else). */
export async function sessionReady(cl: CardlineUnderTest, sessionId: string, ms = 30_000): Promise<SessionView> {
  const ready = await until('the payment session to be ready', async () => {
    const s = (await cl.api<SessionView>('GET', `/v1/sessions/${sessionId}`)).body;
    if (s.state === 'failed' || s.state === 'cancelled' || s.state === 'expired') {
      // masked shape only: field states, digit counts, attempts, error codes
      const fields = s.fields.map((f) => `${f.field} ${f.state} ${f.digitCount} digits, ${f.attempts} attempts, ${f.errorCode ?? '-'}`).join('; ');
      throw new Error(`the session ended ${s.state} (${s.errorCode ?? '-'}): ${fields}`);
    }
    return s.state === 'ready' ? s : undefined;
  }, ms);
  assert.deepEqual([ready.last4, ready.brand], [CARD.pan.slice(-4), 'visa']);
  return ready;
}

/** The agent presses Pay: POST /v1/sessions/:id/submit → succeeded (sandbox connector, a token back). */
export async function submit(cl: CardlineUnderTest, sessionId: string): Promise<SessionView> {
  const submitted = await cl.api<SessionView>('POST', `/v1/sessions/${sessionId}/submit`);
  assert.equal(submitted.status, 200);
  assert.equal(submitted.body.state, 'succeeded');
  assert.equal(submitted.body.result?.status, 'succeeded');
  assert.ok(submitted.body.result?.token, 'a token came back');
  return submitted.body;
}

/** `sessionReady`, then `submit`. */
export async function readyAndSubmit(cl: CardlineUnderTest, sessionId: string, ms = 30_000): Promise<SessionView> {
  await sessionReady(cl, sessionId, ms);
  return submit(cl, sessionId);
}

/**
 * No PAN, security code or expiry in any artefact: texts (logs, HTTP bodies) and the raw bytes of files (the
 * SQLite database with its -wal/-shm, peer logs). The security code and expiry are short, so they are looked for
 * as values (quoted, after `=`/`:`) and in the typed key string, not as bare substrings of unrelated numbers.
 */
export function assertNoCardData(what: string, texts: readonly string[], files: readonly string[]): void {
  const needles = [CARD.pan, CARD_KEYS, `${CARD.expiry}#${CARD.cvv}`, `${CARD.expiry}${CARD.cvv}`];
  const valuePatterns = [CARD.cvv, CARD.expiry].map((v) => new RegExp(`["=:]\\s*"?${v}"?(?:[,}\\s&;]|$)`));
  const check = (where: string, text: string): void => {
    for (const n of needles) assert.ok(!text.includes(n), `card data in ${where}`);
    for (const p of valuePatterns) assert.ok(!p.test(text), `a security code or expiry value in ${where}`);
  };
  texts.forEach((t, i) => check(`${what} text #${i}`, t));
  for (const f of files) check(f, readFileSync(f).toString('latin1'));
}

/** Every file in the data directory (database, -wal, -shm, keys). */
export function dataFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
