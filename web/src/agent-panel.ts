import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import {
  ApiError, CardlineClient, type CardField, type ConsoleUser, type GatewayCall, type MaskedField, type MaskedSession, type SessionEvent,
} from './api-client.ts';
import { LiveStream, type StreamState } from './live-stream.ts';
import { BackOffice } from './back-office.ts';
import {
  FIELD_LABELS, STATE_LABELS, brandName, errorText, formatAmount, parseAmount, rowState,
} from './messages.ts';

type View = 'loading' | 'login' | 'mfa' | 'embed-ended' | 'new' | 'live' | 'result' | 'board' | 'audit' | 'users' | 'no-view';

/** Where each role lands after sign-in: agents take payments, supervisors watch their team, auditors search the trail,
 * admins manage users. */
function landing(u: ConsoleUser): View {
  return u.role === 'agent' ? 'new' : u.role === 'supervisor' ? 'board' : u.role === 'auditor' ? 'audit' : u.role === 'admin' ? 'users' : 'no-view';
}

// the role pages (supervisor, admin, auditor) live in the back office, rendered by the panel
if (customElements.get('cardline-back-office') === undefined) customElements.define('cardline-back-office', BackOffice);

/** `sip:alice@example.com;tag=…` → `alice@example.com`: what the agent recognises. */
function sipUser(uri: string): string {
  return uri.replace(/^<|>$/g, '').replace(/^sips?:/i, '').replace(/[;?].*$/, '');
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'expired']);

/** Keyboard shortcuts (Alt + key, by physical key so they work on any layout); shown beside each button. */
export const SHORTCUTS = {
  pay: { code: 'KeyP', label: 'Alt+P' },
  cancel: { code: 'KeyX', label: 'Alt+X' },
  newPayment: { code: 'KeyN', label: 'Alt+N' },
  signOut: { code: 'KeyL', label: 'Alt+L' },
  refreshCalls: { code: 'KeyR', label: 'Alt+R' },
  /** re-capture the n-th field: Alt+1 … Alt+4 */
  recapture: ['Digit1', 'Digit2', 'Digit3', 'Digit4'],
} as const;

/**
 * `<cardline-agent-panel>`: the agent's side panel. Sign in (password, then TOTP), start a secure payment for a
 * call, follow the caller's keypad entry live (masked events over WebSocket), re-capture, cancel, Pay, result.
 * Works from 320 px wide so it fits a CRM side bar. State is kept in plain fields and rendered on `#set`, so no
 * decorators or class-field/accessor interplay is needed.
 */
export class AgentPanel extends LitElement {
  static override styles = css`
    :host { display: block; max-width: 30rem; margin: 0 auto; padding: 0.75rem; box-sizing: border-box; font-size: 1rem; line-height: 1.4; }
    * { box-sizing: border-box; }
    h1 { font-size: 1.2rem; margin: 0 0 0.75rem; }
    h2 { font-size: 1.05rem; margin: 0 0 0.5rem; }
    h1:focus, h2:focus { outline: none; }
    header { display: flex; justify-content: space-between; align-items: center; gap: 0.5rem; margin-bottom: 0.75rem; }
    header p { margin: 0; font-size: 0.9rem; color: #3b4252; }
    form, .card { background: #fff; border: 1px solid #c9ced6; border-radius: 8px; padding: 0.75rem; }
    label { display: block; font-weight: 600; margin: 0.5rem 0 0.2rem; }
    input, select { width: 100%; font: inherit; padding: 0.45rem 0.5rem; border: 1px solid #6b7280; border-radius: 6px; color: #1d2330; background: #fff; }
    input:focus-visible, select:focus-visible, button:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
    .row2 { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 0.5rem; }
    .row2 > div { min-width: 0; }
    button { font: inherit; font-weight: 600; padding: 0.5rem 0.75rem; border-radius: 6px; border: 1px solid #1d2330; background: #fff; color: #1d2330; cursor: pointer; }
    button.primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
    button.danger { border-color: #b42318; color: #b42318; }
    button[disabled] { opacity: 1; background: #e5e7eb; border-color: #9ca3af; color: #4b5563; cursor: not-allowed; }
    kbd { font: 0.75rem ui-monospace, monospace; border: 1px solid currentColor; border-radius: 3px; padding: 0 0.2rem; margin-left: 0.3rem; }
    .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.75rem; }
    .alert { margin: 0.5rem 0; padding: 0.5rem 0.6rem; border-radius: 6px; background: #fdecea; color: #8a1c12; border: 1px solid #b42318; font-weight: 600; }
    .alert:empty { display: none; }
    .fields { list-style: none; margin: 0; padding: 0; }
    .field { background: #fff; border: 1px solid #c9ced6; border-radius: 8px; padding: 0.6rem; margin-bottom: 0.5rem; }
    .field.current { border-color: #1d4ed8; box-shadow: 0 0 0 1px #1d4ed8; }
    .field-head { display: flex; justify-content: space-between; align-items: center; gap: 0.5rem; }
    .field-name { font-weight: 600; }
    .badge { font-size: 0.8rem; font-weight: 700; padding: 0.1rem 0.45rem; border-radius: 999px; border: 1px solid; white-space: nowrap; }
    .badge.waiting, .badge.skipped { color: #374151; border-color: #6b7280; background: #f3f4f6; }
    .badge.entering { color: #1e3a8a; border-color: #1d4ed8; background: #e0e7ff; }
    .badge.valid { color: #14532d; border-color: #15803d; background: #dcfce7; }
    .badge.invalid { color: #7f1d1d; border-color: #b42318; background: #fee2e2; }
    .badge.re-capture { color: #713f12; border-color: #a16207; background: #fef9c3; }
    .dots { font-size: 1.3rem; letter-spacing: 0.15rem; min-height: 1.6rem; word-break: break-all; color: #1d2330; }
    .meta { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0.5rem; font-size: 0.9rem; color: #374151; }
    .field-error { color: #8a1c12; font-weight: 600; font-size: 0.9rem; margin: 0.25rem 0 0; }
    .small { font-size: 0.8rem; padding: 0.25rem 0.5rem; }
    .open { margin-top: 0.75rem; }
    fieldset.calls { border: 1px solid #c9ced6; border-radius: 6px; margin: 0; padding: 0.25rem 0.6rem 0.5rem; }
    legend { font-weight: 600; padding: 0 0.25rem; }
    label.call { display: flex; gap: 0.5rem; align-items: flex-start; font-weight: 400; margin: 0.35rem 0; word-break: break-all; }
    label.call input { width: auto; margin-top: 0.3rem; }
    label.call.mine strong { color: #14532d; }
    .call-meta { display: block; font-size: 0.85rem; color: #374151; }
    .calls-empty { margin: 0.25rem 0; color: #374151; }
    .calls-actions { margin-top: 0.25rem; }
    .open-item { display: flex; justify-content: space-between; align-items: center; gap: 0.5rem; padding: 0.3rem 0; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 0.75rem; margin: 0; }
    dt { font-weight: 600; }
    dd { margin: 0; word-break: break-all; }
    .link { margin: 0; }
    .link.down { margin: 0.5rem 0; padding: 0.45rem 0.6rem; border-radius: 6px; background: #fef9c3; color: #713f12; border: 1px solid #a16207; font-weight: 600; }
    .ok { color: #14532d; }
    .bad { color: #8a1c12; }
    .sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
  `;

  #client = new CardlineClient();
  #view: View = 'loading';
  #user: ConsoleUser | null = null;
  #session: MaskedSession | null = null;
  #error: string | null = null;
  #busy = false;
  #stream: LiveStream | null = null;
  /** the live stream's state: 'reconnecting' (and 'connecting' after a drop) is shown to the agent */
  #link: { state: StreamState; attempt: number } = { state: 'closed', attempt: 0 };
  /** the agent's own payments still open (after a reload or a second tab) */
  #open: MaskedSession[] = [];
  /** answered calls from the gateway, the agent's own first; null = no gateway here (a call id is typed) */
  #calls: GatewayCall[] | null = null;
  /** the call picked for the next payment (preselected: the agent's current call) */
  #pick: string | null = null;
  /** ids of the calls to the agent's own SIP identity */
  #mine: ReadonlySet<string> = new Set();
  #callsTimer: ReturnType<typeof setInterval> | null = null;
  #noGateway = false;
  #focusPending = true;
  readonly #onKey = (e: KeyboardEvent) => { this.#shortcut(e); };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.#onKey);
    void this.#restore();
  }

  override disconnectedCallback(): void {
    window.removeEventListener('keydown', this.#onKey);
    this.#stopCalls();
    this.#closeStream();
    super.disconnectedCallback();
  }

  /** test and embedding hook: the masked session shown (null before a payment starts) */
  get session(): MaskedSession | null { return this.#session; }
  get view(): View { return this.#view; }

  #set(patch: { view?: View; user?: ConsoleUser | null; session?: MaskedSession | null; error?: string | null; busy?: boolean }): void {
    if (patch.user !== undefined) this.#user = patch.user;
    if (patch.session !== undefined) this.#session = patch.session;
    if (patch.error !== undefined) this.#error = patch.error;
    if (patch.busy !== undefined) this.#busy = patch.busy;
    if (patch.view !== undefined && patch.view !== this.#view) {
      this.#view = patch.view;
      this.#focusPending = true;
      if (patch.view === 'new') { void this.#loadOpen(); this.#startCalls(); } else this.#stopCalls();
    }
    this.requestUpdate();
  }

  override updated(): void {
    if (!this.#focusPending) return;
    this.#focusPending = false;
    // focus order: each screen starts at its first input, or at its heading when it has none
    const target = this.renderRoot.querySelector<HTMLElement>('[data-autofocus]') ?? this.renderRoot.querySelector<HTMLElement>('h1, h2');
    target?.focus();
  }

  async #restore(): Promise<void> {
    if (/\/embed$/.test(location.pathname)) { await this.#embedSignIn(); return; }
    try {
      const me = await this.#client.me();
      this.#set({ user: me.user, view: me.stage === 'full' ? landing(me.user) : me.stage === 'mfa-pending' ? 'mfa' : 'login' });
    } catch {
      this.#set({ view: 'login' });
    }
  }

  /**
   * The embedded panel (`/console/embed#token=…` in a CRM's iframe): the one-time token leaves the address bar at
   * once (history.replaceState), then becomes a bearer session held in memory. No password form here: in a
   * cross-site frame a cookie sign-in would not stick, and the desktop signed the agent in already.
   */
  async #embedSignIn(): Promise<void> {
    const token = new URLSearchParams(location.hash.slice(1)).get('token');
    history.replaceState(null, '', location.pathname + location.search);
    if (token === null || token === '') { this.#set({ view: 'embed-ended', error: 'This panel link has no sign-in token — open the panel again from your desktop' }); return; }
    try {
      const user = await this.#client.embedSignIn(token);
      this.#set({ user, view: landing(user) });
    } catch (err) {
      const code = err instanceof ApiError ? err.code : 'network-error';
      this.#set({ view: 'embed-ended', error: code === 'network-error' ? 'Cardline cannot be reached — check the connection' : 'This panel link has expired or was already used — open the panel again from your desktop' });
    }
  }

  /** Where a sign-in that ended sends the agent: the form, or (embedded) the note to reopen the panel. */
  #signedOutView(): View {
    return this.#client.embedded ? 'embed-ended' : 'login';
  }

  /** Runs one API action with a busy flag; its error becomes the plain-words message. */
  async #act(fn: () => Promise<void>): Promise<void> {
    if (this.#busy) return;
    this.#set({ busy: true, error: null });
    try {
      await fn();
    } catch (err) {
      const code = err instanceof ApiError ? err.code : 'network-error';
      if (code === 'unauthenticated') { this.#closeStream(); this.#set({ view: this.#signedOutView(), user: null, session: null }); }
      this.#set({ error: code === 'network-error' ? 'Cardline cannot be reached — check the connection' : errorText(code) });
    } finally {
      this.#set({ busy: false });
    }
  }

  #value(form: HTMLFormElement, name: string): string {
    const el = form.elements.namedItem(name);
    return el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el.value.trim() : '';
  }

  #onLogin(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const username = this.#value(form, 'username');
    const passwordEl = form.elements.namedItem('password') as HTMLInputElement;
    void this.#act(async () => {
      const r = await this.#client.login(username, passwordEl.value);
      passwordEl.value = '';
      if (r.stage === 'enrolment') {
        this.#set({ error: 'Set up your authenticator app first (ask an admin), then sign in again' });
        return;
      }
      this.#set({ user: r.user, view: r.stage === 'full' ? landing(r.user) : 'mfa' });
    });
  }

  #onMfa(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const code = this.#value(form, 'code');
    void this.#act(async () => {
      const r = await this.#client.verifyMfa(code);
      this.#set({ user: r.user, view: landing(r.user) });
    });
  }

  #onCreate(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const currency = this.#value(form, 'currency').toUpperCase();
    const amountMinor = parseAmount(this.#value(form, 'amount'), currency);
    if (amountMinor === null) { this.#set({ error: 'Type the amount as a number, e.g. 19.99' }); return; }
    const reference = this.#value(form, 'reference');
    // a gateway call picked from the list is bound to the session; a typed call id is not (no gateway here)
    const picked = this.#calls !== null && this.#pick !== null && this.#calls.some((c) => c.id === this.#pick) ? this.#pick : null;
    const callId = picked ?? this.#value(form, 'callId');
    if (callId === '') { this.#set({ error: 'Pick the call to take the payment for' }); return; }
    const input = { callId, merchantId: this.#value(form, 'merchantId'), amountMinor, currency, reference: reference === '' ? null : reference };
    void this.#act(async () => {
      const s = await this.#client.createSession(input);
      if (picked !== null) {
        try {
          // secure mode on, bound to this session: from now on the caller's keypad reaches only this payment
          await this.#client.bindCall(picked, s.id);
        } catch (err) {
          // not bound, so no digit would ever arrive: end the payment rather than leave it waiting
          await this.#client.cancel(s.id).catch(() => undefined);
          throw err;
        }
      }
      this.#set({ session: s, view: 'live' });
      this.#openStream(s.id);
    });
  }

  /** The gateway's answered calls, the agent's own first (matched by SIP identity on the server: ?mine=1). */
  async #loadCalls(): Promise<void> {
    const shape = (c: GatewayCall[] | null) => (c === null || c.length === 0 ? 'typed' : 'list');
    const before = shape(this.#calls);
    if (this.#noGateway) return;
    try {
      const all = await this.#client.listCalls();
      // no gateway on this server: asked once per page (a 404 each time would only fill the browser console)
      if (all === null) { this.#noGateway = true; this.#stopCalls(); this.#calls = null; this.requestUpdate(); return; }
      const mine = new Set((await this.#client.listCalls(true) ?? []).map((c) => c.id));
      const answered = all.filter((c) => c.state === 'answered' && (c.paymentSessionId === null || !c.secure));
      answered.sort((a, b) => Number(mine.has(b.id)) - Number(mine.has(a.id)) || (a.answeredAt ?? '').localeCompare(b.answeredAt ?? ''));
      this.#calls = answered;
      this.#mine = mine;
      // keep the agent's own choice; else preselect its current call
      if (this.#pick === null || !answered.some((c) => c.id === this.#pick)) this.#pick = answered.find((c) => mine.has(c.id))?.id ?? null;
    } catch {
      this.#calls = null;
    }
    this.requestUpdate();
    // the list replacing the typed call id (or the reverse) removes the focused input: focus the new first one
    await this.updateComplete;
    if (this.#view === 'new' && before !== shape(this.#calls) && (this.shadowRoot?.activeElement ?? null) === null) this.renderRoot.querySelector<HTMLElement>('[data-autofocus]')?.focus();
  }

  /** The list follows the calls while the form is shown (a call may be answered while the agent types). */
  #startCalls(): void {
    this.#stopCalls();
    this.#pick = null;
    if (this.#noGateway) return;
    void this.#loadCalls();
    this.#callsTimer = setInterval(() => { void this.#loadCalls(); }, 5000);
  }

  #stopCalls(): void {
    if (this.#callsTimer !== null) clearInterval(this.#callsTimer);
    this.#callsTimer = null;
  }

  async #loadOpen(): Promise<void> {
    this.#open = [];
    try {
      const all = await this.#client.listSessions(20);
      this.#open = all.filter((x) => !TERMINAL.has(x.state) && x.createdBy === this.#user?.id);
    } catch {
      this.#open = [];
    }
    this.requestUpdate();
  }

  #resume(s: MaskedSession): void {
    this.#set({ session: s, view: 'live', error: null });
    this.#openStream(s.id);
  }

  #openStream(id: string): void {
    this.#closeStream();
    this.#stream = new LiveStream(this.#client.events(id), {
      onMessage: (data) => {
        const ev = data as Partial<SessionEvent>;
        if (ev.session !== undefined && ev.session.id === id) this.#apply(ev.session);
      },
      onState: (state, attempt) => {
        this.#link = { state, attempt };
        this.requestUpdate();
        // a drop that outlives a few retries may be a sign-in that ended (the upgrade is refused): ask once per try
        if (state === 'reconnecting' && attempt >= 3) void this.#checkSignedIn();
      },
    });
  }

  async #checkSignedIn(): Promise<void> {
    try {
      await this.#client.me();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'unauthenticated') {
        this.#closeStream();
        this.#set({ view: this.#signedOutView(), user: null, session: null, error: errorText('csrf-failed') });
      }
    }
  }

  #closeStream(): void {
    const s = this.#stream;
    this.#stream = null;
    s?.stop();
    this.#link = { state: 'closed', attempt: 0 };
  }

  /** Newest state wins: command answers and stream events may cross. */
  #apply(s: MaskedSession): void {
    const cur = this.#session;
    if (cur !== null && (cur.id !== s.id || s.updatedAt < cur.updatedAt)) return;
    this.#set({ session: s });
    if (TERMINAL.has(s.state) && this.#view === 'live') {
      this.#closeStream();
      this.#set({ view: 'result', error: null });
    }
  }

  #recapture(field: CardField): void {
    const s = this.#session;
    if (s === null || this.#view !== 'live') return;
    void this.#act(async () => { this.#apply(await this.#client.capture(s.id, field)); });
  }

  #pay(): void {
    const s = this.#session;
    if (s === null || s.state !== 'ready' || this.#view !== 'live') return;
    void this.#act(async () => { this.#apply(await this.#client.submit(s.id)); });
  }

  #cancel(): void {
    const s = this.#session;
    if (s === null || this.#view !== 'live') return;
    void this.#act(async () => { this.#apply(await this.#client.cancel(s.id)); });
  }

  #newPayment(): void {
    if (this.#view !== 'result') return;
    this.#closeStream();
    this.#set({ session: null, view: 'new', error: null });
  }

  #signOut(): void {
    if (this.#user === null) return;
    void this.#act(async () => {
      this.#closeStream();
      await this.#client.logout();
      this.#set({ user: null, session: null, view: this.#signedOutView() });
    });
  }

  #shortcut(e: KeyboardEvent): void {
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    const fields = this.#session?.fields ?? [];
    const n = (SHORTCUTS.recapture as readonly string[]).indexOf(e.code);
    let handled = true;
    if (e.code === SHORTCUTS.pay.code) this.#pay();
    else if (e.code === SHORTCUTS.cancel.code) this.#cancel();
    else if (e.code === SHORTCUTS.newPayment.code) this.#newPayment();
    else if (e.code === SHORTCUTS.signOut.code) this.#signOut();
    else if (e.code === SHORTCUTS.refreshCalls.code && this.#view === 'new') void this.#loadCalls();
    else if (n >= 0 && fields[n] !== undefined) this.#recapture(fields[n].field);
    else handled = false;
    if (handled) e.preventDefault();
  }

  override render(): TemplateResult {
    return html`<main>
      ${this.#header()}
      <div class="alert" role="alert">${this.#error ?? ''}</div>
      ${this.#body()}
    </main>`;
  }

  #header(): TemplateResult | typeof nothing {
    const u = this.#user;
    if (u === null || this.#view === 'login' || this.#view === 'mfa') return nothing;
    return html`<header>
      <p>Signed in as <strong>${u.displayName ?? u.username}</strong></p>
      <button type="button" class="small" aria-keyshortcuts="Alt+L" @click=${() => this.#signOut()}>Sign out<kbd>${SHORTCUTS.signOut.label}</kbd></button>
    </header>`;
  }

  #body(): TemplateResult {
    switch (this.#view) {
      case 'loading': return html`<p role="status">Loading…</p>`;
      case 'embed-ended': return html`<section aria-labelledby="ended-h"><h1 id="ended-h" tabindex="-1">Cardline payment panel</h1>
        <p>You are not signed in to this panel. Open it again from your desktop.</p></section>`;
      case 'login': return this.#loginView();
      case 'mfa': return this.#mfaView();
      case 'new': return this.#newView();
      case 'live': return this.#liveView();
      case 'result': return this.#resultView();
      case 'board':
      case 'audit':
      case 'users': return html`<cardline-back-office .client=${this.#client} .userRole=${this.#user?.role ?? 'agent'}></cardline-back-office>`;
      case 'no-view': return html`<section aria-labelledby="none-h"><h1 id="none-h" tabindex="-1">No console page for your role yet</h1>
        <p>Signed in as ${this.#user?.role ?? 'unknown'}. Use the API or the command line for now.</p></section>`;
    }
  }

  #loginView(): TemplateResult {
    return html`<form @submit=${(e: SubmitEvent) => this.#onLogin(e)} aria-labelledby="login-h">
      <h1 id="login-h" tabindex="-1">Sign in to Cardline</h1>
      <label for="username">Username</label>
      <input id="username" name="username" autocomplete="username" required maxlength="128" data-autofocus>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
      <div class="actions"><button class="primary" type="submit" ?disabled=${this.#busy}>Sign in</button></div>
    </form>`;
  }

  #mfaView(): TemplateResult {
    return html`<form @submit=${(e: SubmitEvent) => this.#onMfa(e)} aria-labelledby="mfa-h">
      <h1 id="mfa-h" tabindex="-1">Authentication code</h1>
      <label for="code">6-digit code from your authenticator app</label>
      <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required data-autofocus>
      <div class="actions"><button class="primary" type="submit" ?disabled=${this.#busy}>Verify</button></div>
    </form>`;
  }

  #newView(): TemplateResult {
    const merchant = this.#user?.merchantId ?? '';
    return html`<form @submit=${(e: SubmitEvent) => this.#onCreate(e)} aria-labelledby="new-h">
      <h1 id="new-h" tabindex="-1">New secure payment</h1>
      ${this.#callPicker()}
      <div class="row2">
        <div><label for="amount">Amount</label><input id="amount" name="amount" inputmode="decimal" required maxlength="16"></div>
        <div><label for="currency">Currency</label>
          <select id="currency" name="currency"><option>GBP</option><option>EUR</option><option>USD</option></select></div>
      </div>
      <label for="reference">Reference (optional)</label>
      <input id="reference" name="reference" maxlength="128">
      <label for="merchantId">Merchant</label>
      <input id="merchantId" name="merchantId" required maxlength="128" .value=${merchant} ?readonly=${merchant !== ''}>
      <div class="actions"><button class="primary" type="submit" ?disabled=${this.#busy}>Start secure payment</button></div>
    </form>
    ${this.#open.length > 0 ? html`<section class="card open" aria-labelledby="open-h">
      <h2 id="open-h">Open payments</h2>
      <ul class="fields">${this.#open.map((o) => html`<li class="open-item">
        <span>Call ${o.callId} · ${formatAmount(o.amountMinor, o.currency)}</span>
        <button type="button" class="small" @click=${() => this.#resume(o)}>Resume <span class="sr-only">call ${o.callId}</span></button>
      </li>`)}</ul>
    </section>` : nothing}`;
  }

  /**
   * With a gateway: its answered calls as radio buttons, "Your current call" first and preselected, a refresh
   * button (Alt+R). Without one (or no call answered yet): the call id typed by hand.
   */
  #callPicker(): TemplateResult {
    const calls = this.#calls;
    const typed = html`<label for="callId">Call ID</label>
      <input id="callId" name="callId" required maxlength="128" pattern="[A-Za-z0-9][A-Za-z0-9_.:@+\\-]*" data-autofocus>`;
    if (calls === null) return typed;
    const refresh = html`<button type="button" class="small" aria-keyshortcuts="Alt+R" @click=${() => { void this.#loadCalls(); }}>Refresh calls<kbd>${SHORTCUTS.refreshCalls.label}</kbd></button>`;
    if (calls.length === 0) {
      return html`<p class="calls-empty" data-testid="no-calls">No answered call right now — type the call ID, or refresh when the call is answered.</p>
        <div class="actions calls-actions">${refresh}</div>${typed}`;
    }
    return html`<fieldset class="calls">
      <legend>Call</legend>
      ${calls.map((c, i) => {
        const mine = this.#mine.has(c.id);
        return html`<label class="call ${mine ? 'mine' : ''}" data-call=${c.id}>
          <input type="radio" name="pick" .value=${c.id} .checked=${this.#pick === c.id} ?data-autofocus=${this.#pick === c.id || (this.#pick === null && i === 0)}
            @change=${() => { this.#pick = c.id; this.requestUpdate(); }}>
          <span><strong>${mine ? 'Your current call' : 'Call'}</strong> from ${sipUser(c.caller)}
            <span class="call-meta">to ${sipUser(c.agent)}${c.answeredAt !== null ? html` · since ${c.answeredAt.slice(11, 16)}` : nothing}</span></span>
        </label>`;
      })}
      <div class="actions calls-actions">${refresh}</div>
    </fieldset>`;
  }

  #currentError(s: MaskedSession): string | null {
    const cur = s.fields.find((f) => f.field === s.currentField);
    return errorText(s.errorCode ?? cur?.errorCode ?? null);
  }

  #fieldRow(f: MaskedField, i: number, s: MaskedSession): TemplateResult {
    const state = rowState(f);
    const id = `f-${f.field}`;
    const isCard = f.field === 'card-number';
    const brand = isCard ? brandName(s.brand) : null;
    const attempt = Math.min(f.attempts + 1, f.maxAttempts);
    const key = `Alt+${i + 1}`;
    return html`<li class="field ${s.currentField === f.field ? 'current' : ''}" aria-labelledby=${id} data-field=${f.field} data-state=${state}>
      <div class="field-head">
        <span class="field-name" id=${id}>${FIELD_LABELS[f.field]}</span>
        <span class="badge ${state}">${STATE_LABELS[state]}</span>
      </div>
      <div class="dots" data-testid="dots"><span aria-hidden="true">${'•'.repeat(f.digitCount)}</span><span class="sr-only">${f.digitCount} digits entered</span></div>
      <div class="meta">
        ${brand !== null ? html`<span data-testid="brand">${brand}</span>` : nothing}
        ${isCard && s.last4 !== null && f.state === 'valid' ? html`<span data-testid="last4">Ends ${s.last4}</span>` : nothing}
        ${f.state !== 'valid' ? html`<span data-testid="attempts">Attempt ${attempt} of ${f.maxAttempts}</span>` : nothing}
      </div>
      <!-- the current field's error is the panel's current error, above; older fields keep theirs here -->
      ${f.errorCode !== null && f.state === 'invalid' && s.currentField !== f.field ? html`<p class="field-error">${errorText(f.errorCode)}</p>` : nothing}
      <div class="actions">
        <button type="button" class="small" aria-keyshortcuts=${key} ?disabled=${this.#busy}
          @click=${() => this.#recapture(f.field)}>Re-capture <span class="sr-only">${FIELD_LABELS[f.field]}</span><kbd>${key}</kbd></button>
      </div>
    </li>`;
  }

  /** after a drop, until the next snapshot arrives */
  #reconnecting(): boolean {
    const l = this.#link;
    return l.state === 'reconnecting' || (l.state === 'connecting' && l.attempt > 0);
  }

  #liveView(): TemplateResult {
    const s = this.#session;
    if (s === null) return html`<p>No payment</p>`;
    const ready = s.state === 'ready';
    const err = this.#currentError(s);
    return html`<section aria-labelledby="live-h">
      <h1 id="live-h" tabindex="-1">Secure payment ${formatAmount(s.amountMinor, s.currency)}</h1>
      <p>Call ${s.callId}${s.reference !== null ? html` · Ref ${s.reference}` : nothing}</p>
      <p class="link ${this.#reconnecting() ? 'down' : ''}" role="status" data-testid="connection">${this.#reconnecting() ? 'Connection lost — reconnecting to live updates…' : ''}</p>
      <p role="status" data-testid="status">${ready ? 'All details captured — press Pay' : s.state === 'submitting' ? 'Paying…' : s.currentField !== null ? `The caller is typing: ${FIELD_LABELS[s.currentField]}` : 'Waiting for the caller'}</p>
      <p class="field-error" role="status" data-testid="current-error">${err ?? ''}</p>
      <ol class="fields">${s.fields.map((f, i) => this.#fieldRow(f, i, s))}</ol>
      <div class="actions">
        <button type="button" class="primary" aria-keyshortcuts="Alt+P" ?disabled=${!ready || this.#busy} @click=${() => this.#pay()}>Pay<kbd>${SHORTCUTS.pay.label}</kbd></button>
        <button type="button" class="danger" aria-keyshortcuts="Alt+X" ?disabled=${this.#busy} @click=${() => this.#cancel()}>Cancel payment<kbd>${SHORTCUTS.cancel.label}</kbd></button>
      </div>
    </section>`;
  }

  #resultView(): TemplateResult {
    const s = this.#session;
    if (s === null) return html`<p>No payment</p>`;
    const r = s.result;
    const ok = s.state === 'succeeded';
    const title = ok ? 'Payment successful' : s.state === 'cancelled' ? 'Payment cancelled' : s.state === 'expired' ? 'Payment timed out' : 'Payment failed';
    const reason = errorText(r?.errorCode ?? s.errorCode);
    return html`<section class="card" aria-labelledby="result-h">
      <h1 id="result-h" tabindex="-1" class=${ok ? 'ok' : 'bad'}>${title}</h1>
      ${!ok && reason !== null ? html`<p class="field-error">${reason}</p>` : nothing}
      <dl>
        <dt>Amount</dt><dd data-testid="amount">${formatAmount(s.amountMinor, s.currency)}</dd>
        <dt>Card</dt><dd data-testid="card">${s.last4 !== null ? `${brandName(s.brand) ?? 'Card'} ending ${s.last4}` : '—'}</dd>
        ${r?.token ? html`<dt>Token</dt><dd data-testid="token">${r.token}</dd>` : nothing}
        ${r?.authorizationCode ? html`<dt>Authorisation</dt><dd data-testid="auth-code">${r.authorizationCode}</dd>` : nothing}
        ${r?.connectorReference ? html`<dt>Reference</dt><dd data-testid="reference">${r.connectorReference}</dd>` : nothing}
        <dt>Session</dt><dd>${s.id}</dd>
      </dl>
      <div class="actions"><button type="button" class="primary" aria-keyshortcuts="Alt+N" @click=${() => this.#newPayment()}>New payment<kbd>${SHORTCUTS.newPayment.label}</kbd></button></div>
    </section>`;
  }
}
