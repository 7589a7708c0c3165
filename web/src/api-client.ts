/**
 * The console's API client: same-origin fetch with the session cookie (HttpOnly, SameSite=Strict, set by
 * POST /v1/auth/login) and the CSRF token echoed in X-CSRF-Token on every state-changing request.
 *
 * Checked against the OpenAPI document: every call goes through `CLIENT_ROUTES` (api-routes.ts: method, path
 * template, query names), and test/web/api-client-contract.test.ts asserts each entry exists in the server's `/openapi.json` with
 * the same path and query parameters. Request and response types are the server's own TypeBox schemas (type-only
 * imports, erased from the bundle). The browser only ever receives masked sessions (PCI DSS 4.0 req. 3.4.1).
 */
import type { Static } from '@sinclair/typebox';
import type { CardField, FieldState, MaskedField, MaskedSession, PaymentResult, SessionState } from '../../src/payments/types.ts';
import type { WireSessionEvent } from '../../src/api/schemas.ts';
import type {
  ApiKeyJson, AuditEventJson, AuditQueryJson, AuditVerifyJson, BillingReportJson, CreateApiKeyInput, DailyTransactionsJson, PlanInput, PlanJson,
  UserJson, UserRoleSchema,
} from '../../src/api/back-office-schemas.ts';
import type { ConnectorSettingInput, ConnectorSettingJson, MaskingPolicyInput, MaskingPolicyViewJson } from '../../src/settings/schemas.ts';
import { CLIENT_ROUTES, routeUrl, type RouteName, type RouteQuery } from './api-routes.ts';
import { isFinalClose, type StreamOpener } from './live-stream.ts';

export { CLIENT_ROUTES, routeUrl, type RouteName };

// The masked shapes are the server's own (type-only import, erased from the bundle): one definition for both sides.
export type { CardField, FieldState, MaskedField, MaskedSession, PaymentResult, SessionState };
export type LoginStage = 'full' | 'mfa-pending' | 'enrolment';
export type UserRole = Static<typeof UserRoleSchema>;
/** a live event: the wire shape, with the session as the branded masked type */
export type SessionEvent = Omit<WireSessionEvent, 'session'> & { session: MaskedSession };
export type AdminUser = UserJson;
export type ConsoleUser = Pick<UserJson, 'id' | 'username' | 'displayName' | 'role' | 'merchantId' | 'sipUri'>;

/**
 * A call anchored by the media gateway (`GET /v1/calls`, the server's CallSchema in src/gateway/http-routes.ts,
 * written out here because that module is not DOM-free); no card data, no digits.
 */
export interface GatewayCall {
  id: string;
  caller: string;
  callee: string;
  agent: string;
  state: 'routing' | 'ringing' | 'answered' | 'ended';
  secure: boolean;
  paymentSessionId: string | null;
  startedAt: string;
  answeredAt: string | null;
}
export type AuditEvent = AuditEventJson;
export type AuditQuery = Omit<AuditQueryJson, 'targetId'>;
export type AuditVerification = AuditVerifyJson;
export type ApiKey = ApiKeyJson;
export type NewApiKey = CreateApiKeyInput;
export type PricePlan = PlanJson;
export type PricePlanInput = PlanInput;
export type BillingReport = BillingReportJson;
export type DailyTransactions = DailyTransactionsJson;
export type ConnectorSetting = ConnectorSettingJson;
export type ConnectorSettingInputT = ConnectorSettingInput;
export type MaskingPolicy = MaskingPolicyInput;
export type MaskingPolicyView = MaskingPolicyViewJson;

export interface NewUser {
  username: string;
  password: string;
  role: UserRole;
  displayName?: string | null;
  merchantId?: string | null;
  teamId?: string | null;
}

export interface LoginResult {
  stage: LoginStage;
  user: ConsoleUser;
  csrfToken: string | null;
}

/** A freshly issued API key: `key` is shown once and never again. */
export interface IssuedApiKey { key: string; apiKey: ApiKey }

export interface CreateSessionInput {
  callId: string;
  merchantId: string;
  amountMinor: number;
  currency: string;
  reference: string | null;
}

/** An error answered by the API in its one shape `{"error":{"code","message"}}`. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const CSRF_COOKIE = 'cardline_csrf';

interface Call { params?: Readonly<Record<string, string>>; query?: RouteQuery; body?: unknown }

export class CardlineClient {
  #csrf: string | null = null;
  #bearer: string | null = null;
  #embedded = false;
  readonly #base: string;

  constructor(base = '') {
    this.#base = base;
  }

  /** The CSRF token from the last login step, else the readable CSRF cookie (after a page reload). */
  #csrfToken(): string | null {
    if (this.#csrf !== null) return this.#csrf;
    for (const part of document.cookie.split(';')) {
      const [k, v] = part.trim().split('=');
      if (k === CSRF_COOKIE && v !== undefined) return decodeURIComponent(v);
    }
    return null;
  }

  /**
   * The one network call of the console. Signed in by embed token: `Authorization: Bearer`, no cookies sent
   * (credentials 'omit'). Otherwise the session cookie, with the CSRF token on state-changing requests.
   */
  #send(name: RouteName, c: Call, accept: string, signal?: AbortSignal): Promise<Response> {
    const { method } = CLIENT_ROUTES[name];
    const headers: Record<string, string> = { accept };
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    if (this.#bearer !== null) {
      headers.authorization = `Bearer ${this.#bearer}`;
    } else {
      const csrf = this.#csrfToken();
      if (method !== 'GET' && csrf !== null) headers['x-csrf-token'] = csrf;
    }
    return fetch(this.#base + routeUrl(name, c.params, c.query), {
      method, headers, credentials: this.#bearer !== null ? 'omit' : 'same-origin', ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}), ...(signal ? { signal } : {}),
    });
  }

  static async #fail(res: Response): Promise<never> {
    let json: unknown = null;
    try { json = JSON.parse(await res.text()); } catch { json = null; }
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http-error', err?.message ?? `HTTP ${res.status}`);
  }

  async #request<T>(name: RouteName, c: Call = {}): Promise<T> {
    const res = await this.#send(name, c, 'application/json');
    if (!res.ok) return CardlineClient.#fail(res);
    const text = await res.text();
    try { return (text === '' ? null : JSON.parse(text)) as T; } catch { return null as T; }
  }

  /** Signed in by an embed token (the panel in a third-party iframe): the bearer session lives in memory only. */
  get embedded(): boolean { return this.#embedded; }

  /**
   * Exchanges a one-time embed token (from the frame URL's fragment) for a bearer login session kept in this
   * object only: nothing in cookies or storage, so a cross-site iframe needs no third-party cookie and leaves
   * nothing behind when closed.
   */
  async embedSignIn(token: string): Promise<ConsoleUser> {
    const r = await this.#request<{ token: string; user: ConsoleUser }>('embedExchange', { body: { token } });
    this.#bearer = r.token;
    this.#embedded = true;
    return r.user;
  }

  // --- sign-in -----------------------------------------------------------------------------------------------
  async login(username: string, password: string): Promise<LoginResult> {
    const r = await this.#request<LoginResult>('login', { body: { username, password, session: 'cookie' } });
    this.#csrf = r.csrfToken;
    return r;
  }

  async verifyMfa(code: string): Promise<LoginResult> {
    const r = await this.#request<LoginResult>('verifyMfa', { body: { code } });
    this.#csrf = r.csrfToken;
    return r;
  }

  me(): Promise<{ user: ConsoleUser; stage: LoginStage }> {
    return this.#request('me');
  }

  async logout(): Promise<void> {
    await this.#request('logout');
    this.#csrf = null;
    this.#bearer = null;
  }

  // --- payment sessions (masked) -----------------------------------------------------------------------------
  createSession(i: CreateSessionInput): Promise<MaskedSession> {
    return this.#request('createSession', {
      body: {
        callId: i.callId, merchantId: i.merchantId, intent: 'charge', channel: 'agent-assisted',
        amountMinor: i.amountMinor, currency: i.currency, ...(i.reference !== null ? { reference: i.reference } : {}),
        startCapture: true,
      },
    });
  }

  /** masked sessions in the caller's scope (a supervisor: the team's), newest first */
  async listSessions(limit = 50): Promise<MaskedSession[]> {
    return (await this.#request<{ sessions: MaskedSession[] }>('listSessions', { query: { limit } })).sessions;
  }

  /** no field: the next pending one; a field: clear it and capture it again */
  capture(id: string, field?: CardField): Promise<MaskedSession> {
    return this.#request('capture', { params: { id }, body: field === undefined ? {} : { field } });
  }

  submit(id: string): Promise<MaskedSession> {
    return this.#request('submit', { params: { id } });
  }

  cancel(id: string): Promise<MaskedSession> {
    return this.#request('cancel', { params: { id } });
  }

  /**
   * Calls the media gateway anchors; `mine`: only those to the signed-in agent's SIP identity.
   * null when this server runs no gateway (the route does not exist): payments then take a typed call id.
   */
  async listCalls(mine = false): Promise<GatewayCall[] | null> {
    try {
      return (await this.#request<{ calls: GatewayCall[] }>('listCalls', { query: { mine: mine ? 1 : undefined } })).calls;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** Turns the call's secure mode on, bound to the payment session: the caller's keypad now goes only to it. */
  bindCall(callId: string, sessionId: string): Promise<GatewayCall> {
    return this.#request('secureCall', { params: { id: callId }, body: { on: true, sessionId } });
  }

  /**
   * Live masked events over WebSocket (cookie auth: same origin, so the browser sends the session cookie
   * with the upgrade). The first message of every connection is the current snapshot. Use with `LiveStream`
   * (live-stream.ts), which reconnects.
   */
  events(id: string): StreamOpener {
    return this.#bearer !== null ? this.#sseEvents(id) : this.#wsEvents(id);
  }

  #wsEvents(id: string): StreamOpener {
    return (onMessage, onClose) => {
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(`${proto}//${location.host}${this.#base}${routeUrl('sessionEvents', { id })}`);
      let got = false;
      let closedByUs = false;
      ws.addEventListener('message', (m) => {
        if (typeof m.data !== 'string') return;
        let data: unknown;
        try { data = JSON.parse(m.data); } catch { return; /* not an event: ignore */ }
        got = true;
        onMessage(data);
      });
      ws.addEventListener('close', (c) => { if (!closedByUs) onClose(isFinalClose(c.code, got)); });
      return { close: () => { closedByUs = true; ws.close(1000); } };
    };
  }

  /**
   * The same events as text/event-stream read through fetch, for the bearer session of the embedded panel (a
   * WebSocket cannot carry an Authorization header). Each `data:` line is one event (HTML Living Standard
   * §9.2.6: a blank line ends an event; our server never splits one over several data lines).
   */
  #sseEvents(id: string): StreamOpener {
    return (onMessage, onClose) => {
      const abort = new AbortController();
      let closedByUs = false;
      void (async () => {
        let final = false;
        try {
          const res = await this.#send('sessionEvents', { params: { id } }, 'text/event-stream', abort.signal);
          if (!res.ok || res.body === null) { final = res.status === 404; return; }
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          abort.signal.addEventListener('abort', () => { void reader.cancel(); });
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += value;
            let nl = buf.indexOf('\n');
            while (nl >= 0) {
              const line = buf.slice(0, nl).replace(/\r$/, '');
              buf = buf.slice(nl + 1);
              if (line.startsWith('data:')) {
                try { onMessage(JSON.parse(line.slice(5).trim())); } catch { /* not an event */ }
              }
              nl = buf.indexOf('\n');
            }
          }
        } catch {
          // dropped: reconnect
        } finally {
          if (!closedByUs) onClose(final);
        }
      })();
      return { close: () => { closedByUs = true; abort.abort(); } };
    };
  }

  // --- users ---------------------------------------------------------------------------------------------------
  async listUsers(): Promise<AdminUser[]> {
    return (await this.#request<{ users: AdminUser[] }>('listUsers')).users;
  }

  /** a new user; the initial password is handed over out of band (policy applies) */
  createUser(u: NewUser): Promise<AdminUser> {
    return this.#request('createUser', { body: u });
  }

  updateUser(id: string, patch: Partial<Pick<AdminUser, 'role' | 'teamId' | 'displayName' | 'sipUri' | 'mfaRequired' | 'disabled'>>): Promise<AdminUser> {
    return this.#request('updateUser', { params: { id }, body: patch });
  }

  setUserDisabled(id: string, disabled: boolean): Promise<AdminUser> {
    return this.updateUser(id, { disabled });
  }

  /** an agent's SIP identity (`sip:user@host`, null clears it): its calls become its "current call" */
  setUserSipUri(id: string, sipUri: string | null): Promise<AdminUser> {
    return this.updateUser(id, { sipUri });
  }

  async setUserPassword(id: string, password: string): Promise<void> {
    await this.#request('setUserPassword', { params: { id }, body: { password } });
  }

  async resetMfa(id: string): Promise<void> {
    await this.#request('resetMfa', { params: { id } });
  }

  async unlockUser(id: string): Promise<void> {
    await this.#request('unlockUser', { params: { id } });
  }

  // --- API keys ------------------------------------------------------------------------------------------------
  async listApiKeys(includeRevoked = false): Promise<ApiKey[]> {
    return (await this.#request<{ apiKeys: ApiKey[] }>('listApiKeys', { query: { includeRevoked: includeRevoked ? true : undefined } })).apiKeys;
  }

  createApiKey(k: NewApiKey): Promise<IssuedApiKey> {
    return this.#request('createApiKey', { body: k });
  }

  rotateApiKey(id: string, graceSeconds?: number): Promise<IssuedApiKey> {
    return this.#request('rotateApiKey', { params: { id }, query: { graceSeconds } });
  }

  revokeApiKey(id: string): Promise<ApiKey> {
    return this.#request('revokeApiKey', { params: { id } });
  }

  // --- audit ---------------------------------------------------------------------------------------------------
  auditEvents(q: AuditQuery): Promise<{ events: AuditEvent[]; nextAfterSeq: number | null }> {
    return this.#request('auditEvents', { query: q });
  }

  auditVerify(): Promise<AuditVerification> {
    return this.#request('auditVerify');
  }

  /** a plain link: the browser downloads it with the session cookie (GET needs no CSRF token) */
  auditExportUrl(q: AuditQuery, format: 'csv' | 'jsonl'): string {
    const { afterSeq: _a, limit: _l, ...rest } = q;
    return this.#base + routeUrl('auditExport', {}, { ...rest, format });
  }

  // --- billing -------------------------------------------------------------------------------------------------
  billingReport(month: string): Promise<BillingReport> {
    return this.#request('billingReport', { query: { month } });
  }

  billingDaily(from: string, to: string): Promise<DailyTransactions> {
    return this.#request('billingDaily', { query: { from, to } });
  }

  billingDailyCsvUrl(from: string, to: string): string {
    return this.#base + routeUrl('billingDailyCsv', {}, { from, to });
  }

  async listPlans(): Promise<PricePlan[]> {
    return (await this.#request<{ plans: PricePlan[] }>('listPlans')).plans;
  }

  putPlan(merchantId: string, plan: PricePlanInput): Promise<PricePlan> {
    return this.#request('putPlan', { params: { id: merchantId }, body: plan });
  }

  // --- settings ------------------------------------------------------------------------------------------------
  maskingPolicy(): Promise<MaskingPolicyView> {
    return this.#request('maskingPolicy');
  }

  setMaskingPolicy(p: MaskingPolicy): Promise<MaskingPolicyView> {
    return this.#request('setMaskingPolicy', { body: p });
  }

  async listConnectors(): Promise<ConnectorSetting[]> {
    return (await this.#request<{ connectors: ConnectorSetting[] }>('listConnectors')).connectors;
  }

  setConnector(merchantId: string, s: ConnectorSettingInputT): Promise<ConnectorSetting> {
    return this.#request('setConnector', { params: { merchantId }, body: s });
  }

  async removeConnector(merchantId: string): Promise<void> {
    await this.#request('removeConnector', { params: { merchantId } });
  }
}
