import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, type CardlineClient, type MaskedSession } from './api-client.ts';
import { FIELD_LABELS, brandName, errorText, formatAmount } from './messages.ts';

const ACTIVE = new Set(['created', 'capturing', 'ready', 'submitting']);
const STATE_WORDS: Readonly<Record<string, string>> = {
  created: 'Starting', capturing: 'Capturing', ready: 'Ready to pay', submitting: 'Paying', succeeded: 'Succeeded',
  failed: 'Failed', cancelled: 'Cancelled', expired: 'Timed out',
};

/**
 * `<cardline-supervisor-board>`: the team's secure sessions (the API scopes `GET /v1/sessions` to the supervisor's
 * team), masked like everything else: state, amount, brand and last four, the field being typed, failure reasons.
 * Refreshed by polling (`pollMs`, default 2 s): one request for the whole board instead of a socket per session.
 */
export class SupervisorBoard extends LitElement {
  static override styles = css`
    :host { display: block; }
    h1 { font-size: 1.2rem; margin: 0 0 0.5rem; }
    h1:focus { outline: none; }
    .summary { display: flex; gap: 0.75rem; flex-wrap: wrap; margin: 0 0 0.75rem; font-weight: 600; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { background: #fff; border: 1px solid #c9ced6; border-radius: 8px; padding: 0.6rem; margin-bottom: 0.5rem; }
    .top { display: flex; justify-content: space-between; gap: 0.5rem; font-weight: 600; }
    .meta { font-size: 0.9rem; color: #374151; display: flex; flex-wrap: wrap; gap: 0.2rem 0.75rem; }
    .state { white-space: nowrap; }
    .state.succeeded { color: #14532d; }
    .state.failed, .state.expired { color: #8a1c12; }
    .reason { color: #8a1c12; font-size: 0.9rem; margin: 0.25rem 0 0; font-weight: 600; }
    .empty { color: #374151; }
  `;

  client: CardlineClient | null = null;
  pollMs = 2000;
  #sessions: MaskedSession[] = [];
  #error: string | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #loaded = false;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#poll();
  }

  override disconnectedCallback(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    super.disconnectedCallback();
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
  }

  async #poll(): Promise<void> {
    if (!this.isConnected) return;
    const client = this.client;
    if (client !== null) {
      try {
        this.#sessions = await client.listSessions(50);
        this.#error = null;
        this.#loaded = true;
      } catch (err) {
        this.#error = errorText(err instanceof ApiError ? err.code : 'network-error');
      }
      this.requestUpdate();
    }
    if (this.isConnected) this.#timer = setTimeout(() => { void this.#poll(); }, this.pollMs);
  }

  #row(s: MaskedSession): TemplateResult {
    const reason = s.state === 'failed' || s.state === 'expired' ? errorText(s.result?.errorCode ?? s.errorCode) : null;
    const typing = s.state === 'capturing' && s.currentField !== null ? FIELD_LABELS[s.currentField] : null;
    return html`<li data-session=${s.id} data-state=${s.state}>
      <div class="top"><span>Call ${s.callId}</span><span class="state ${s.state}">${STATE_WORDS[s.state] ?? s.state}</span></div>
      <div class="meta">
        <span>${formatAmount(s.amountMinor, s.currency)}</span>
        ${s.last4 !== null ? html`<span>${brandName(s.brand) ?? 'Card'} ending ${s.last4}</span>` : nothing}
        ${typing !== null ? html`<span>Typing: ${typing}</span>` : nothing}
        <span>Agent ${s.createdBy ?? '—'}</span>
        <span>${new Date(s.createdAt).toLocaleTimeString('en-GB')}</span>
      </div>
      ${reason !== null ? html`<p class="reason">${reason}</p>` : nothing}
    </li>`;
  }

  override render(): TemplateResult {
    const active = this.#sessions.filter((s) => ACTIVE.has(s.state)).length;
    const ok = this.#sessions.filter((s) => s.state === 'succeeded').length;
    const bad = this.#sessions.filter((s) => s.state === 'failed' || s.state === 'expired').length;
    return html`<section aria-labelledby="board-h">
      <h1 id="board-h" tabindex="-1">Team payments</h1>
      ${this.#error !== null ? html`<p class="reason" role="alert">${this.#error}</p>` : nothing}
      <p class="summary" role="status" aria-live="polite">
        <span>${active} in progress</span><span>${ok} succeeded</span><span>${bad} failed</span>
      </p>
      ${this.#loaded && this.#sessions.length === 0 ? html`<p class="empty">No payments yet.</p>` : nothing}
      <ul aria-label="Recent payments">${this.#sessions.map((s) => this.#row(s))}</ul>
    </section>`;
  }
}
