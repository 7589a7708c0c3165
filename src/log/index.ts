export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { REDACT_PATHS, REDACT_CENSOR } from './redaction.ts';
