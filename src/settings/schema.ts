/**
 * Row shape of the admin settings (migration `0003-settings` in src/store/migrations.ts): one row per setting key.
 * Keys: `masking-policy`, `connector:<merchant id or *>`. Connector secrets inside `value_json` are sealed with
 * AES-256-GCM (settings-store.ts), never plain.
 */
export interface SettingsTable {
  key: string;
  value_json: string;
  updated_at: string;
  updated_by: string | null;
}

export interface SettingsDatabase {
  settings: SettingsTable;
}
