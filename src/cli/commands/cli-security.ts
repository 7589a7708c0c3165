import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { CardlineConfig } from '../../config/index.ts';
import { CardlineError } from '../../errors/index.ts';
import type { CliIo } from '../main.ts';

/**
 * Shared plumbing of the identity, audit and billing commands: they work directly on a data directory
 * (the same SQLite file a running server uses; WAL lets both work at once) and record themselves in the
 * audit trail as the operating-system user who ran them.
 */
export interface DataDirFlags {
  config?: string;
  dataDir?: string;
}

export function dataDirOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'JSON configuration file')
    .option('-d, --data-dir <dir>', 'data directory (default ./.data or $CARDLINE_DATA_DIR)');
}

export async function loadCliConfig(flags: DataDirFlags): Promise<CardlineConfig> {
  const { loadConfig } = await import('../../config/index.ts');
  return loadConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}), overrides: flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {} });
}

/** Opens the security services on the data dir, runs `fn`, closes (sealing the audit tail). */
export async function withSecurity<T>(flags: DataDirFlags, fn: (s: import('../../auth/index.ts').Security, config: CardlineConfig) => Promise<T>): Promise<T> {
  const config = await loadCliConfig(flags);
  const [{ openSecurity, securityOptionsFromConfig }, { sqlitePathIn }] = await Promise.all([import('../../auth/index.ts'), import('../../store/index.ts')]);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const security = await openSecurity(securityOptionsFromConfig(config, sqlitePathIn(config.dataDir)));
  try {
    return await fn(security, config);
  } finally {
    await security.close();
  }
}

export function cliCtx() {
  let who = 'unknown';
  try { who = userInfo().username; } catch { /* no passwd entry (containers) */ }
  return { actor: { kind: 'cli' as const, id: `cli:${who}`.slice(0, 128), name: who }, ip: null, userAgent: 'cardline-cli' };
}

/** Reads all of stdin (for --password-stdin); one trailing newline is dropped. */
export async function readStdin(io: CliIo): Promise<string> {
  if (io.stdin !== undefined) return io.stdin();
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Prompts on the terminal without echoing what is typed. */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new CardlineError('usage', 'no terminal to prompt on: pass the password with --password-stdin');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  let value = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') { stdin.off('data', onData); process.stderr.write('\n'); resolve(value); return; }
          if (ch === '\u0003') { stdin.off('data', onData); reject(new CardlineError('usage', 'cancelled')); return; }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

export function printTable(io: CliIo, rows: Record<string, unknown>[], columns: string[]): void {
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  io.stdout(`${columns.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
  for (const r of rows) io.stdout(`${columns.map((c, i) => cell(r[c]).padEnd(widths[i] ?? 0)).join('  ')}\n`);
}
