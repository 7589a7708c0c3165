import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { CardlineClient, UserRole } from './api-client.ts';
import { AdminApiKeys } from './admin-api-keys.ts';
import { AdminConnectors } from './admin-connectors.ts';
import { AdminMasking } from './admin-masking.ts';
import { AdminPlans } from './admin-plans.ts';
import { AdminUsers } from './admin-users.ts';
import { AuditSearch } from './audit-search.ts';
import { BillingChart } from './billing-chart.ts';
import { SupervisorBoard } from './supervisor-board.ts';

/** The back-office pages, each registered once (guarded for hosts that embed the console twice). */
const ELEMENTS: readonly (readonly [string, CustomElementConstructor])[] = [
  ['cardline-admin-users', AdminUsers], ['cardline-api-keys', AdminApiKeys], ['cardline-connectors', AdminConnectors],
  ['cardline-masking-policy', AdminMasking], ['cardline-price-plans', AdminPlans], ['cardline-audit-search', AuditSearch],
  ['cardline-billing-chart', BillingChart], ['cardline-supervisor-board', SupervisorBoard],
];
for (const [tag, cls] of ELEMENTS) if (customElements.get(tag) === undefined) customElements.define(tag, cls);

export type PageId = 'users' | 'api-keys' | 'connectors' | 'masking' | 'plans' | 'audit' | 'billing' | 'board';

/** Which pages each role gets, in menu order; the API enforces the same split (403 otherwise). */
export const ROLE_PAGES: Readonly<Record<UserRole, readonly (readonly [PageId, string])[]>> = {
  admin: [['users', 'Users'], ['api-keys', 'API keys'], ['connectors', 'Connectors'], ['masking', 'Masking policy'], ['plans', 'Price plans']],
  auditor: [['audit', 'Audit trail'], ['billing', 'Billing']],
  supervisor: [['board', 'Team payments']],
  agent: [],
};

/** `#/api-keys` → `api-keys` when the role has that page, else the role's first page. */
export function pageFromHash(role: UserRole, hash: string): PageId | null {
  const pages = ROLE_PAGES[role];
  const want = hash.replace(/^#\/?/, '');
  return pages.find(([p]) => p === want)?.[0] ?? pages[0]?.[0] ?? null;
}

/**
 * `<cardline-back-office>`: the supervisor's, admin's and auditor's pages behind one menu. The page is in the URL
 * hash (`#/connectors`), so links, reloads and the back button work; a page the role does not have is never
 * rendered (and its API refuses the role anyway). Each page receives the shared API client.
 */
export class BackOffice extends LitElement {
  static override styles = css`
    :host { display: block; }
    nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 0.3rem; margin: 0 0 0.75rem; padding: 0; }
    nav a { display: inline-block; padding: 0.3rem 0.6rem; border-radius: 6px; border: 1px solid #1d2330; color: #1d2330; text-decoration: none; font-weight: 600; font-size: 0.9rem; }
    nav a[aria-current=page] { background: #1d2330; color: #fff; }
    nav a:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
  `;

  client: CardlineClient | null = null;
  userRole: UserRole = 'agent';
  #page: PageId | null = null;
  readonly #onHash = () => { this.#route(); };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.#onHash);
    this.#route();
  }

  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.#onHash);
    super.disconnectedCallback();
  }

  get page(): PageId | null { return this.#page; }

  #route(): void {
    const next = pageFromHash(this.userRole, location.hash);
    if (next === this.#page) return;
    this.#page = next;
    this.requestUpdate();
  }

  #body(): TemplateResult | typeof nothing {
    const c = this.client;
    switch (this.#page) {
      case 'users': return html`<cardline-admin-users .client=${c}></cardline-admin-users>`;
      case 'api-keys': return html`<cardline-api-keys .client=${c}></cardline-api-keys>`;
      case 'connectors': return html`<cardline-connectors .client=${c}></cardline-connectors>`;
      case 'masking': return html`<cardline-masking-policy .client=${c}></cardline-masking-policy>`;
      case 'plans': return html`<cardline-price-plans .client=${c}></cardline-price-plans>`;
      case 'audit': return html`<cardline-audit-search .client=${c}></cardline-audit-search>`;
      case 'billing': return html`<cardline-billing-chart .client=${c}></cardline-billing-chart>`;
      case 'board': return html`<cardline-supervisor-board .client=${c}></cardline-supervisor-board>`;
      case null: return nothing;
    }
  }

  override render(): TemplateResult {
    const pages = ROLE_PAGES[this.userRole];
    return html`${pages.length > 1 ? html`<nav aria-label="Back office"><ul>
        ${pages.map(([id, label]) => html`<li><a href=${`#/${id}`} aria-current=${id === this.#page ? 'page' : 'false'}>${label}</a></li>`)}
      </ul></nav>` : nothing}
      ${this.#body()}`;
  }
}
