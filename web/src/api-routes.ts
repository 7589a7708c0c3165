/**
 * Every API route the console calls, as data (no DOM, no I/O): the client builds its URLs from it and
 * test/web/api-client-contract.test.ts checks each entry against the server's `/openapi.json`.
 */
export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI path template: `{name}` for path parameters */
  readonly path: string;
  /** the query parameters this client sends */
  readonly query?: readonly string[];
}

/** Every API route the console calls. The contract test walks this table against `/openapi.json`. */
export const CLIENT_ROUTES = {
  login: { method: 'POST', path: '/v1/auth/login' },
  verifyMfa: { method: 'POST', path: '/v1/auth/mfa/verify' },
  me: { method: 'GET', path: '/v1/auth/me' },
  logout: { method: 'POST', path: '/v1/auth/logout' },
  createSession: { method: 'POST', path: '/v1/sessions' },
  listSessions: { method: 'GET', path: '/v1/sessions', query: ['limit'] },
  capture: { method: 'POST', path: '/v1/sessions/{id}/capture' },
  submit: { method: 'POST', path: '/v1/sessions/{id}/submit' },
  cancel: { method: 'POST', path: '/v1/sessions/{id}/cancel' },
  sessionEvents: { method: 'GET', path: '/v1/sessions/{id}/events' },
  listUsers: { method: 'GET', path: '/v1/users' },
  createUser: { method: 'POST', path: '/v1/users' },
  updateUser: { method: 'PATCH', path: '/v1/users/{id}' },
  setUserPassword: { method: 'POST', path: '/v1/users/{id}/password' },
  resetMfa: { method: 'POST', path: '/v1/users/{id}/reset-mfa' },
  unlockUser: { method: 'POST', path: '/v1/users/{id}/unlock' },
  listApiKeys: { method: 'GET', path: '/v1/api-keys', query: ['includeRevoked'] },
  createApiKey: { method: 'POST', path: '/v1/api-keys' },
  rotateApiKey: { method: 'POST', path: '/v1/api-keys/{id}/rotate', query: ['graceSeconds'] },
  revokeApiKey: { method: 'DELETE', path: '/v1/api-keys/{id}' },
  auditEvents: { method: 'GET', path: '/v1/audit/events', query: ['action', 'actorId', 'outcome', 'from', 'to', 'afterSeq', 'limit'] },
  auditVerify: { method: 'GET', path: '/v1/audit/verify' },
  auditExport: { method: 'GET', path: '/v1/audit/export', query: ['action', 'actorId', 'outcome', 'from', 'to', 'format'] },
  billingReport: { method: 'GET', path: '/v1/billing/report', query: ['month'] },
  billingDaily: { method: 'GET', path: '/v1/billing/daily', query: ['from', 'to'] },
  billingDailyCsv: { method: 'GET', path: '/v1/billing/daily.csv', query: ['from', 'to'] },
  listPlans: { method: 'GET', path: '/v1/billing/plans' },
  putPlan: { method: 'PUT', path: '/v1/billing/plans/{id}' },
  maskingPolicy: { method: 'GET', path: '/v1/settings/masking-policy' },
  setMaskingPolicy: { method: 'PUT', path: '/v1/settings/masking-policy' },
  listConnectors: { method: 'GET', path: '/v1/settings/connectors' },
  setConnector: { method: 'PUT', path: '/v1/settings/connectors/{merchantId}' },
  removeConnector: { method: 'DELETE', path: '/v1/settings/connectors/{merchantId}' },
  listCalls: { method: 'GET', path: '/v1/calls', query: ['mine'] },
  embedExchange: { method: 'POST', path: '/v1/auth/embed' },
  secureCall: { method: 'POST', path: '/v1/calls/{id}/secure' },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof CLIENT_ROUTES;
export type RouteQuery = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * The URL of a route: path parameters encoded into the template, query parameters (only those the table declares;
 * empty values left out). Throws on a missing path parameter or an undeclared query name (a table out of date).
 */
export function routeUrl(name: RouteName, params: Readonly<Record<string, string>> = {}, query: RouteQuery = {}): string {
  const r: RouteSpec = CLIENT_ROUTES[name];
  const path = r.path.replace(/\{([A-Za-z]+)\}/g, (_m, p: string) => {
    const v = params[p];
    if (v === undefined) throw new Error(`${name}: path parameter ${p} missing`);
    return encodeURIComponent(v);
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (!(r.query ?? []).includes(k)) throw new Error(`${name}: query parameter ${k} is not declared in CLIENT_ROUTES`);
    if (v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}
