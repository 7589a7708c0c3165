/**
 * The console's API client: same-origin fetch with the session cookie (HttpOnly, SameSite=Strict, set by
 * POST /v1/auth/login) and the CSRF token echoed in X-CSRF-Token on every state-changing request.
 * Shapes mirror the OpenAPI document (`GET /openapi.json`); test/web checks them against it.
 * The browser only ever receives masked sessions (PCI DSS 4.0 req. 3.4.1): no digit is sent here.
 */

import type { CardField, FieldState, MaskedField, MaskedSession, PaymentResult, SessionState } from '../../src/payments/types.ts';

// The masked shapes are the server's own (type-only import, erased from the bundle): one definition for both sides.
export type { CardField, FieldState, MaskedField, MaskedSession, PaymentResult, SessionState };
export type LoginStage = 'full' | 'mfa-pending' | 'enrolment';

export interface SessionEvent {
  type: string;
  sessionId: string;
  sequence: number;
  session: MaskedSession;
}

export interface ConsoleUser {
  id: string;
  username: string;
  displayName: string | null;
  role: 'agent' | 'supervisor' | 'admin' | 'auditor';
  merchantId: string | null;
}

export interface AdminUser extends ConsoleUser {
  teamId: string | null;
  mfaRequired: boolean;
  mfaEnrolled: boolean;
  disabled: boolean;
  lastLoginAt: string | null;
}

export interface LoginResult {
  stage: LoginStage;
  user: ConsoleUser;
  csrfToken: string | null;
}

export interface AuditEvent {
  seq: number;
  at: string;
  actorKind: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  outcome: string;
  targetKind: string | null;
  targetId: string | null;
  ip: string | null;
}

export type AuditQuery = {
  action?: string;
  actorId?: string;
  outcome?: string;
  from?: string;
  to?: string;
  afterSeq?: number;
  limit?: number;
};

export interface AuditVerification {
  ok: boolean;
  records: number;
  checkpoints: number;
  unsealed: number;
  firstBroken: { kind: string; seq: number; reason: string } | null;
}

export function auditQueryString(q: Readonly<Record<string, string | number | undefined>>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

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

export class CardlineClient {
  #csrf: string | null = null;
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

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const csrf = this.#csrfToken();
    if (method !== 'GET' && csrf !== null) headers['x-csrf-token'] = csrf;
    const res = await fetch(this.#base + path, {
      method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: unknown = null;
    try { json = text === '' ? null : JSON.parse(text); } catch { json = null; }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(res.status, err?.code ?? 'http-error', err?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }

  async login(username: string, password: string): Promise<LoginResult> {
    const r = await this.#request<LoginResult>('POST', '/v1/auth/login', { username, password, session: 'cookie' });
    this.#csrf = r.csrfToken;
    return r;
  }

  async verifyMfa(code: string): Promise<LoginResult> {
    const r = await this.#request<LoginResult>('POST', '/v1/auth/mfa/verify', { code });
    this.#csrf = r.csrfToken;
    return r;
  }

  me(): Promise<{ user: ConsoleUser; stage: LoginStage }> {
    return this.#request('GET', '/v1/auth/me');
  }

  async logout(): Promise<void> {
    await this.#request('POST', '/v1/auth/logout');
    this.#csrf = null;
  }

  createSession(i: CreateSessionInput): Promise<MaskedSession> {
    return this.#request('POST', '/v1/sessions', {
      callId: i.callId, merchantId: i.merchantId, intent: 'charge', channel: 'agent-assisted',
      amountMinor: i.amountMinor, currency: i.currency, ...(i.reference !== null ? { reference: i.reference } : {}),
      startCapture: true,
    });
  }

  /** masked sessions in the caller's scope (a supervisor: the team's), newest first */
  async listSessions(limit = 50): Promise<MaskedSession[]> {
    return (await this.#request<{ sessions: MaskedSession[] }>('GET', `/v1/sessions?limit=${limit}`)).sessions;
  }

  async listUsers(): Promise<AdminUser[]> {
    return (await this.#request<{ users: AdminUser[] }>('GET', '/v1/users')).users;
  }

  setUserDisabled(id: string, disabled: boolean): Promise<AdminUser> {
    return this.#request('PATCH', `/v1/users/${encodeURIComponent(id)}`, { disabled });
  }

  async resetMfa(id: string): Promise<void> {
    await this.#request('POST', `/v1/users/${encodeURIComponent(id)}/reset-mfa`);
  }

  auditEvents(q: AuditQuery): Promise<{ events: AuditEvent[]; nextAfterSeq: number | null }> {
    return this.#request('GET', `/v1/audit/events${auditQueryString(q)}`);
  }

  auditVerify(): Promise<AuditVerification> {
    return this.#request('GET', '/v1/audit/verify');
  }

  /** a plain link: the browser downloads it with the session cookie (GET needs no CSRF token) */
  auditExportUrl(q: AuditQuery, format: 'csv' | 'jsonl'): string {
    return `${this.#base}/v1/audit/export${auditQueryString({ ...q, afterSeq: undefined, limit: undefined, format })}`;
  }

  /** no field: the next pending one; a field: clear it and capture it again */
  capture(id: string, field?: CardField): Promise<MaskedSession> {
    return this.#request('POST', `/v1/sessions/${encodeURIComponent(id)}/capture`, field === undefined ? {} : { field });
  }

  submit(id: string): Promise<MaskedSession> {
    return this.#request('POST', `/v1/sessions/${encodeURIComponent(id)}/submit`);
  }

  cancel(id: string): Promise<MaskedSession> {
    return this.#request('POST', `/v1/sessions/${encodeURIComponent(id)}/cancel`);
  }

  /**
   * Live masked events over WebSocket (cookie auth: same origin, so the browser sends the session cookie
   * with the upgrade). The first message is the current snapshot.
   */
  events(id: string, onEvent: (e: SessionEvent) => void, onClose: (code: number) => void): WebSocket {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}${this.#base}/v1/sessions/${encodeURIComponent(id)}/events`);
    ws.addEventListener('message', (m) => {
      if (typeof m.data !== 'string') return;
      try { onEvent(JSON.parse(m.data) as SessionEvent); } catch { /* not an event: ignore */ }
    });
    ws.addEventListener('close', (c) => onClose(c.code));
    return ws;
  }
}
