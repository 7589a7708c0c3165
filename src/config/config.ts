import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ValueError } from '@sinclair/typebox/errors';
import { CardlineError } from '../errors/index.ts';
import { hashApiKey, isSha256Hex } from './secrets.ts';

/**
 * Runtime configuration: defaults ← optional JSON file ← environment variables (later wins).
 * Secrets never live here in plain text except the status-callback signing secret, which must be usable
 * to sign; API keys are held only as SHA-256 hashes (PCI DSS 4.0 req. 8.3.2: authentication factors
 * unreadable in storage).
 */
const AgentSrtp = Type.Union([Type.Literal('off'), Type.Literal('sdes'), Type.Literal('optional')]);
const ConnectorEntry = Type.Object({ type: Type.Union([Type.Literal('sandbox'), Type.Literal('webhook'), Type.Literal('stripe')]) }, { additionalProperties: true });

export const ConfigSchema = Type.Object({
  host: Type.String({ minLength: 1, description: 'address to listen on; 127.0.0.1 by default (put a TLS proxy in front for remote access)' }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  dataDir: Type.String({ minLength: 1, description: 'directory for cardline.db and generated secrets' }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  /** SHA-256 (hex) of each accepted API key; empty = generate one at first start */
  apiKeySha256: Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' })),
  bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 10 * 1024 * 1024 }),
  events: Type.Object({
    heartbeatMs: Type.Integer({ minimum: 100, maximum: 300_000 }),
    bufferSize: Type.Integer({ minimum: 1, maximum: 10_000 }),
  }, { additionalProperties: false }),
  callbacks: Type.Object({
    /** HMAC-SHA256 key for `Cardline-Signature`; null = generate one at first start and keep it in the data dir */
    secret: Type.Union([Type.String({ minLength: 16 }), Type.Null()]),
    /** plain-http callback URLs are refused unless this is set (development only) */
    allowHttp: Type.Boolean(),
    maxQueue: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 20 }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
    backoffMs: Type.Integer({ minimum: 1, maximum: 60_000 }),
    maxBackoffMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
    concurrency: Type.Integer({ minimum: 1, maximum: 256 }),
  }, { additionalProperties: false }),
  /**
   * Payment connectors per merchant, handed to src/connectors' registry (which validates each entry at
   * startup): `{ default: { type: 'sandbox' }, merchants: { acme: { type: 'stripe', apiKey: '…' } } }`.
   * null = the built-in sandbox for every merchant.
   */
  connectors: Type.Union([Type.Null(), Type.Object({
    default: Type.Optional(Type.Union([Type.Null(), ConnectorEntry])),
    merchants: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$' }), ConnectorEntry)),
  }, { additionalProperties: false })]),
  /** honour X-Forwarded-For/-Proto from a TLS proxy in front (client address in the audit trail, Secure cookies) */
  trustProxy: Type.Boolean(),
  /** identity (issue 5): console sessions, tokens, password hashing, lockout (PCI DSS 4.0 req. 8) */
  auth: Type.Object({
    /** Secure flag on session cookies: auto = when the request arrived over HTTPS (see trustProxy) */
    cookieSecure: Type.Union([Type.Literal('auto'), Type.Literal('always'), Type.Literal('never')]),
    /** PCI DSS 4.0 req. 8.2.8: at most 15 minutes idle */
    idleTimeoutMinutes: Type.Integer({ minimum: 1, maximum: 15 }),
    sessionLifetimeHours: Type.Integer({ minimum: 1, maximum: 24 }),
    tokenTtlMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
    tokenMaxTtlMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
    scrypt: Type.Object({ ln: Type.Integer({ minimum: 14, maximum: 20 }), r: Type.Integer({ minimum: 1, maximum: 32 }), p: Type.Integer({ minimum: 1, maximum: 16 }) }, { additionalProperties: false }),
    /** PCI DSS 4.0 req. 8.3.4: lock after at most 10 failures, for at least 30 minutes */
    lockoutThreshold: Type.Integer({ minimum: 3, maximum: 10 }),
    lockoutBaseSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
    lockoutMaxMinutes: Type.Integer({ minimum: 30, maximum: 1440 }),
    ipLockoutThreshold: Type.Integer({ minimum: 5, maximum: 10_000 }),
    /** MFA for new agents and auditors unless an admin turns it off per user (always on for admin, supervisor) */
    mfaDefault: Type.Boolean(),
    apiKeyRotationGraceHours: Type.Integer({ minimum: 0, maximum: 720 }),
    issuer: Type.String({ minLength: 1, maxLength: 64 }),
  }, { additionalProperties: false }),
  /**
   * The media gateway (issue 6: SIP B2BUA anchoring RTP, masking DTMF). null = off. Route rules are regular
   * expressions over the Request-URI and headers of the carrier's INVITE → the agent-side target URI.
   */
  gateway: Type.Union([Type.Null(), Type.Object({
    sip: Type.Object({
      host: Type.String({ minLength: 1, description: 'SIP bind address' }),
      port: Type.Integer({ minimum: 0, maximum: 65535 }),
      transports: Type.Array(Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')]), { minItems: 1, maxItems: 3, uniqueItems: true }),
      /**
       * SIP over TLS (RFC 3261 §26.2; sips: URIs, RFC 5630): required when `transports` lists 'tls'. PEM files are
       * read at startup. The TLS listener has its own port: default `port + 1` (the 5060/5061 convention; 0 when
       * `port` is 0). `verifyPeer` (default true) checks the agent side's certificate against `caFile` (else the
       * system store); `requestClientCert` asks carriers for a certificate (mutual TLS).
       */
      tls: Type.Optional(Type.Object({
        certFile: Type.String({ minLength: 1 }),
        keyFile: Type.String({ minLength: 1 }),
        caFile: Type.Optional(Type.String({ minLength: 1 })),
        port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
        verifyPeer: Type.Optional(Type.Boolean()),
        requestClientCert: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false })),
    }, { additionalProperties: false }),
    media: Type.Object({
      address: Type.String({ minLength: 1, description: 'RTP bind address (an IP)' }),
      advertiseAddress: Type.Optional(Type.String({ minLength: 1, description: 'address written in SDP when it differs (e.g. binding 0.0.0.0)' })),
      minPort: Type.Integer({ minimum: 1024, maximum: 65535 }),
      maxPort: Type.Integer({ minimum: 1024, maximum: 65535 }),
      /** Cardline's own RTCP reports per leg (RFC 3550 §6.2: 5 s, randomised ±50 %); 0 = send none. Default 5000. */
      rtcpIntervalMs: Type.Optional(Type.Union([Type.Literal(0), Type.Integer({ minimum: 1000, maximum: 60_000 })])),
    }, { additionalProperties: false }),
    routes: Type.Array(Type.Object({
      requestUri: Type.Optional(Type.String({ maxLength: 1000 })),
      headers: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), pattern: Type.String({ maxLength: 1000 }) }, { additionalProperties: false }))),
      target: Type.String({ pattern: '^sips?:', description: 'agent-side Request-URI (sips: or ;transport=tls → TLS)' }),
      /**
       * Digest credentials (RFC 3261 §22.2, RFC 7616) for when the agent side answers 401/407 on this route: the
       * password in the file, or (better) the name of an environment variable holding it. `realm` limits them to
       * that challenge realm.
       */
      auth: Type.Optional(Type.Object({
        username: Type.String({ minLength: 1, maxLength: 256 }),
        password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
        passwordEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })),
        realm: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      }, { additionalProperties: false })),
      /** SRTP on this route's agent leg; default `gateway.agentSrtp`. */
      agentSrtp: Type.Optional(AgentSrtp),
    }, { additionalProperties: false })),
    /**
     * SRTP (RFC 3711, SDES keys RFC 4568) on the agent leg, independent of the caller leg: 'off' offers RTP/AVP,
     * 'sdes' offers RTP/SAVP with a=crypto (AES_CM_128_HMAC_SHA1_80 and _32), 'optional' offers RTP/SAVP and
     * falls back to RTP/AVP when the agent side refuses it (488). Default 'off'.
     */
    agentSrtp: Type.Optional(AgentSrtp),
    /** policy: mask DTMF on every call all the time */
    secureByDefault: Type.Optional(Type.Boolean()),
    maskMode: Type.Optional(Type.Union([Type.Literal('tone'), Type.Literal('silence'), Type.Literal('noise')])),
    /**
     * Agent-side in-band triggers (legacy style): the agent types `start` (e.g. `#388*`) to turn secure mode on and
     * `end` (e.g. `#388#`) to turn it off; 2-16 keys each, neither a prefix of the other (checked at startup).
     * Ignored on calls that are secure by default.
     */
    triggers: Type.Optional(Type.Object({
      start: Type.String({ minLength: 2, maxLength: 16, pattern: '^[0-9A-D*#]+$' }),
      end: Type.String({ minLength: 2, maxLength: 16, pattern: '^[0-9A-D*#]+$' }),
      /** held agent keys are passed on when no key follows within this time (default 3000) */
      interDigitTimeoutMs: Type.Optional(Type.Integer({ minimum: 200, maximum: 30_000 })),
    }, { additionalProperties: false })),
    noAnswerTimeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 600_000 })),
    /**
     * Secure mode stays on this long after the bound payment session ended (default 2000 ms): a caller still typing
     * when the agent presses Pay (the trailing `#`, a re-typed code) is masked, not heard by the agent.
     */
    secureHangoverMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    /**
     * The built-in call recorder (src/recording/): each call → `<dir>/<call id>.wav` (stereo 16-bit 8 kHz, left =
     * caller as the agent heard it, right = agent) + `<call id>.json` (call, secure spans in file time). `dir` is
     * relative to `dataDir` (default `recordings`), created 0700, files 0600. `secureSpan`: 'pause' (default) cuts
     * secure spans out of the file, 'masked' records the masked audio through them. Absent = no recording.
     */
    recording: Type.Optional(Type.Object({
      dir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
      format: Type.Optional(Type.Literal('wav')),
      secureSpan: Type.Optional(Type.Union([Type.Literal('pause'), Type.Literal('masked')])),
    }, { additionalProperties: false })),
    /**
     * External call recorders: signed `recording.pause` / `recording.resume` POSTs on every secure-mode change
     * (payload and signature: src/recording/recorder-webhooks.ts, README "Call recording"). https unless
     * `callbacks.allowHttp`; `secret` ≥ 16 characters, or `secretEnv` naming an environment variable holding it.
     */
    recorderWebhooks: Type.Optional(Type.Array(Type.Object({
      url: Type.String({ minLength: 1, maxLength: 2048 }),
      secret: Type.Optional(Type.String({ minLength: 16, maxLength: 1024 })),
      secretEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })),
    }, { additionalProperties: false }), { maxItems: 16 })),
  }, { additionalProperties: false })]),
  /** the web console (issue 7) */
  console: Type.Object({
    /**
     * Origins allowed to frame the embedded agent panel (`/console/embed`, CSP frame-ancestors, CSP3 §7.7.3), e.g.
     * `https://crm.example.com` or `https://*.example.com`. Empty: embedding is off. The normal console is never
     * framed (frame-ancestors 'none': clickjacking).
     */
    frameAncestors: Type.Array(Type.String({ pattern: '^https?://(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$', maxLength: 256 }), { maxItems: 32 }),
  }, { additionalProperties: false }),
  audit: Type.Object({
    /** seal the audit chain with an HMAC checkpoint after this many records … */
    checkpointEvery: Type.Integer({ minimum: 1, maximum: 100_000 }),
    /** … or this often when records are waiting */
    checkpointMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

export type CardlineConfig = Static<typeof ConfigSchema>;

export const DEFAULT_PORT = 8080;

export function defaultConfig(cwd: string = process.cwd()): CardlineConfig {
  return {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    dataDir: resolve(cwd, '.data'),
    logLevel: 'info',
    apiKeySha256: [],
    bodyLimitBytes: 64 * 1024,
    events: { heartbeatMs: 15_000, bufferSize: 64 },
    callbacks: { secret: null, allowHttp: false, maxQueue: 10_000, maxAttempts: 6, timeoutMs: 5_000, backoffMs: 500, maxBackoffMs: 60_000, concurrency: 8 },
    connectors: null,
    trustProxy: false,
    auth: {
      cookieSecure: 'auto', idleTimeoutMinutes: 15, sessionLifetimeHours: 12, tokenTtlMinutes: 60, tokenMaxTtlMinutes: 720,
      scrypt: { ln: 17, r: 8, p: 1 }, lockoutThreshold: 5, lockoutBaseSeconds: 60, lockoutMaxMinutes: 30, ipLockoutThreshold: 20,
      mfaDefault: true, apiKeyRotationGraceHours: 24, issuer: 'Cardline',
    },
    gateway: null,
    console: { frameAncestors: [] },
    audit: { checkpointEvery: 100, checkpointMinutes: 5 },
  };
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** JSON file; default `$CARDLINE_CONFIG` if set */
  file?: string;
  cwd?: string;
  /** highest precedence, e.g. CLI flags */
  overrides?: Partial<Pick<CardlineConfig, 'host' | 'port' | 'dataDir' | 'logLevel'>>;
}

/**
 * Environment variables: CARDLINE_HOST, CARDLINE_PORT, CARDLINE_DATA_DIR, CARDLINE_LOG_LEVEL,
 * CARDLINE_API_KEY (a key; only its hash is kept), CARDLINE_API_KEY_SHA256 (comma-separated hashes),
 * CARDLINE_CALLBACK_SECRET, CARDLINE_CALLBACK_ALLOW_HTTP (1/true), CARDLINE_CONFIG (JSON file path),
 * CARDLINE_TRUST_PROXY (1/true), CARDLINE_COOKIE_SECURE (auto/always/never).
 */
export function loadConfig(opts: LoadConfigOptions = {}): CardlineConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const merged = defaultConfig(cwd) as unknown as Record<string, unknown>;

  const file = opts.file ?? nonEmpty(env.CARDLINE_CONFIG);
  if (file !== undefined) {
    const fromFile = readJsonFile(resolve(cwd, file));
    for (const [k, v] of Object.entries(fromFile)) {
      const cur = merged[k];
      merged[k] = isPlainObject(cur) && isPlainObject(v) ? { ...cur, ...v } : v;
    }
    if (typeof merged.dataDir === 'string') merged.dataDir = resolve(cwd, merged.dataDir);
  }

  const callbacks = { ...(merged.callbacks as Record<string, unknown>) };
  const host = nonEmpty(env.CARDLINE_HOST);
  if (host !== undefined) merged.host = host;
  const port = nonEmpty(env.CARDLINE_PORT);
  if (port !== undefined) merged.port = intFromEnv('CARDLINE_PORT', port);
  const dataDir = nonEmpty(env.CARDLINE_DATA_DIR);
  if (dataDir !== undefined) merged.dataDir = resolve(cwd, dataDir);
  const level = nonEmpty(env.CARDLINE_LOG_LEVEL);
  if (level !== undefined) merged.logLevel = level;
  const hashes = [...(Array.isArray(merged.apiKeySha256) ? merged.apiKeySha256 as unknown[] : [])];
  const keyHashes = nonEmpty(env.CARDLINE_API_KEY_SHA256);
  if (keyHashes !== undefined) hashes.push(...keyHashes.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== ''));
  const key = nonEmpty(env.CARDLINE_API_KEY);
  if (key !== undefined) hashes.push(hashApiKey(key));
  merged.apiKeySha256 = [...new Set(hashes)];
  const secret = nonEmpty(env.CARDLINE_CALLBACK_SECRET);
  if (secret !== undefined) callbacks.secret = secret;
  const allowHttp = nonEmpty(env.CARDLINE_CALLBACK_ALLOW_HTTP);
  if (allowHttp !== undefined) callbacks.allowHttp = /^(1|true|yes)$/i.test(allowHttp);
  merged.callbacks = callbacks;
  const trustProxy = nonEmpty(env.CARDLINE_TRUST_PROXY);
  if (trustProxy !== undefined) merged.trustProxy = /^(1|true|yes)$/i.test(trustProxy);
  const cookieSecure = nonEmpty(env.CARDLINE_COOKIE_SECURE);
  if (cookieSecure !== undefined) merged.auth = { ...(merged.auth as Record<string, unknown>), cookieSecure };

  for (const [k, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) merged[k] = k === 'dataDir' ? resolve(cwd, String(v)) : v;

  return validateConfig(merged);
}

/** Validates a whole config; errors name the offending path, never the value (it may be a secret). */
export function validateConfig(value: unknown): CardlineConfig {
  if (Value.Check(ConfigSchema, value)) {
    for (const h of value.apiKeySha256) if (!isSha256Hex(h)) throw new CardlineError('invalid-config', 'apiKeySha256 entries must be 64 hex characters');
    if (value.gateway) checkGateway(value.gateway);
    return value;
  }
  const top = Value.Errors(ConfigSchema, value).First();
  const first = top ? deepest(top) : undefined;
  const where = first ? (first.path === '' ? '(root)' : first.path) : '(root)';
  throw new CardlineError('invalid-config', `${where}: ${first?.message ?? 'invalid'}`);
}

/**
 * A union's error ("Expected union value" at `/gateway`, which is `null | {…}`) says nothing useful; each variant's
 * own first error is nested in it. The deepest path among them names the real culprit (`/gateway/sip/port`).
 */
function deepest(e: ValueError): ValueError {
  let best = e;
  for (const variant of e.errors) {
    const f = variant.First();
    if (!f) continue;
    const d = deepest(f);
    if (d.path.length > best.path.length) best = d;
  }
  return best;
}

/** Rules the schema cannot say: TLS settings when TLS is listed, exactly one password source per route. */
function checkGateway(g: NonNullable<CardlineConfig['gateway']>): void {
  if (g.sip.transports.includes('tls') && !g.sip.tls) throw new CardlineError('invalid-config', "/gateway/sip/tls: required when transports lists 'tls'");
  g.routes.forEach((r, i) => {
    if (r.auth && (r.auth.password === undefined) === (r.auth.passwordEnv === undefined)) {
      throw new CardlineError('invalid-config', `/gateway/routes/${i}/auth: give exactly one of password or passwordEnv`);
    }
  });
}

function readJsonFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CardlineError('invalid-config', `cannot read config file ${path}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // the parser's message quotes file content, which may include a secret: not passed on
    throw new CardlineError('invalid-config', `config file ${path} is not valid JSON`);
  }
  if (!isPlainObject(parsed)) throw new CardlineError('invalid-config', `config file ${path} must hold a JSON object`);
  return parsed;
}

function intFromEnv(name: string, v: string): number {
  if (!/^[0-9]+$/.test(v)) throw new CardlineError('invalid-config', `${name} must be an integer`);
  return Number(v);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
