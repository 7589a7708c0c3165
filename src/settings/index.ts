/**
 * Admin settings (issue 7): the gateway's masking policy and the payment connector per merchant, over SQLite,
 * audited, connector secrets write-only and sealed. `settings.policySource` is the gateway's `PolicySource`.
 */
export { DEFAULT_CONNECTOR_ID, SETTINGS_KEY_FILE, SettingsStore, type ConnectorChangeListener, type SettingsDefaults, type SettingsStoreOptions } from './settings-store.ts';
export { settingsDefaultsFromConfig, applyConnectorSettings } from './wiring.ts';
export type { SettingsDatabase, SettingsTable } from './schema.ts';
export * from './schemas.ts';
