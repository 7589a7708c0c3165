import type { Command } from 'commander';
import { join } from 'node:path';
import { CardlineError } from '../../errors/index.ts';
import type { CliIo } from '../main.ts';

/** Same value as config's DEFAULT_PORT; not imported so `cardline --help` does not load the config schema. */
const HELP_DEFAULT_PORT = 8080;

interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  dataDir?: string;
}

/**
 * `cardline serve`: the HTTP API over the embedded SQLite store. Configuration: flags > environment
 * (CARDLINE_*) > JSON file (--config or CARDLINE_CONFIG) > defaults (127.0.0.1:8080, ./.data).
 * Runs until SIGINT/SIGTERM, then closes cleanly.
 */
export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('start the Cardline HTTP API (SQLite in the data directory)')
    .option('-c, --config <file>', 'JSON configuration file')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('-p, --port <port>', `TCP port, 0 for any free one (default ${HELP_DEFAULT_PORT})`)
    .option('-d, --data-dir <dir>', 'data directory (default ./.data or $CARDLINE_DATA_DIR)')
    .action(async (flags: ServeFlags) => {
      const overrides: { host?: string; port?: number; dataDir?: string } = {};
      if (flags.host !== undefined) overrides.host = flags.host;
      if (flags.dataDir !== undefined) overrides.dataDir = flags.dataDir;
      if (flags.port !== undefined) {
        if (!/^[0-9]{1,5}$/.test(flags.port) || Number(flags.port) > 65535) throw new CardlineError('usage', '--port must be 0-65535');
        overrides.port = Number(flags.port);
      }
      // loaded on demand: the config schema (typebox) costs ~0.4 s that other commands should not pay
      const { CALLBACK_SECRET_FILE, loadConfig } = await import('../../config/index.ts');
      const config = loadConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}), overrides });
      // loaded on demand so other commands do not pay for fastify, kysely and the SQLite addon
      const { startCardline } = await import('../../server/index.ts');
      const running = await startCardline({ config });
      io.stdout(`cardline: listening on ${running.url}\n`);
      io.stdout(`cardline: data in ${running.dbPath}\n`);
      io.stdout(`cardline: API docs at ${running.url}/openapi.json\n`);
      if (running.generatedApiKey !== null) {
        // printed once, here only: the data dir keeps just its SHA-256
        io.stdout(`cardline: generated API key (shown once, store it now): ${running.generatedApiKey}\n`);
        io.stdout(`cardline: use it as "Authorization: Bearer <key>" or "X-Api-Key: <key>"\n`);
      }
      if (running.generatedCallbackSecret) {
        io.stdout(`cardline: status-callback signing secret generated in ${join(config.dataDir, CALLBACK_SECRET_FILE)}\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.stdout(`cardline: ${signal}, shutting down\n`);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await running.close();
      io.stdout('cardline: stopped\n');
    });
}
