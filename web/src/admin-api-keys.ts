import { html, nothing, type TemplateResult } from 'lit';
import type { ApiKey, CardlineClient, IssuedApiKey } from './api-client.ts';
import { BackOfficePage } from './back-office-kit.ts';

/** What an API key may be granted (the server's SERVICE_GRANTABLE), in words. */
const GRANTS: readonly (readonly [string, string])[] = [
  ['sessions:read', 'Read masked sessions'],
  ['sessions:write', 'Create and run sessions'],
  ['sessions:digits', 'Feed keypad digits (media layer, IVR)'],
  ['reports:read', 'Read billing reports'],
];

/**
 * `<cardline-api-keys>`: machine-client keys. Create (name, permissions, merchant) and rotate show the new key
 * ONCE: it lives only in this element's memory until the admin dismisses it or leaves the page; the server keeps
 * only its hash and never returns it again. Rotate and revoke ask for a second press (no modal dialog).
 */
export class AdminApiKeys extends BackOfficePage {
  #keys: ApiKey[] = [];
  #issued: IssuedApiKey | null = null;
  #confirming: string | null = null;

  protected async load(c: CardlineClient): Promise<void> {
    this.#keys = await c.listApiKeys();
  }

  #create(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const permissions = GRANTS.map(([p]) => p).filter((p) => this.checked(form, `perm-${p}`));
    const merchant = this.field(form, 'merchantId');
    const name = this.field(form, 'name');
    if (permissions.length === 0) { this.error = 'Choose at least one permission'; this.requestUpdate(); return; }
    void this.guard(async (c) => {
      this.#issued = await c.createApiKey({ name, permissions, ...(merchant !== '' ? { merchantId: merchant } : {}) });
      this.note = '';
      form.reset();
      await this.load(c);
    }).then(() => this.#focusIssued());
  }

  #twice(k: ApiKey, what: 'rotate' | 'revoke'): boolean {
    const tag = `${what}:${k.id}`;
    if (this.#confirming === tag) { this.#confirming = null; return true; }
    this.#confirming = tag;
    this.requestUpdate();
    return false;
  }

  #rotate(k: ApiKey): void {
    if (!this.#twice(k, 'rotate')) return;
    void this.guard(async (c) => {
      this.#issued = await c.rotateApiKey(k.id);
      await this.load(c);
    }).then(() => this.#focusIssued());
  }

  #revoke(k: ApiKey): void {
    if (!this.#twice(k, 'revoke')) return;
    void this.guard(async (c) => {
      await c.revokeApiKey(k.id);
      this.note = `Key "${k.name}" revoked`;
      await this.load(c);
    });
  }

  #focusIssued(): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#issued-h')?.focus());
  }

  #dismiss(): void {
    this.#issued = null;
    this.note = 'The new key is no longer shown';
    this.requestUpdate();
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('h1')?.focus());
  }

  #issuedView(): TemplateResult | typeof nothing {
    const i = this.#issued;
    if (i === null) return nothing;
    return html`<section class="card" aria-labelledby="issued-h" data-testid="issued">
      <h2 id="issued-h" tabindex="-1">New key for "${i.apiKey.name}" — copy it now</h2>
      <p>This is the only time Cardline shows it; only its hash is kept.</p>
      <p><code data-testid="new-key">${i.key}</code></p>
      <div class="actions"><button type="button" class="primary" @click=${() => this.#dismiss()}>I have stored the key</button></div>
    </section>`;
  }

  #row(k: ApiKey): TemplateResult {
    const live = k.status === 'active' || k.status === 'expiring';
    return html`<li class="card" data-key=${k.name}>
      <div class="top"><span>${k.name}</span><span class=${live ? 'ok' : 'bad'}>${k.status}</span></div>
      <div class="meta">
        <span><code>${k.prefix}…</code></span>
        <span>${k.permissions.join(', ')}</span>
        ${k.merchantId !== null ? html`<span>Merchant ${k.merchantId}</span>` : nothing}
        <span>Created ${new Date(k.createdAt).toLocaleDateString('en-GB')}</span>
        <span>${k.lastUsedAt !== null ? `Last used ${new Date(k.lastUsedAt).toLocaleString('en-GB')}` : 'Never used'}</span>
        ${k.expiresAt !== null ? html`<span>Expires ${new Date(k.expiresAt).toLocaleString('en-GB')}</span>` : nothing}
      </div>
      ${live ? html`<div class="actions">
        ${k.status === 'active' ? html`<button type="button" class=${this.#confirming === `rotate:${k.id}` ? 'confirm' : ''} @click=${() => this.#rotate(k)}>
          ${this.#confirming === `rotate:${k.id}` ? 'Confirm rotate' : 'Rotate'}<span class="sr-only"> key ${k.name}</span></button>` : nothing}
        <button type="button" class=${this.#confirming === `revoke:${k.id}` ? 'confirm' : ''} @click=${() => this.#revoke(k)}>
          ${this.#confirming === `revoke:${k.id}` ? 'Confirm revoke' : 'Revoke'}<span class="sr-only"> key ${k.name}</span></button>
      </div>` : nothing}
    </li>`;
  }

  override render(): TemplateResult {
    return html`<section aria-labelledby="keys-h">
      <h1 id="keys-h" tabindex="-1">API keys</h1>
      <p class="error" role="alert">${this.error ?? ''}</p>
      <p class="note" role="status">${this.note}</p>
      ${this.#issuedView()}
      <form @submit=${(e: SubmitEvent) => this.#create(e)} aria-labelledby="new-key-h">
        <h2 id="new-key-h">New API key</h2>
        <label for="key-name">Name</label>
        <input id="key-name" name="name" required maxlength="100" placeholder="IVR node 1">
        <fieldset><legend>Permissions</legend>
          ${GRANTS.map(([p, words]) => html`<label><input type="checkbox" name=${`perm-${p}`} ?checked=${p !== 'reports:read'}> ${words} <code>${p}</code></label>`)}
        </fieldset>
        <label for="key-merchant">Merchant (optional)</label>
        <input id="key-merchant" name="merchantId" maxlength="128" pattern="[A-Za-z0-9][A-Za-z0-9_.:@+\\-]*">
        <div class="actions"><button type="submit" class="primary">Create key</button></div>
      </form>
      <h2 id="keys-list-h">Keys</h2>
      <ul class="list" aria-labelledby="keys-list-h">${this.#keys.map((k) => this.#row(k))}</ul>
    </section>`;
  }
}
