import { pino, destination, type Logger, type DestinationStream } from 'pino';
import { REDACT_CENSOR, REDACT_PATHS } from './redaction.ts';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Where lines go; default stderr so stdout stays clean for command output. */
  destination?: DestinationStream;
  name?: string;
}

/** The one way to make a logger: redaction is always on. Inject it; never import a global. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'cardline',
      level: opts.level ?? process.env.CARDLINE_LOG_LEVEL ?? 'info',
      redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
    },
    opts.destination ?? destination(2),
  );
}
