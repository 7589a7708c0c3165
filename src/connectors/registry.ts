import { CardlineError } from '../errors/index.ts';
import type { Clock } from '../payments/clock.ts';
import type { MerchantId } from '../payments/types.ts';
import { SandboxConnector, type SandboxOptions } from './sandbox-connector.ts';
import { StripeConnector, type StripeConnectorOptions } from './stripe-connector.ts';
import { ConnectorError, type ConnectorResolver, type PaymentConnector } from './types.ts';
import { WebhookConnector, type WebhookConnectorOptions } from './webhook-connector.ts';

/**
 * Connector configuration per merchant, as plain data (config file, environment, admin API):
 *
 *   { default: { type: 'sandbox' },
 *     merchants: { acme: { type: 'stripe', apiKey: 'sk_live_…', moto: true },
 *                  globex: { type: 'webhook', url: 'https://pay.globex.example/cardline', secret: '…' } } }
 *
 * Instances are built when the registry is created (a bad configuration fails at startup, not at the first
 * payment) and reused (keep-alive sockets, the sandbox's idempotency memory).
 */
export type ConnectorConfig =
  | ({ type: 'sandbox' } & Omit<SandboxOptions, 'clock'>)
  | ({ type: 'webhook' } & WebhookConnectorOptions)
  | ({ type: 'stripe' } & StripeConnectorOptions);

export interface ConnectorRegistryConfig {
  /** used for merchants without their own entry; null = such merchants cannot submit. Default: sandbox */
  default?: ConnectorConfig | null;
  merchants?: Readonly<Record<string, ConnectorConfig>>;
}

export function createConnector(cfg: ConnectorConfig, deps: { clock?: Clock } = {}): PaymentConnector {
  switch (cfg.type) {
    case 'sandbox': {
      const { type: _t, ...o } = cfg;
      return new SandboxConnector({ ...o, ...(deps.clock ? { clock: deps.clock } : {}) });
    }
    case 'webhook': {
      const { type: _t, ...o } = cfg;
      return new WebhookConnector(o);
    }
    case 'stripe': {
      const { type: _t, ...o } = cfg;
      return new StripeConnector(o);
    }
    default:
      throw new CardlineError('connector-not-configured', `unknown connector type "${String((cfg as { type?: unknown }).type)}"`);
  }
}

export class ConnectorRegistry implements ConnectorResolver {
  readonly #defaultCfg: ConnectorConfig | null;
  readonly #instances = new Map<string, PaymentConnector>();
  readonly #deps: { clock?: Clock };
  #default: PaymentConnector | null = null;

  constructor(cfg: ConnectorRegistryConfig = {}, deps: { clock?: Clock } = {}) {
    this.#defaultCfg = cfg.default === undefined ? { type: 'sandbox' } : cfg.default;
    this.#deps = deps;
    for (const [m, c] of Object.entries(cfg.merchants ?? {})) this.#instances.set(m, createConnector(c, deps));
    if (this.#defaultCfg) this.#default = createConnector(this.#defaultCfg, deps);
  }

  /** Registers (or replaces) a merchant's connector, from config or as a ready instance (tests, plugins). */
  set(merchantId: string, connector: ConnectorConfig | PaymentConnector): void {
    const next = 'charge' in connector ? connector : createConnector(connector, this.#deps);
    const old = this.#instances.get(merchantId);
    this.#instances.set(merchantId, next);
    if (old && old !== next) void old.close?.();
  }

  /** Replaces the default connector (null: merchants without their own cannot submit). */
  setDefault(connector: ConnectorConfig | PaymentConnector | null): void {
    const next = connector === null ? null : 'charge' in connector ? connector : createConnector(connector, this.#deps);
    const old = this.#default;
    this.#default = next;
    if (old && old !== next && ![...this.#instances.values()].includes(old)) void old.close?.();
  }

  /** Forgets a merchant's own connector: it uses the default from now on. */
  remove(merchantId: string): void {
    const old = this.#instances.get(merchantId);
    this.#instances.delete(merchantId);
    if (old && old !== this.#default) void old.close?.();
  }

  forMerchant(merchantId: MerchantId): PaymentConnector {
    const own = this.#instances.get(merchantId);
    if (own) return own;
    if (this.#default === null) throw new ConnectorError('connector-not-configured', 'none', { detail: 'no connector for this merchant' });
    return this.#default;
  }

  async close(): Promise<void> {
    const all = new Set([...this.#instances.values(), ...(this.#default ? [this.#default] : [])]);
    this.#instances.clear();
    this.#default = null;
    await Promise.allSettled([...all].map((c) => c.close?.()));
  }
}

export function createConnectorRegistry(cfg?: ConnectorRegistryConfig, deps?: { clock?: Clock }): ConnectorRegistry {
  return new ConnectorRegistry(cfg, deps);
}
