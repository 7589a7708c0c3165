import type { CardlineConfig } from '../config/index.ts';
import type { ConnectorConfig, ConnectorRegistry, ConnectorRegistryConfig } from '../connectors/index.ts';
import { DEFAULT_MASKING_POLICY, policyFromConfig } from '../gateway/index.ts';
import { DEFAULT_CONNECTOR_ID, type SettingsDefaults, type SettingsStore } from './settings-store.ts';

/** The configured values (file, environment): what the settings answer until an admin saves their own. */
export function settingsDefaultsFromConfig(config: Pick<CardlineConfig, 'gateway' | 'connectors'>): SettingsDefaults {
  const gw = config.gateway;
  return {
    // the gateway section's policy (its triggers validated: a bad one fails the start with invalid-config)
    maskingPolicy: gw ? policyFromConfig(gw) : { ...DEFAULT_MASKING_POLICY },
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
