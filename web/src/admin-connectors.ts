import { html, nothing, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import type { CardlineClient, ConnectorSetting, ConnectorSettingInputT } from './api-client.ts';
import { BackOfficePage } from './back-office-kit.ts';

type ConnectorType = ConnectorSetting['type'];
const TYPES: readonly (readonly [ConnectorType, string])[] = [
  ['sandbox', 'Sandbox (test cards, no money moves)'],
  ['webhook', 'Webhook (your own payment endpoint, signed requests)'],
  ['stripe', 'Stripe'],
];
/** the write-only field of each type, in words */
const SECRET_LABEL: Readonly<Record<ConnectorType, readonly (readonly [string, string])[]>> = {
  sandbox: [],
  webhook: [['secret', 'Signing secret']],
  stripe: [['apiKey', 'Secret API key']],
};

/**
 * `<cardline-connectors>`: the payment connector per merchant (`*` = everyone without their own). Secrets are
 * write-only: the page shows "set" / "not set" (and at most the last four characters), the password-type field
 * starts empty, an empty field keeps the saved secret, and the field is cleared as soon as the save answers.
 */
export class AdminConnectors extends BackOfficePage {
  #list: ConnectorSetting[] = [];
  #editing: ConnectorSetting | null = null;
  #type: ConnectorType = 'sandbox';
  #merchant = '*';
  /** a new key renders a fresh form (nothing typed survives a switch of connector or a save) */
  #formKey = 0;

  protected async load(c: CardlineClient): Promise<void> {
    this.#list = await c.listConnectors();
  }

  #edit(s: ConnectorSetting | null): void {
    this.#editing = s;
    this.#type = s?.type ?? 'sandbox';
    this.#merchant = s?.merchantId ?? '';
    this.error = null;
    this.note = '';
    this.#formKey++;
    this.requestUpdate();
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(s === null ? '#conn-merchant' : '#conn-type')?.focus());
  }

  #input(form: HTMLFormElement): ConnectorSettingInputT {
    const int = (name: string): number | undefined => {
      const v = this.field(form, name);
      return v === '' ? undefined : Number(v);
    };
    const secret = (name: string): string | undefined => {
      const v = this.field(form, name);
      return v === '' ? undefined : v;
    };
    switch (this.#type) {
      case 'sandbox': return { type: 'sandbox', options: {} };
      case 'webhook': {
        const timeoutMs = int('timeoutMs');
        const s = secret('secret');
        return {
          type: 'webhook',
          options: { url: this.field(form, 'url'), ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(this.checked(form, 'allowInsecureHttp') ? { allowInsecureHttp: true } : {}) },
          ...(s !== undefined ? { secrets: { secret: s } } : {}),
        };
      }
      case 'stripe': {
        const s = secret('apiKey');
        const capture = this.field(form, 'captureMethod');
        return {
          type: 'stripe',
          options: { moto: this.checked(form, 'moto'), captureMethod: capture === 'manual' ? 'manual' : 'automatic' },
          ...(s !== undefined ? { secrets: { apiKey: s } } : {}),
        };
      }
    }
  }

  #save(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const merchant = this.field(form, 'merchant');
    const input = this.#input(form);
    // the secret leaves the DOM now, whatever the answer
    for (const el of form.querySelectorAll<HTMLInputElement>('input[type=password]')) el.value = '';
    void this.guard(async (c) => {
      const saved = await c.setConnector(merchant, input);
      this.note = `Connector for ${saved.merchantId === '*' ? 'all other merchants' : saved.merchantId} saved: new payments use it`;
      this.#editing = null;
      this.#type = 'sandbox';
      this.#merchant = '';
      this.#formKey++;
      await this.load(c);
    });
  }

  #remove(s: ConnectorSetting): void {
    void this.guard(async (c) => {
      await c.removeConnector(s.merchantId);
      this.note = `Saved connector for ${s.merchantId} removed: the configured one applies again`;
      await this.load(c);
    });
  }

  #secretWords(s: ConnectorSetting, field: string): string {
    const st = s.secrets[field];
    if (st === undefined || !st.set) return 'not set';
    return `set${st.last4 !== undefined ? ` (ends ${st.last4})` : ''}${st.updatedAt !== null ? `, ${new Date(st.updatedAt).toLocaleString('en-GB')}` : ''}`;
  }

  #row(s: ConnectorSetting): TemplateResult {
    return html`<li class="card" data-merchant=${s.merchantId}>
      <div class="top"><span>${s.merchantId === '*' ? 'Default (all other merchants)' : `Merchant ${s.merchantId}`}</span><span>${s.type}</span></div>
      <div class="meta">
        <span>${s.source === 'config' ? 'From the configuration file' : `Saved ${s.updatedAt !== null ? new Date(s.updatedAt).toLocaleString('en-GB') : ''}`}</span>
        ${Object.entries(s.options).map(([k, v]) => html`<span>${k}: ${String(v)}</span>`)}
        ${SECRET_LABEL[s.type].map(([f, words]) => html`<span data-testid="secret-state">${words}: ${this.#secretWords(s, f)}</span>`)}
      </div>
      <div class="actions">
        <button type="button" @click=${() => this.#edit(s)}>Edit<span class="sr-only"> connector of ${s.merchantId}</span></button>
        ${s.source === 'settings' ? html`<button type="button" @click=${() => this.#remove(s)}>Remove saved setting<span class="sr-only"> of ${s.merchantId}</span></button>` : nothing}
      </div>
    </li>`;
  }

  #form(): TemplateResult {
    const s = this.#editing;
    const o = s?.type === this.#type ? s.options : {};
    const str = (k: string) => (typeof o[k] === 'string' || typeof o[k] === 'number' ? String(o[k]) : '');
    return html`<form @submit=${(e: SubmitEvent) => this.#save(e)} aria-labelledby="conn-form-h" autocomplete="off">
      <h2 id="conn-form-h">${s === null ? 'Set a connector' : `Edit connector of ${s.merchantId}`}</h2>
      <label for="conn-merchant">Merchant ID, or * for the default</label>
      <input id="conn-merchant" name="merchant" required maxlength="128" .value=${this.#merchant} ?readonly=${s !== null}>
      <label for="conn-type">Connector</label>
      <select id="conn-type" name="type" @change=${(e: Event) => { this.#type = (e.currentTarget as HTMLSelectElement).value as ConnectorType; this.requestUpdate(); }}>
        ${TYPES.map(([t, words]) => html`<option value=${t} ?selected=${t === this.#type}>${words}</option>`)}
      </select>
      ${this.#type === 'webhook' ? html`
        <label for="conn-url">Endpoint URL</label><input id="conn-url" name="url" type="url" required maxlength="2048" .value=${str('url')} placeholder="https://pay.example.com/cardline">
        <label for="conn-timeout">Timeout per attempt (ms, optional)</label><input id="conn-timeout" name="timeoutMs" inputmode="numeric" pattern="[0-9]*" .value=${str('timeoutMs')}>
        <label class="check"><input type="checkbox" name="allowInsecureHttp" .checked=${o.allowInsecureHttp === true}> Allow plain http (a sidecar on this host only)</label>` : nothing}
      ${this.#type === 'stripe' ? html`
        <label class="check"><input type="checkbox" name="moto" .checked=${o.moto === true}> Mark payments as mail/telephone order (MOTO)</label>
        <label for="conn-capture">Capture</label>
        <select id="conn-capture" name="captureMethod"><option value="automatic">Automatic</option><option value="manual" ?selected=${o.captureMethod === 'manual'}>Manual (authorise only)</option></select>` : nothing}
      ${SECRET_LABEL[this.#type].map(([f, words]) => html`
        <label for=${`conn-${f}`}>${words} (write-only)</label>
        <input id=${`conn-${f}`} name=${f} type="password" autocomplete="new-password" maxlength="512" aria-describedby=${`conn-${f}-hint`}>
        <p class="hint" id=${`conn-${f}-hint`} data-testid="secret-hint">${s !== null && s.type === this.#type ? `Currently ${this.#secretWords(s, f)}. ` : ''}Leave empty to keep the saved value; Cardline never shows it again.</p>`)}
      <div class="actions">
        <button type="submit" class="primary">Save connector</button>
        ${s !== null ? html`<button type="button" @click=${() => this.#edit(null)}>New instead</button>` : nothing}
      </div>
    </form>`;
  }

  override render(): TemplateResult {
    return html`<section aria-labelledby="conn-h">
      <h1 id="conn-h" tabindex="-1">Payment connectors</h1>
      <p class="error" role="alert">${this.error ?? ''}</p>
      <p class="note" role="status">${this.note}</p>
      ${keyed(this.#formKey, this.#form())}
      <h2 id="conn-list-h">Connectors</h2>
      <ul class="list" aria-labelledby="conn-list-h">${this.#list.map((s) => this.#row(s))}</ul>
    </section>`;
  }
}
