import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { Value } from '@sinclair/typebox/value';
import type { AuditLog } from '../audit/index.ts';
import { ensureKeyFile, SecretBox, type Ctx } from '../auth/index.ts';
import { createConnector, type ConnectorConfig, type ConnectorRegistryConfig } from '../connectors/index.ts';
import { CardlineError, isCardlineError } from '../errors/index.ts';
import { validateTriggers, type MaskingPolicy, type PolicySource } from '../gateway/index.ts';
import type { SettingsDatabase } from './schema.ts';
import {
  ConnectorSettingBody, MaskingPolicyBody, SECRET_FIELDS,
  type ConnectorSettingInput, type ConnectorSettingJson, type ConnectorType, type MaskingPolicyViewJson, type SecretStateJson,
} from './schemas.ts';

/** `<data dir>/settings-key`: seals connector secrets (its own key, separate from the auth and audit keys). */
export const SETTINGS_KEY_FILE = 'settings-key';
export const DEFAULT_CONNECTOR_ID = '*';
const POLICY_KEY = 'masking-policy';
const CONNECTOR_PREFIX = 'connector:';
/** secrets shorter than this show no last four (it would be too much of them) */
const LAST4_MIN_LENGTH = 16;

interface SealedSecret { sealed: string; last4: string | null; updatedAt: string }
interface StoredConnector { type: ConnectorType; options: Record<string, string | number | boolean>; secrets: Record<string, SealedSecret> }
interface Row<T> { value: T; updatedAt: string; updatedBy: string | null }

/** What the admin has not saved yet comes from here (the config file / environment). */
export interface SettingsDefaults {
  maskingPolicy: MaskingPolicy;
  connectors: ConnectorRegistryConfig | null;
}

export interface SettingsStoreOptions {
  db: Kysely<SettingsDatabase>;
  audit: AuditLog;
  /** where `settings-key` lives */
  dataDir: string;
  defaults: SettingsDefaults;
  now?: () => number;
}

/** A saved connector changed (config) or was removed (null: back to the configured default). */
export type ConnectorChangeListener = (merchantId: string, config: ConnectorConfig | null) => void;

/**
 * The admin's run-time settings over SQLite: the gateway's masking policy and the payment connector per merchant.
 *
 * - Reads are synchronous from an in-memory copy loaded at `open` and replaced on every write, so
 *   `maskingPolicy()` is a `PolicySource` the gateway can call per new call. A write from another process (none
 *   today: only the API writes) is seen after a restart.
 * - Every change is audited (`config.masking-policy`, `config.connector`), detail keys naming what changed, never a
 *   value of a secret field.
 * - Connector secrets are write-only: sealed with AES-256-GCM (context `connector:<merchant>:<field>` as AAD, so a
 *   sealed value moved to another row does not open); views answer `{ set, updatedAt, last4? }` only
 *   (PCI DSS 4.0 req. 3.6/8.3.2: authentication data unreadable in storage).
 */
export class SettingsStore {
  readonly #db: Kysely<SettingsDatabase>;
  readonly #audit: AuditLog;
  readonly #box: SecretBox;
  readonly #defaults: SettingsDefaults;
  readonly #now: () => number;
  #policy: Row<MaskingPolicy> | null = null;
  readonly #connectors = new Map<string, Row<StoredConnector>>();
  readonly #listeners = new Set<ConnectorChangeListener>();
  /** the gateway's `PolicySource` */
  readonly policySource: PolicySource = () => this.maskingPolicy();

  private constructor(o: SettingsStoreOptions) {
    this.#db = o.db;
    this.#audit = o.audit;
    this.#box = new SecretBox(ensureKeyFile(join(o.dataDir, SETTINGS_KEY_FILE)).key);
    this.#defaults = o.defaults;
    this.#now = o.now ?? (() => Date.now());
  }

  static async open(o: SettingsStoreOptions): Promise<SettingsStore> {
    const s = new SettingsStore(o);
    await s.#load();
    return s;
  }

  async #load(): Promise<void> {
    const rows = await this.#db.selectFrom('settings').selectAll().execute();
    for (const r of rows) {
      let value: unknown;
      try { value = JSON.parse(r.value_json); } catch { throw new CardlineError('store-error', `setting ${r.key} is not readable`); }
      if (r.key === POLICY_KEY) {
        if (!Value.Check(MaskingPolicyBody, value)) throw new CardlineError('store-error', 'the saved masking policy is not readable');
        this.#policy = { value, updatedAt: r.updated_at, updatedBy: r.updated_by };
      } else if (r.key.startsWith(CONNECTOR_PREFIX)) {
        this.#connectors.set(r.key.slice(CONNECTOR_PREFIX.length), { value: value as StoredConnector, updatedAt: r.updated_at, updatedBy: r.updated_by });
      }
    }
  }

  async #save(key: string, value: unknown, by: string | null): Promise<string> {
    const at = new Date(this.#now()).toISOString();
    const row = { key, value_json: JSON.stringify(value), updated_at: at, updated_by: by };
    await this.#db.insertInto('settings').values(row)
      .onConflict((oc) => oc.column('key').doUpdateSet({ value_json: row.value_json, updated_at: at, updated_by: by })).execute();
    return at;
  }

  // --- masking policy ------------------------------------------------------------------------------------------

  /** The policy for a new call: the saved one, else the configured default. */
  maskingPolicy(): MaskingPolicy {
    const p = this.#policy?.value ?? this.#defaults.maskingPolicy;
    return { secureByDefault: p.secureByDefault, maskMode: p.maskMode, triggers: p.triggers === null ? null : { ...p.triggers } };
  }

  maskingPolicyView(): MaskingPolicyViewJson {
    return { policy: this.maskingPolicy(), source: this.#policy === null ? 'config' : 'settings', updatedAt: this.#policy?.updatedAt ?? null, updatedBy: this.#policy?.updatedBy ?? null };
  }

  /** Validates (trigger sequences per `validateTriggers`) and saves; applies to calls set up from now on. */
  async setMaskingPolicy(input: MaskingPolicy, ctx: Ctx): Promise<MaskingPolicyViewJson> {
    if (!Value.Check(MaskingPolicyBody, input)) throw new CardlineError('settings-invalid', 'masking policy: secureByDefault, maskMode (tone, silence, noise) and triggers are required');
    let triggers = null;
    if (input.triggers !== null) {
      try {
        triggers = validateTriggers(input.triggers);
      } catch (err) {
        // the same fault, as a settings error the console can show next to the field
        throw new CardlineError('settings-invalid', isCardlineError(err) ? err.message.replace(/^[^:]*: /, '') : 'trigger sequences are not valid');
      }
    }
    const policy: MaskingPolicy = { secureByDefault: input.secureByDefault, maskMode: input.maskMode, triggers };
    const before = this.maskingPolicy();
    const at = await this.#save(POLICY_KEY, policy, ctx.actor.id);
    this.#policy = { value: policy, updatedAt: at, updatedBy: ctx.actor.id };
    const changed = (['secureByDefault', 'maskMode', 'triggers'] as const).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(policy[k]));
    await this.#audit.append({
      actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'config.masking-policy', outcome: 'success', target: { kind: 'setting', id: POLICY_KEY },
      // the trigger keys are configuration, not card data; they are still left out (an agent could learn them here)
      detail: { changed: changed.join(','), secureByDefault: policy.secureByDefault, maskMode: policy.maskMode, triggersSet: policy.triggers !== null },
    });
    return this.maskingPolicyView();
  }

  // --- connectors ----------------------------------------------------------------------------------------------

  onConnectorChange(fn: ConnectorChangeListener): () => void {
    this.#listeners.add(fn);
    return () => { this.#listeners.delete(fn); };
  }

  #emit(merchantId: string, cfg: ConnectorConfig | null): void {
    for (const fn of this.#listeners) {
      try { fn(merchantId, cfg); } catch { /* a listener's fault must not undo a saved setting */ }
    }
  }

  /** The saved connectors, secrets opened: what the registry builds (never for an API answer). */
  savedConnectorConfigs(): Array<[string, ConnectorConfig]> {
    return [...this.#connectors.keys()].sort().map((m) => [m, this.#config(m)]);
  }

  #config(merchantId: string): ConnectorConfig {
    const row = this.#connectors.get(merchantId);
    if (row === undefined) throw new CardlineError('settings-not-found');
    const s = row.value;
    const secrets: Record<string, string> = {};
    for (const [f, v] of Object.entries(s.secrets)) secrets[f] = this.#box.open(v.sealed, `connector:${merchantId}:${f}`).toString('utf8');
    return { type: s.type, ...s.options, ...secrets } as ConnectorConfig;
  }

  /** Views for the API, merchant-scoped when `merchantId` is given: saved settings and the configured entries they do not override. */
  connectorViews(merchantId: string | null = null): ConnectorSettingJson[] {
    const out = new Map<string, ConnectorSettingJson>();
    const cfg = this.#defaults.connectors;
    const fromConfig = (m: string, c: ConnectorConfig): ConnectorSettingJson => {
      const options: Record<string, string | number | boolean> = {};
      const secrets: Record<string, SecretStateJson> = {};
      for (const [k, v] of Object.entries(c)) {
        if (k === 'type') continue;
        if (SECRET_FIELDS[c.type].includes(k)) secrets[k] = { set: typeof v === 'string' && v !== '', updatedAt: null };
        else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') options[k] = v;
      }
      return { merchantId: m, type: c.type, options, secrets, source: 'config', updatedAt: null, updatedBy: null };
    };
    out.set(DEFAULT_CONNECTOR_ID, fromConfig(DEFAULT_CONNECTOR_ID, cfg?.default === undefined ? { type: 'sandbox' } : cfg.default ?? { type: 'sandbox' }));
    for (const [m, c] of Object.entries(cfg?.merchants ?? {})) out.set(m, fromConfig(m, c));
    for (const [m, row] of this.#connectors) {
      const secrets: Record<string, SecretStateJson> = {};
      for (const f of SECRET_FIELDS[row.value.type]) {
        const v = row.value.secrets[f];
        secrets[f] = v === undefined ? { set: false, updatedAt: null } : { set: true, updatedAt: v.updatedAt, ...(v.last4 !== null ? { last4: v.last4 } : {}) };
      }
      out.set(m, { merchantId: m, type: row.value.type, options: { ...row.value.options }, secrets, source: 'settings', updatedAt: row.updatedAt, updatedBy: row.updatedBy });
    }
    return [...out.values()].filter((v) => merchantId === null || v.merchantId === merchantId).sort((a, b) => a.merchantId.localeCompare(b.merchantId));
  }

  connectorView(merchantId: string): ConnectorSettingJson {
    const v = this.connectorViews(merchantId)[0];
    if (v === undefined) throw new CardlineError('settings-not-found');
    return v;
  }

  /**
   * Saves a merchant's connector (or `*`, the default). A secret left out keeps its saved value when the type
   * stays the same; the whole configuration is tried by building the connector once before it is saved, so a
   * missing secret or an unusable URL is refused here, not at the first payment. Applies to new submissions.
   */
  async setConnector(merchantId: string, input: ConnectorSettingInput, ctx: Ctx): Promise<ConnectorSettingJson> {
    if (!Value.Check(ConnectorSettingBody, input)) throw new CardlineError('settings-invalid', 'connector: type, options and secrets do not match the schema');
    const prev = this.#connectors.get(merchantId)?.value;
    const at = new Date(this.#now()).toISOString();
    const secrets: Record<string, SealedSecret> = {};
    const given = (input.secrets ?? {}) as Record<string, string | undefined>;
    const changed: string[] = [];
    for (const f of SECRET_FIELDS[input.type]) {
      const v = given[f];
      if (v !== undefined) {
        secrets[f] = { sealed: this.#box.seal(Buffer.from(v, 'utf8'), `connector:${merchantId}:${f}`), last4: v.length >= LAST4_MIN_LENGTH ? v.slice(-4) : null, updatedAt: at };
        changed.push(f);
      } else if (prev?.type === input.type && prev.secrets[f] !== undefined) {
        secrets[f] = prev.secrets[f];
      } else {
        throw new CardlineError('settings-invalid', `the ${input.type} connector needs its ${f} (write-only field)`);
      }
    }
    const options = { ...input.options } as Record<string, string | number | boolean>;
    if (prev === undefined || prev.type !== input.type) changed.unshift('type');
    if (prev === undefined || JSON.stringify(prev.options) !== JSON.stringify(options)) changed.push('options');
    const stored: StoredConnector = { type: input.type, options, secrets };
    const opened = prev?.type === input.type ? (this.#config(merchantId) as unknown as Record<string, unknown>) : {};
    const plain = { type: input.type, ...options, ...Object.fromEntries(Object.keys(secrets).map((f) => [f, given[f] ?? opened[f]])) } as ConnectorConfig;
    try {
      const probe = createConnector(plain);
      await probe.close?.();
    } catch (err) {
      // a connector's own configuration faults name the option (never its value): passed on for the admin
      const why = isCardlineError(err) && err.message.includes(': ') ? err.message.slice(err.message.indexOf(': ') + 2) : null;
      throw new CardlineError('settings-invalid', `the ${input.type} connector does not accept these options${why !== null ? `: ${why}` : ''}`);
    }
    await this.#save(`${CONNECTOR_PREFIX}${merchantId}`, stored, ctx.actor.id);
    this.#connectors.set(merchantId, { value: stored, updatedAt: at, updatedBy: ctx.actor.id });
    await this.#audit.append({
      actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'config.connector', outcome: 'success', target: { kind: 'connector', id: merchantId },
      merchantId: merchantId === DEFAULT_CONNECTOR_ID ? null : merchantId,
      detail: { connector: input.type, changed: changed.join(','), created: prev === undefined },
    });
    this.#emit(merchantId, plain);
    return this.connectorView(merchantId);
  }

  /** Forgets a saved connector: the merchant goes back to the configured one. */
  async removeConnector(merchantId: string, ctx: Ctx): Promise<void> {
    if (!this.#connectors.has(merchantId)) throw new CardlineError('settings-not-found');
    await this.#db.deleteFrom('settings').where('key', '=', `${CONNECTOR_PREFIX}${merchantId}`).execute();
    this.#connectors.delete(merchantId);
    await this.#audit.append({
      actor: ctx.actor, ip: ctx.ip, userAgent: ctx.userAgent, action: 'config.connector', outcome: 'success', target: { kind: 'connector', id: merchantId },
      merchantId: merchantId === DEFAULT_CONNECTOR_ID ? null : merchantId, detail: { removed: true },
    });
    this.#emit(merchantId, null);
  }
}
