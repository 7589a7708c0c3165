import { html, nothing, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import type { CardlineClient, PricePlan, PricePlanInput } from './api-client.ts';
import { BackOfficePage, minorText } from './back-office-kit.ts';

/** `"agent-assisted/succeeded = 30"` lines ⇄ the plan's fee map; null when a line is not `key = whole number`. */
export function parseFees(text: string): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^([a-z*-]+\/[a-z*]+)\s*=\s*([0-9]{1,12})$/.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) return null;
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function feesText(f: Readonly<Record<string, number>>): string {
  return Object.entries(f).map(([k, v]) => `${k} = ${v}`).join('\n');
}

/**
 * `<cardline-price-plans>`: price plans per merchant (`*` = the default): currency, per-minute price of masked
 * audio, monthly minimum and per-transaction fees keyed `<channel|*>/<succeeded|failed|*>`, all in minor units.
 * Uses the existing billing plan routes (list, put); the server validates and audits every change.
 */
export class AdminPlans extends BackOfficePage {
  #plans: PricePlan[] = [];
  #editing: PricePlan | null = null;
  #feesError: string | null = null;
  /** a new key renders a fresh form (nothing typed survives a switch of plan or a save) */
  #formKey = 0;

  protected async load(c: CardlineClient): Promise<void> {
    this.#plans = await c.listPlans();
  }

  #edit(p: PricePlan | null): void {
    this.#editing = p;
    this.#feesError = null;
    this.note = '';
    this.#formKey++;
    this.requestUpdate();
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(p === null ? '#plan-merchant' : '#plan-currency')?.focus());
  }

  #save(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const fees = parseFees(this.field(form, 'fees'));
    if (fees === null) {
      this.#feesError = 'Write one fee per line as channel/outcome = amount in minor units, e.g. agent-assisted/succeeded = 30';
      this.requestUpdate();
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#plan-fees')?.focus());
      return;
    }
    this.#feesError = null;
    const merchant = this.field(form, 'merchant');
    const plan: PricePlanInput = {
      currency: this.field(form, 'currency').toUpperCase(),
      perMinuteMinor: Number(this.field(form, 'perMinuteMinor')),
      monthlyMinimumMinor: Number(this.field(form, 'monthlyMinimumMinor')),
      transactionFees: fees,
    };
    void this.guard(async (c) => {
      const saved = await c.putPlan(merchant, plan);
      this.note = `Price plan for ${saved.merchantId === '*' ? 'the default' : saved.merchantId} saved`;
      this.#editing = null;
      this.#formKey++;
      await this.load(c);
    });
  }

  #row(p: PricePlan): TemplateResult {
    return html`<li class="card" data-plan=${p.merchantId}>
      <div class="top"><span>${p.merchantId === '*' ? 'Default plan' : `Merchant ${p.merchantId}`}</span><span>${p.currency}</span></div>
      <div class="meta">
        <span data-testid="per-minute">Per minute ${minorText(p.perMinuteMinor)}</span>
        <span>Monthly minimum ${minorText(p.monthlyMinimumMinor)}</span>
        ${Object.entries(p.transactionFees).map(([k, v]) => html`<span>${k}: ${minorText(v)}</span>`)}
        <span>Updated ${new Date(p.updatedAt).toLocaleString('en-GB')}</span>
      </div>
      <div class="actions"><button type="button" @click=${() => this.#edit(p)}>Edit<span class="sr-only"> plan ${p.merchantId}</span></button></div>
    </li>`;
  }

  override render(): TemplateResult {
    const p = this.#editing;
    const bad = this.#feesError !== null;
    return html`<section aria-labelledby="plans-h">
      <h1 id="plans-h" tabindex="-1">Price plans</h1>
      <p class="error" role="alert">${this.error ?? ''}</p>
      <p class="note" role="status">${this.note}</p>
      ${keyed(this.#formKey, html`<form @submit=${(e: SubmitEvent) => this.#save(e)} aria-labelledby="plan-form-h">
        <h2 id="plan-form-h">${p === null ? 'New price plan' : `Edit the plan of ${p.merchantId}`}</h2>
        <label for="plan-merchant">Merchant ID, or * for the default</label>
        <input id="plan-merchant" name="merchant" required maxlength="128" .value=${p?.merchantId ?? ''} ?readonly=${p !== null}>
        <div class="grid">
          <div><label for="plan-currency">Currency</label><input id="plan-currency" name="currency" required pattern="[A-Za-z]{3}" maxlength="3" .value=${p?.currency ?? 'GBP'}></div>
          <div><label for="plan-minute">Per minute (minor units)</label><input id="plan-minute" name="perMinuteMinor" required inputmode="numeric" pattern="[0-9]{1,12}" .value=${String(p?.perMinuteMinor ?? 0)}></div>
        </div>
        <label for="plan-minimum">Monthly minimum (minor units)</label>
        <input id="plan-minimum" name="monthlyMinimumMinor" required inputmode="numeric" pattern="[0-9]{1,12}" .value=${String(p?.monthlyMinimumMinor ?? 0)}>
        <label for="plan-fees">Transaction fees (minor units), one per line</label>
        <textarea id="plan-fees" name="fees" rows="4" aria-describedby="plan-fees-hint${bad ? ' plan-fees-error' : ''}" aria-invalid=${bad ? 'true' : 'false'} .value=${feesText(p?.transactionFees ?? { '*/*': 0 })}></textarea>
        <p class="hint" id="plan-fees-hint">channel (agent-assisted, ivr, pay-by-link or *) / outcome (succeeded, failed or *) = amount; the most specific line wins.</p>
        ${bad ? html`<p class="error" id="plan-fees-error">${this.#feesError}</p>` : nothing}
        <div class="actions">
          <button type="submit" class="primary">Save plan</button>
          ${p !== null ? html`<button type="button" @click=${() => this.#edit(null)}>New instead</button>` : nothing}
        </div>
      </form>`)}
      <h2 id="plans-list-h">Plans</h2>
      <ul class="list" aria-labelledby="plans-list-h">${this.#plans.map((x) => this.#row(x))}</ul>
    </section>`;
  }
}
