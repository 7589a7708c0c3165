import { html, nothing, type TemplateResult } from 'lit';
import { ApiError, type CardlineClient, type MaskingPolicy, type MaskingPolicyView } from './api-client.ts';
import { BackOfficePage, problemText } from './back-office-kit.ts';

const MODES: readonly (readonly [MaskingPolicy['maskMode'], string])[] = [
  ['tone', 'Neutral tone (the agent hears that a key was pressed, not which)'],
  ['silence', 'Silence'],
  ['noise', 'Comfort noise'],
];

/**
 * `<cardline-masking-policy>`: what the media gateway does to the caller's key presses on NEW calls — the
 * replacement sound, secure mode on every call from answer, and the agent-side trigger sequences that turn secure
 * mode on and off (e.g. `#388*` / `#388#`). The server validates the sequences (2–16 DTMF keys, different, neither a
 * prefix of the other); its reason is shown next to the sequence fields (aria-invalid + aria-describedby).
 */
export class AdminMasking extends BackOfficePage {
  #view: MaskingPolicyView | null = null;
  #useTriggers = false;
  #triggerError: string | null = null;

  protected async load(c: CardlineClient): Promise<void> {
    this.#view = await c.maskingPolicy();
    this.#useTriggers = this.#view.policy.triggers !== null;
  }

  #save(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const mode = MODES.map(([m]) => m).find((m) => this.checked(form, `mode-${m}`)) ?? 'tone';
    const policy: MaskingPolicy = {
      secureByDefault: this.checked(form, 'secureByDefault'),
      maskMode: mode,
      triggers: this.#useTriggers ? { start: this.field(form, 'start'), end: this.field(form, 'end') } : null,
    };
    this.#triggerError = null;
    void this.guard(async (c) => {
      try {
        this.#view = await c.setMaskingPolicy(policy);
        this.note = 'Masking policy saved: it applies to calls that start from now on';
      } catch (err) {
        // a fault in the sequences belongs next to them
        if (err instanceof ApiError && err.code === 'settings-invalid' && policy.triggers !== null) {
          this.#triggerError = problemText(err);
          this.note = '';
          return;
        }
        throw err;
      }
    }).then(() => {
      if (this.#triggerError !== null) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#start')?.focus());
    });
  }

  #toggleTriggers(e: Event): void {
    this.#useTriggers = (e.currentTarget as HTMLInputElement).checked;
    this.#triggerError = null;
    this.requestUpdate();
  }

  override render(): TemplateResult {
    const v = this.#view;
    const p = v?.policy;
    const bad = this.#triggerError !== null;
    return html`<section aria-labelledby="mask-h">
      <h1 id="mask-h" tabindex="-1">Masking policy</h1>
      <p class="error" role="alert">${this.error ?? ''}</p>
      <p class="note" role="status">${this.note}</p>
      ${v !== null && p !== undefined ? html`<form @submit=${(e: SubmitEvent) => this.#save(e)} aria-labelledby="mask-h" novalidate>
        <p class="hint" data-testid="policy-source">${v.source === 'config' ? 'Using the configured defaults (not saved here yet)' : `Saved ${v.updatedAt !== null ? new Date(v.updatedAt).toLocaleString('en-GB') : ''}`}</p>
        <fieldset><legend>What replaces a key press</legend>
          ${MODES.map(([m, words]) => html`<label><input type="radio" name="mode" id=${`mode-${m}`} value=${m} .checked=${p.maskMode === m}> ${words}</label>`)}
        </fieldset>
        <label class="check"><input type="checkbox" name="secureByDefault" .checked=${p.secureByDefault}> Secure mode on every call (from answer to hang-up)</label>
        <label class="check"><input type="checkbox" name="useTriggers" .checked=${this.#useTriggers} @change=${(e: Event) => this.#toggleTriggers(e)}> Agents switch secure mode with key sequences</label>
        ${this.#useTriggers ? html`<div class="grid">
          <div><label for="start">Start sequence</label>
            <input id="start" name="start" .value=${p.triggers?.start ?? ''} maxlength="16" placeholder="#388*" autocomplete="off"
              aria-invalid=${bad ? 'true' : 'false'} aria-describedby="trigger-hint${bad ? ' trigger-error' : ''}"></div>
          <div><label for="end">End sequence</label>
            <input id="end" name="end" .value=${p.triggers?.end ?? ''} maxlength="16" placeholder="#388#" autocomplete="off"
              aria-invalid=${bad ? 'true' : 'false'} aria-describedby="trigger-hint${bad ? ' trigger-error' : ''}"></div>
        </div>
        <p class="hint" id="trigger-hint">2–16 keys from 0–9, A–D, * and #; the two must differ and neither may start the other.</p>
        ${bad ? html`<p class="error" id="trigger-error" data-testid="trigger-error">${this.#triggerError}</p>` : nothing}` : nothing}
        <div class="actions"><button type="submit" class="primary">Save policy</button></div>
      </form>` : nothing}
    </section>`;
  }
}
