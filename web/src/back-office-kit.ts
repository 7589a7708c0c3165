import { LitElement, css, type CSSResultGroup } from 'lit';
import { ApiError, type CardlineClient } from './api-client.ts';
import { errorText } from './messages.ts';

/** Codes whose server message names the field at fault (never a secret): shown as they are. */
const SAY_AS_IS = new Set(['settings-invalid', 'invalid-request', 'usage', 'weak-password', 'invalid-config', 'user-exists']);

/** An API failure in plain words for the back-office pages. */
export function problemText(err: unknown): string {
  if (!(err instanceof ApiError)) return 'Cardline cannot be reached — check the connection';
  if (SAY_AS_IS.has(err.code)) return err.message;
  return errorText(err.code) ?? err.message;
}

/** `minor` units → "12.34" (2 decimals; display only). */
export function minorText(minor: number): string {
  return (minor / 100).toFixed(2);
}

/** Shared look of the back-office pages: cards, forms, buttons, alerts, focus rings (WCAG 2.2 AA contrast). */
export const pageStyles = css`
  :host { display: block; }
  h1 { font-size: 1.2rem; margin: 0 0 0.5rem; }
  h1:focus { outline: none; }
  h2 { font-size: 1rem; margin: 0.75rem 0 0.4rem; }
  .card, form { background: #fff; border: 1px solid #c9ced6; border-radius: 8px; padding: 0.6rem 0.75rem; margin-bottom: 0.6rem; }
  label, legend { display: block; font-weight: 600; margin: 0.4rem 0 0.2rem; }
  fieldset { border: 1px solid #c9ced6; border-radius: 6px; margin: 0.4rem 0; padding: 0.3rem 0.6rem 0.5rem; }
  fieldset label { font-weight: 400; display: flex; gap: 0.4rem; align-items: center; margin: 0.2rem 0; }
  input:not([type=checkbox]):not([type=radio]), select, textarea { width: 100%; box-sizing: border-box; font: inherit; padding: 0.4rem 0.5rem; border: 1px solid #6b7280; border-radius: 6px; background: #fff; color: #1d2330; }
  input[aria-invalid=true] { border-color: #b42318; border-width: 2px; }
  input:focus-visible, select:focus-visible, textarea:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
  .check { display: flex; gap: 0.4rem; align-items: center; font-weight: 600; margin: 0.5rem 0 0.2rem; }
  .grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 0.5rem; }
  .grid > div { min-width: 0; }
  .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.6rem; }
  button { font: inherit; font-size: 0.9rem; font-weight: 600; padding: 0.35rem 0.7rem; border-radius: 6px; border: 1px solid #1d2330; background: #fff; color: #1d2330; cursor: pointer; }
  button.primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
  button.confirm { border-color: #b42318; background: #b42318; color: #fff; }
  ul.list { list-style: none; margin: 0; padding: 0; }
  .top { display: flex; justify-content: space-between; gap: 0.5rem; font-weight: 600; }
  .meta { font-size: 0.9rem; color: #374151; display: flex; flex-wrap: wrap; gap: 0.2rem 0.75rem; }
  .hint { font-size: 0.85rem; color: #374151; margin: 0.15rem 0 0; }
  .error { color: #8a1c12; font-weight: 600; margin: 0.3rem 0; }
  .error:empty { display: none; }
  .note { color: #14532d; font-weight: 600; margin: 0.3rem 0; }
  .ok { color: #14532d; }
  .bad { color: #8a1c12; }
  code { font: 0.9rem ui-monospace, monospace; word-break: break-all; }
  a { color: #1d4ed8; font-weight: 600; }
  .sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
`;

/**
 * Base of a back-office page: the API client (set by `<cardline-back-office>` before the page connects), the page
 * heading focused on arrival, and `guard()` running one API action with its failure shown in plain words.
 */
export abstract class BackOfficePage extends LitElement {
  static override styles: CSSResultGroup = pageStyles;
  client: CardlineClient | null = null;
  protected error: string | null = null;
  protected note = '';

  override connectedCallback(): void {
    super.connectedCallback();
    void this.guard((c) => this.load(c));
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
  }

  /** (Re)loads the page's data. */
  protected abstract load(c: CardlineClient): Promise<void>;

  /** Runs `fn`; true when it worked. The error (or nothing) is rendered after. */
  protected async guard(fn: (c: CardlineClient) => Promise<void>): Promise<boolean> {
    const c = this.client;
    if (c === null) return false;
    try {
      await fn(c);
      this.error = null;
      return true;
    } catch (err) {
      this.error = problemText(err);
      this.note = '';
      return false;
    } finally {
      this.requestUpdate();
    }
  }

  /** value of a named control of a form, trimmed */
  protected field(form: HTMLFormElement, name: string): string {
    const el = form.elements.namedItem(name);
    return el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement ? el.value.trim() : '';
  }

  protected checked(form: HTMLFormElement, name: string): boolean {
    const el = form.elements.namedItem(name);
    return el instanceof HTMLInputElement && el.checked;
  }
}
