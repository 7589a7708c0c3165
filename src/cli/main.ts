import { Command, CommanderError } from 'commander';
import { isCardlineError } from '../errors/index.ts';
import { registerDtmfCommands } from './commands/dtmf.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerSessionCommands } from './commands/session.ts';
import { registerAdminCommands } from './commands/admin.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerBillingCommands } from './commands/billing.ts';

/** Exit codes: 0 ok, 1 runtime error (one line, no stack unless --debug), 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** all of standard input (tests inject it; default: process.stdin) */
  stdin?: () => Promise<string>;
}

const defaultIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

export function buildProgram(io: CliIo = defaultIo): Command {
  const program = new Command();
  program
    .name('cardline')
    .description('Cardline: take card payments over the phone without card data touching agents, recordings or logs.')
    .option('--debug', 'print stack traces for errors')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  registerDtmfCommands(program, io);
  registerServeCommand(program, io);
  registerSessionCommands(program, io);
  registerAdminCommands(program, io);
  registerAuditCommands(program, io);
  registerBillingCommands(program, io);
  return program;
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" in commander's model but exit 0
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    const debug = argv.includes('--debug');
    if (isCardlineError(err)) {
      io.stderr(`cardline: error [${err.code}]: ${err.message}\n`);
      if (debug && err.stack) io.stderr(`${err.stack}\n`);
      return err.code === 'usage' ? EXIT_USAGE : EXIT_RUNTIME;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`cardline: error: ${message.split('\n')[0]}\n`);
    if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return EXIT_RUNTIME;
  }
}
