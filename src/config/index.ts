/** Runtime configuration and first-start secrets. */
export { ConfigSchema, DEFAULT_PORT, defaultConfig, loadConfig, validateConfig, type CardlineConfig, type LoadConfigOptions } from './config.ts';
export {
  API_KEY_HASH_FILE, CALLBACK_SECRET_FILE, ensureApiKey, ensureCallbackSecret, generateApiKey, hashApiKey, isSha256Hex, readFileIfExists,
  type ApiKeyBootstrap, type CallbackSecretBootstrap,
} from './secrets.ts';
