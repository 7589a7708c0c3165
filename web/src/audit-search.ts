import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, type AuditEvent, type AuditQuery, type AuditVerification, type CardlineClient } from './api-client.ts';
import { errorText } from './messages.ts';

const PAGE = 100;

/**
 * `<cardline-audit-search>`: the auditor's page. The chain verification status (`GET /v1/audit/verify`: hash chain
 * and HMAC checkpoints recomputed), a search over the trail (`GET /v1/audit/events`: action or prefix, actor,
 * outcome, time range; oldest first, paged by sequence) and export links (CSV, JSON lines) for the same filter.
 */
export class AuditSearch extends LitElement {
  static override styles = css`
    :host { display: block; }
    h1 { font-size: 1.2rem; margin: 0 0 0.5rem; }
    h1:focus { outline: none; }
    h2 { font-size: 1rem; margin: 0.75rem 0 0.4rem; }
    form { background: #fff; border: 1px solid #c9ced6; border-radius: 8px; padding: 0.75rem; }
    label { display: block; font-weight: 600; margin: 0.4rem 0 0.2rem; }
    input, select { width: 100%; font: inherit; padding: 0.4rem 0.5rem; border: 1px solid #6b7280; border-radius: 6px; background: #fff; color: #1d2330; box-sizing: border-box; }
    input:focus-visible, select:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
    .grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 0.5rem; }
    .grid > div { min-width: 0; }
    button { font: inherit; font-weight: 600; padding: 0.45rem 0.75rem; border-radius: 6px; border: 1px solid #1d4ed8; background: #1d4ed8; color: #fff; cursor: pointer; margin-top: 0.6rem; }
    button.secondary { background: #fff; color: #1d2330; border-color: #1d2330; }
    .verify { padding: 0.5rem 0.6rem; border-radius: 6px; font-weight: 600; margin: 0 0 0.5rem; }
    .verify.ok { background: #dcfce7; color: #14532d; border: 1px solid #15803d; }
    .verify.bad { background: #fee2e2; color: #7f1d1d; border: 1px solid #b42318; }
    .links { display: flex; gap: 1rem; margin: 0.5rem 0; }
    a { color: #1d4ed8; font-weight: 600; }
    ol { list-style: none; margin: 0; padding: 0; }
    li { background: #fff; border: 1px solid #c9ced6; border-radius: 8px; padding: 0.5rem 0.6rem; margin-bottom: 0.4rem; font-size: 0.9rem; }
    .top { display: flex; justify-content: space-between; gap: 0.5rem; font-weight: 600; }
    .failure { color: #8a1c12; }
    .success { color: #14532d; }
    .meta { color: #374151; word-break: break-all; }
    .error { color: #8a1c12; font-weight: 600; }
  `;

  client: CardlineClient | null = null;
  #verify: AuditVerification | null = null;
  #events: AuditEvent[] = [];
  #next: number | null = null;
  #query: AuditQuery = {};
  #error: string | null = null;
  #searched = false;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
  }

  async #guard(fn: (c: CardlineClient) => Promise<void>): Promise<void> {
    const c = this.client;
    if (c === null) return;
    try {
      await fn(c);
      this.#error = null;
    } catch (err) {
      this.#error = errorText(err instanceof ApiError ? err.code : 'network-error');
    }
    this.requestUpdate();
  }

  async #load(): Promise<void> {
    await this.#guard(async (c) => { this.#verify = await c.auditVerify(); });
    await this.#search({});
  }

  async #search(q: AuditQuery, append = false): Promise<void> {
    await this.#guard(async (c) => {
      const r = await c.auditEvents({ ...q, limit: PAGE });
      this.#events = append ? [...this.#events, ...r.events] : r.events;
      this.#next = r.nextAfterSeq;
      this.#query = q;
      this.#searched = true;
    });
  }

  #onSubmit(e: SubmitEvent): void {
    e.preventDefault();
    const f = e.currentTarget as HTMLFormElement;
    const v = (name: string) => {
      const el = f.elements.namedItem(name);
      return el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el.value.trim() : '';
    };
    const q: AuditQuery = {};
    if (v('action') !== '') q.action = v('action');
    if (v('actorId') !== '') q.actorId = v('actorId');
    const outcome = v('outcome');
    if (outcome === 'success' || outcome === 'failure' || outcome === 'denied') q.outcome = outcome;
    // date inputs are local days; the API takes instants
    if (v('from') !== '') q.from = new Date(`${v('from')}T00:00:00`).toISOString();
    if (v('to') !== '') q.to = new Date(`${v('to')}T23:59:59.999`).toISOString();
    void this.#search(q);
  }

  #verifyView(): TemplateResult {
    const r = this.#verify;
    if (r === null) return html`<p class="verify" role="status">Checking the audit chain…</p>`;
    if (r.ok) {
      return html`<p class="verify ok" role="status" data-testid="verify">Audit chain verified: ${r.records} records, ${r.checkpoints} sealed checkpoints${r.unsealed > 0 ? `, ${r.unsealed} records not yet sealed` : ''}</p>`;
    }
    const b = r.firstBroken;
    return html`<p class="verify bad" role="alert" data-testid="verify">Audit chain BROKEN${b !== null ? ` at record ${b.seq}: ${b.reason}` : ''}</p>`;
  }

  #row(e: AuditEvent): TemplateResult {
    return html`<li data-seq=${e.seq}>
      <div class="top"><span>${e.action}</span><span class=${e.outcome === 'success' ? 'success' : 'failure'}>${e.outcome}</span></div>
      <div class="meta">#${e.seq} · ${new Date(e.at).toLocaleString('en-GB')} · ${e.actorName ?? e.actorId ?? e.actorKind}${e.targetId !== null ? ` → ${e.targetKind ?? ''} ${e.targetId}` : ''}${e.ip !== null ? ` · ${e.ip}` : ''}</div>
    </li>`;
  }

  override render(): TemplateResult {
    const c = this.client;
    return html`<section aria-labelledby="audit-h">
      <h1 id="audit-h" tabindex="-1">Audit trail</h1>
      ${this.#verifyView()}
      ${this.#error !== null ? html`<p class="error" role="alert">${this.#error}</p>` : nothing}
      <form @submit=${(e: SubmitEvent) => this.#onSubmit(e)} aria-label="Search the audit trail">
        <div class="grid">
          <div><label for="action">Action or prefix</label><input id="action" name="action" placeholder="auth." maxlength="64"></div>
          <div><label for="outcome">Outcome</label>
            <select id="outcome" name="outcome"><option value="">Any</option><option value="success">Success</option><option value="failure">Failure</option><option value="denied">Denied</option></select></div>
          <div><label for="from">From</label><input id="from" name="from" type="date"></div>
          <div><label for="to">To</label><input id="to" name="to" type="date"></div>
        </div>
        <label for="actorId">Actor ID</label><input id="actorId" name="actorId" maxlength="128">
        <button type="submit">Search</button>
      </form>
      ${c !== null ? html`<div class="links">
        <a href=${c.auditExportUrl(this.#query, 'csv')} download="cardline-audit.csv">Export CSV</a>
        <a href=${c.auditExportUrl(this.#query, 'jsonl')} download="cardline-audit.jsonl">Export JSON lines</a>
      </div>` : nothing}
      <h2 id="results-h">Results <span role="status">${this.#searched ? `(${this.#events.length}${this.#next !== null ? '+' : ''})` : ''}</span></h2>
      <ol aria-labelledby="results-h">${this.#events.map((e) => this.#row(e))}</ol>
      ${this.#next !== null ? html`<button type="button" class="secondary" @click=${() => { void this.#search({ ...this.#query, afterSeq: this.#next ?? undefined }, true); }}>More results</button>` : nothing}
    </section>`;
  }
}
