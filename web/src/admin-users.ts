import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { AdminUser, CardlineClient, UserRole } from './api-client.ts';
import { problemText } from './back-office-kit.ts';

/**
 * `<cardline-admin-users>`: the admin's user list with its everyday actions: reset a user's MFA (they enrol again
 * at next sign-in), disable / enable an account, clear a login lockout, set a new password (their sessions end). A reset asks for a second press on the same
 * button ("Confirm reset") instead of a modal dialog, so it stays keyboard- and screen-reader-friendly.
 * The API enforces scope and refuses an admin disabling itself.
 */
const ROLES: readonly UserRole[] = ['agent', 'supervisor', 'admin', 'auditor'];

export class AdminUsers extends LitElement {
  static override styles = css`
    :host { display: block; }
    h1 { font-size: 1.2rem; margin: 0 0 0.5rem; }
    h1:focus { outline: none; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { background: #fff; border: 1px solid #c9ced6; border-radius: 8px; padding: 0.6rem; margin-bottom: 0.5rem; }
    .top { display: flex; justify-content: space-between; gap: 0.5rem; font-weight: 600; }
    .meta { font-size: 0.9rem; color: #374151; display: flex; flex-wrap: wrap; gap: 0.2rem 0.75rem; }
    .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.5rem; }
    button { font: inherit; font-size: 0.85rem; font-weight: 600; padding: 0.3rem 0.6rem; border-radius: 6px; border: 1px solid #1d2330; background: #fff; color: #1d2330; cursor: pointer; }
    button.confirm { border-color: #b42318; background: #b42318; color: #fff; }
    button:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
    .off { color: #8a1c12; }
    form.new { background: #fff; border: 1px solid #c9ced6; border-radius: 8px; padding: 0.6rem; margin-bottom: 0.6rem; }
    form.new h2 { font-size: 1rem; margin: 0 0 0.3rem; }
    form.new label { display: block; font-size: 0.9rem; font-weight: 600; margin: 0.3rem 0 0.15rem; }
    form.new input, form.new select, .top select { width: 100%; box-sizing: border-box; font: inherit; font-size: 0.9rem; padding: 0.3rem 0.4rem; border: 1px solid #6b7280; border-radius: 6px; background: #fff; color: #1d2330; }
    .top select { width: auto; }
    form.new .grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 0.5rem; }
    form.new .grid > div { min-width: 0; }
    button.primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
    select:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
    form.sip, form.pw { margin-top: 0.4rem; }
    form.sip label, form.pw label { display: block; font-size: 0.85rem; font-weight: 600; }
    .inline { display: flex; gap: 0.4rem; }
    .inline input { flex: 1; min-width: 0; font: inherit; font-size: 0.9rem; padding: 0.3rem 0.4rem; border: 1px solid #6b7280; border-radius: 6px; }
    input:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
    .error { color: #8a1c12; font-weight: 600; }
    .note { color: #14532d; font-weight: 600; }
    .sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
  `;

  client: CardlineClient | null = null;
  #users: AdminUser[] = [];
  #confirming: string | null = null;
  #error: string | null = null;
  #note = '';

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#run(async () => { /* first load */ });
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
  }

  /** one action, then the list again */
  async #run(fn: (c: CardlineClient) => Promise<void>): Promise<void> {
    const c = this.client;
    if (c === null) return;
    try {
      await fn(c);
      this.#users = await c.listUsers();
      this.#error = null;
    } catch (err) {
      this.#error = problemText(err);
    }
    this.requestUpdate();
  }

  #create(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const v = (name: string) => {
      const el = form.elements.namedItem(name);
      return el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el.value.trim() : '';
    };
    const pw = form.elements.namedItem('password');
    const password = pw instanceof HTMLInputElement ? pw.value : '';
    if (pw instanceof HTMLInputElement) pw.value = '';
    const role = ROLES.find((r) => r === v('role')) ?? 'agent';
    const optional = (k: 'displayName' | 'merchantId' | 'teamId') => (v(k) === '' ? {} : { [k]: v(k) });
    void this.#run(async (c) => {
      const u = await c.createUser({ username: v('username'), password, role, ...optional('displayName'), ...optional('merchantId'), ...optional('teamId') });
      form.reset();
      this.#note = `${u.username} created as ${u.role}: hand the password over out of band; they enrol their authenticator at first sign-in`;
    });
  }

  #setRole(e: Event, u: AdminUser): void {
    const role = ROLES.find((r) => r === (e.currentTarget as HTMLSelectElement).value);
    if (role === undefined || role === u.role) return;
    this.#confirming = null;
    void this.#run(async (c) => { await c.updateUser(u.id, { role }); this.#note = `${u.username} is now ${role}; their sessions have ended`; });
  }

  #newUserForm(): TemplateResult {
    return html`<form class="new" @submit=${(e: SubmitEvent) => this.#create(e)} aria-labelledby="new-user-h">
      <h2 id="new-user-h">New user</h2>
      <div class="grid">
        <div><label for="nu-username">Username</label><input id="nu-username" name="username" required minlength="2" maxlength="64" autocomplete="off"></div>
        <div><label for="nu-role">Role</label><select id="nu-role" name="role">${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select></div>
        <div><label for="nu-display">Display name (optional)</label><input id="nu-display" name="displayName" maxlength="128"></div>
        <div><label for="nu-password">Initial password</label><input id="nu-password" name="password" type="password" required autocomplete="new-password" maxlength="1024"></div>
        <div><label for="nu-merchant">Merchant (optional)</label><input id="nu-merchant" name="merchantId" maxlength="128"></div>
        <div><label for="nu-team">Team (optional)</label><input id="nu-team" name="teamId" maxlength="128"></div>
      </div>
      <div class="actions"><button type="submit" class="primary">Create user</button></div>
    </form>`;
  }

  #resetMfa(u: AdminUser): void {
    if (this.#confirming !== u.id) {
      this.#confirming = u.id;
      this.#note = '';
      this.requestUpdate();
      return;
    }
    this.#confirming = null;
    void this.#run(async (c) => { await c.resetMfa(u.id); this.#note = `MFA reset for ${u.username}: they enrol again at their next sign-in`; });
  }

  #toggle(u: AdminUser): void {
    this.#confirming = null;
    void this.#run(async (c) => {
      await c.setUserDisabled(u.id, !u.disabled);
      this.#note = `${u.username} ${u.disabled ? 'enabled' : 'disabled'}`;
    });
  }

  #unlock(u: AdminUser): void {
    this.#confirming = null;
    void this.#run(async (c) => { await c.unlockUser(u.id); this.#note = `${u.username} unlocked: they can try to sign in again`; });
  }

  /** an admin-set password (handed over out of band); the user's sessions end */
  #setPassword(e: SubmitEvent, u: AdminUser): void {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('password');
    if (!(input instanceof HTMLInputElement) || input.value === '') return;
    const password = input.value;
    input.value = '';
    this.#confirming = null;
    void this.#run(async (c) => { await c.setUserPassword(u.id, password); this.#note = `New password set for ${u.username}; their sessions have ended`; });
  }

  #passwordForm(u: AdminUser): TemplateResult {
    const id = `pw-${u.id}`;
    return html`<form class="pw" @submit=${(e: SubmitEvent) => this.#setPassword(e, u)}>
      <label for=${id}>New password <span class="sr-only">for ${u.username}</span></label>
      <div class="inline">
        <input id=${id} name="password" type="password" autocomplete="new-password" maxlength="1024">
        <button type="submit">Set password<span class="sr-only"> for ${u.username}</span></button>
      </div>
    </form>`;
  }

  #saveSip(e: SubmitEvent, u: AdminUser): void {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('sip');
    const v = input instanceof HTMLInputElement ? input.value.trim() : '';
    this.#confirming = null;
    void this.#run(async (c) => {
      const saved = await c.setUserSipUri(u.id, v === '' ? null : v);
      this.#note = saved.sipUri === null ? `${u.username} has no SIP identity` : `${u.username}'s SIP identity is ${saved.sipUri}`;
    });
  }

  /** agents only: the SIP identity their calls are matched by ("Your current call") */
  #sipForm(u: AdminUser): TemplateResult | typeof nothing {
    if (u.role !== 'agent') return nothing;
    const id = `sip-${u.id}`;
    return html`<form class="sip" @submit=${(e: SubmitEvent) => this.#saveSip(e, u)}>
      <label for=${id}>SIP identity <span class="sr-only">of ${u.username}</span></label>
      <div class="inline">
        <input id=${id} name="sip" .value=${u.sipUri ?? ''} placeholder="sip:alice@pbx.example.com" maxlength="256" autocomplete="off">
        <button type="submit">Save <span class="sr-only">SIP identity of ${u.username}</span></button>
      </div>
    </form>`;
  }

  #row(u: AdminUser): TemplateResult {
    return html`<li data-user=${u.username}>
      <div class="top"><span>${u.displayName ?? u.username}</span>
        <span><label class="role" for=${`role-${u.id}`}><span class="sr-only">Role of ${u.username}</span></label>
          <select id=${`role-${u.id}`} @change=${(e: Event) => this.#setRole(e, u)}>${ROLES.map((r) => html`<option value=${r} ?selected=${r === u.role}>${r}</option>`)}</select></span></div>
      <div class="meta">
        <span>${u.username}</span>
        ${u.teamId !== null ? html`<span>Team ${u.teamId}</span>` : nothing}
        <span>MFA ${u.mfaEnrolled ? 'enrolled' : u.mfaRequired ? 'required, not enrolled' : 'off'}</span>
        ${u.disabled ? html`<span class="off">Disabled</span>` : nothing}
      </div>
      ${this.#sipForm(u)}
      ${this.#passwordForm(u)}
      <div class="actions">
        <button type="button" class=${this.#confirming === u.id ? 'confirm' : ''} @click=${() => this.#resetMfa(u)}>
          ${this.#confirming === u.id ? 'Confirm reset' : 'Reset MFA'} <span class="sr-only">for ${u.username}</span></button>
        <button type="button" @click=${() => this.#toggle(u)}>${u.disabled ? 'Enable' : 'Disable'}<span class="sr-only"> ${u.username}</span></button>
        <button type="button" @click=${() => this.#unlock(u)}>Unlock<span class="sr-only"> ${u.username}</span></button>
      </div>
    </li>`;
  }

  override render(): TemplateResult {
    return html`<section aria-labelledby="users-h">
      <h1 id="users-h" tabindex="-1">Users</h1>
      ${this.#error !== null ? html`<p class="error" role="alert">${this.#error}</p>` : nothing}
      <p class="note" role="status">${this.#note}</p>
      ${this.#newUserForm()}
      <ul aria-label="Users">${this.#users.map((u) => this.#row(u))}</ul>
    </section>`;
  }
}
