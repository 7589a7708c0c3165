import type { CardlineConfig } from '../config/index.ts';
import type { ConnectorConfig, ConnectorRegistry, ConnectorRegistryConfig } from '../connectors/index.ts';
import { DEFAULT_MASKING_POLICY } from '../gateway/index.ts';
import { DEFAULT_CONNECTOR_ID, type SettingsDefaults, type SettingsStore } from './settings-store.ts';

/** The configured values (file, environment): what the settings answer until an admin saves their own. */
export function settingsDefaultsFromConfig(config: Pick<CardlineConfig, 'gateway' | 'connectors'>): SettingsDefaults {
  const gw = config.gateway;
  return {
    maskingPolicy: {
      secureByDefault: gw?.secureByDefault ?? DEFAULT_MASKING_POLICY.secureByDefault,
      maskMode: gw?.maskMode ?? DEFAULT_MASKING_POLICY.maskMode,
      triggers: DEFAULT_MASKING_POLICY.triggers,
    },
    connectors: (config.connectors ?? null) as ConnectorRegistryConfig | null,
  };
}

/**
 * Puts the saved connectors into the registry now and on every later change (new submissions use them; a
 * submission already running keeps its connector). A removed setting falls back to the configured entry.
 * Returns the unsubscribe function.
 */
export function applyConnectorSettings(settings: SettingsStore, registry: ConnectorRegistry, configured: ConnectorRegistryConfig | null): () => void {
  const apply = (merchantId: string, cfg: ConnectorConfig | null): void => {
    if (merchantId === DEFAULT_CONNECTOR_ID) {
      registry.setDefault(cfg ?? (configured?.default === undefined ? { type: 'sandbox' } : configured.default));
      return;
    }
    const own = cfg ?? configured?.merchants?.[merchantId] ?? null;
    if (own === null) registry.remove(merchantId);
    else registry.set(merchantId, own);
  };
  for (const [m, cfg] of settings.savedConnectorConfigs()) apply(m, cfg);
  return settings.onConnectorChange(apply);
}
