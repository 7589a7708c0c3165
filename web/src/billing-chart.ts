import { css, html, nothing, svg, type SVGTemplateResult, type TemplateResult } from 'lit';
import type { CardlineClient, DailyTransactions } from './api-client.ts';
import { BackOfficePage, pageStyles } from './back-office-kit.ts';

const DAY_MS = 86_400_000;
const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Chart geometry (SVG user units; the SVG scales to its box). */
const H = 220;
const TOP = 12;
const BOTTOM = 36;
const LEFT = 40;
const SLOT_MIN = 14;

/** A "nice" axis maximum ≥ v: 1, 2, 5 × 10^n. */
export function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** One sentence for screen readers: what the chart shows. */
export function chartSummary(d: DailyTransactions): string {
  const total = d.totals.succeeded + d.totals.failed;
  if (total === 0) return `No transactions from ${d.from} to ${d.to}.`;
  const busiest = d.days.reduce((a, b) => (b.succeeded + b.failed > a.succeeded + a.failed ? b : a));
  return `${total} transactions from ${d.from} to ${d.to} (${d.days.length} days): ${d.totals.succeeded} succeeded, ${d.totals.failed} failed. `
    + `Busiest day ${busiest.date} with ${busiest.succeeded + busiest.failed}.`;
}

/**
 * `<cardline-billing-chart>`: the auditor's billing view — transactions per UTC day, stacked by outcome (succeeded
 * below, failed above), drawn as inline SVG (no chart library). Accessible twice over: the SVG is one `role="img"`
 * with a title and a one-sentence summary, and the same numbers follow in a table. Date range picker (default: the
 * last 14 days) and a CSV export link for the same range (an audited export).
 */
export class BillingChart extends BackOfficePage {
  // adopted style sheets, not a <style> element: the console's CSP allows no inline style
  static override styles = [pageStyles, css`
        svg { width: 100%; height: auto; background: #fff; border: 1px solid #c9ced6; border-radius: 8px; }
        rect.ok, .key.ok { fill: #15803d; background: #15803d; }
        rect.fail, .key.fail { fill: #b42318; background: #b42318; }
        line.grid { stroke: #d1d5db; stroke-width: 1; }
        text.axis { font: 10px system-ui, sans-serif; fill: #374151; }
        figure { margin: 0 0 0.6rem; }
        figcaption { font-size: 0.9rem; display: flex; align-items: center; gap: 0.35rem; margin-top: 0.3rem; }
        .key { display: inline-block; width: 0.9rem; height: 0.9rem; border-radius: 2px; }
        table { border-collapse: collapse; width: 100%; background: #fff; font-size: 0.9rem; }
        caption { text-align: left; font-weight: 600; margin-bottom: 0.3rem; }
        th, td { border: 1px solid #c9ced6; padding: 0.25rem 0.4rem; text-align: right; }
        th[scope=row], thead th:first-child { text-align: left; }
  `];
  #data: DailyTransactions | null = null;
  #from = utcDay(Date.now() - 13 * DAY_MS);
  #to = utcDay(Date.now());

  protected async load(c: CardlineClient): Promise<void> {
    this.#data = await c.billingDaily(this.#from, this.#to);
  }

  #show(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const from = this.field(form, 'from');
    const to = this.field(form, 'to');
    if (from === '' || to === '' || from > to) { this.error = 'Choose a start day on or before the end day'; this.requestUpdate(); return; }
    this.#from = from;
    this.#to = to;
    void this.guard((c) => this.load(c));
  }

  #chart(d: DailyTransactions): TemplateResult {
    const n = d.days.length;
    const slot = Math.max(SLOT_MIN, Math.floor(600 / Math.max(n, 1)));
    const W = LEFT + n * slot + 8;
    const max = niceMax(Math.max(...d.days.map((x) => x.succeeded + x.failed), 0));
    const plotH = H - TOP - BOTTOM;
    const y = (v: number) => TOP + plotH - (v / max) * plotH;
    const bar = Math.max(4, Math.floor(slot * 0.7));
    const every = Math.max(1, Math.ceil(n / 10));
    const ticks = [0, max / 2, max];
    const bars: SVGTemplateResult[] = [];
    d.days.forEach((day, i) => {
      const x = LEFT + i * slot + (slot - bar) / 2;
      if (day.succeeded > 0) {
        bars.push(svg`<rect class="ok" data-day=${day.date} data-outcome="succeeded" x=${x} y=${y(day.succeeded)} width=${bar} height=${y(0) - y(day.succeeded)}><title>${day.date}: ${day.succeeded} succeeded</title></rect>`);
      }
      if (day.failed > 0) {
        const top = day.succeeded + day.failed;
        bars.push(svg`<rect class="fail" data-day=${day.date} data-outcome="failed" x=${x} y=${y(top)} width=${bar} height=${y(day.succeeded) - y(top)}><title>${day.date}: ${day.failed} failed</title></rect>`);
      }
      if (i % every === 0) bars.push(svg`<text class="axis" x=${LEFT + i * slot + slot / 2} y=${H - BOTTOM + 14} text-anchor="middle">${day.date.slice(5)}</text>`);
    });
    return html`<figure>
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" data-testid="chart" preserveAspectRatio="xMinYMin meet">
        <title id="chart-title">Transactions per day, succeeded and failed</title>
        <desc id="chart-desc">${chartSummary(d)}</desc>
        ${ticks.map((t) => svg`<line class="grid" x1=${LEFT} x2=${W - 4} y1=${y(t)} y2=${y(t)}></line><text class="axis" x=${LEFT - 4} y=${y(t) + 4} text-anchor="end">${Number.isInteger(t) ? t : t.toFixed(1)}</text>`)}
        ${bars}
      </svg>
      <figcaption><span class="key ok" aria-hidden="true"></span> Succeeded <span class="key fail" aria-hidden="true"></span> Failed</figcaption>
    </figure>`;
  }

  #table(d: DailyTransactions): TemplateResult {
    return html`<table data-testid="daily-table">
      <caption>Transactions per day (UTC)</caption>
      <thead><tr><th scope="col">Day</th><th scope="col">Succeeded</th><th scope="col">Failed</th><th scope="col">Total</th></tr></thead>
      <tbody>${d.days.map((x) => html`<tr data-day=${x.date}><th scope="row">${x.date}</th><td>${x.succeeded}</td><td>${x.failed}</td><td>${x.succeeded + x.failed}</td></tr>`)}</tbody>
      <tfoot><tr><th scope="row">All days</th><td>${d.totals.succeeded}</td><td>${d.totals.failed}</td><td>${d.totals.succeeded + d.totals.failed}</td></tr></tfoot>
    </table>`;
  }

  override render(): TemplateResult {
    const d = this.#data;
    const c = this.client;
    return html`<section aria-labelledby="bill-h">
      <h1 id="bill-h" tabindex="-1">Billing: transactions per day</h1>
      <p class="error" role="alert">${this.error ?? ''}</p>
      <form @submit=${(e: SubmitEvent) => this.#show(e)} aria-label="Date range">
        <div class="grid">
          <div><label for="bill-from">From (UTC day)</label><input id="bill-from" name="from" type="date" required .value=${this.#from}></div>
          <div><label for="bill-to">To (UTC day)</label><input id="bill-to" name="to" type="date" required .value=${this.#to}></div>
        </div>
        <div class="actions"><button type="submit" class="primary">Show</button></div>
      </form>
      ${c !== null ? html`<p><a href=${c.billingDailyCsvUrl(this.#from, this.#to)} download>Export CSV (${this.#from} to ${this.#to})</a></p>` : nothing}
      ${d !== null ? html`<p role="status" data-testid="chart-summary">${chartSummary(d)}</p>${this.#chart(d)}${this.#table(d)}` : html`<p role="status">Loading…</p>`}
    </section>`;
  }
}
