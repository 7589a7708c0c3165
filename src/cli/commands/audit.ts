import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CardlineError } from '../../errors/index.ts';
import type { CliIo } from '../main.ts';
import { cliCtx, dataDirOptions, loadCliConfig, withSecurity, type DataDirFlags } from './cli-security.ts';

/**
 * `cardline audit verify` recomputes the hash chain, the checkpoint MACs and the anchor; it prints a summary,
 * names the first broken record or checkpoint, and exits 1 when anything is broken.
 * `cardline audit export` writes JSON lines or CSV (itself recorded as `report.export`).
 */
interface ExportFlags extends DataDirFlags {
  format: string;
  from?: string;
  to?: string;
  user?: string;
  action?: string;
  out?: string;
  limit: string;
}

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');

  dataDirOptions(audit.command('verify'))
    .description('verify the audit chain and checkpoints; exit 1 and name the first broken record if tampered')
    .option('--json', 'print the full report as JSON')
    .action(async (flags: DataDirFlags & { json?: boolean }) => {
      const config = await loadCliConfig(flags);
      const [{ openSecurityDb }, { AUDIT_ANCHOR_FILE, readAuditKey, verifyAuditTrail }, { sqlitePathIn }, { join }] = await Promise.all([
        import('../../auth/index.ts'), import('../../audit/index.ts'), import('../../store/index.ts'), import('node:path'),
      ]);
      const key = readAuditKey(config.dataDir);
      if (key === null) throw new CardlineError('invalid-config', `no audit key in ${config.dataDir}`);
      const handle = await openSecurityDb(sqlitePathIn(config.dataDir));
      try {
        const report = await verifyAuditTrail({ db: handle.db as never, key, anchorPath: join(config.dataDir, AUDIT_ANCHOR_FILE) });
        if (flags.json === true) io.stdout(`${JSON.stringify(report)}\n`);
        else {
          io.stdout(`cardline: ${report.records} audit records, ${report.checkpoints} checkpoints, ${report.unsealed} not yet sealed\n`);
          for (const p of report.problems) io.stdout(`cardline: BROKEN ${p.kind} ${p.seq}${p.recordSeq !== undefined && p.kind !== 'record' ? ` (record ${p.recordSeq})` : ''}: ${p.reason}\n`);
          if (report.ok) io.stdout('cardline: audit trail intact\n');
        }
        const first = report.firstBroken;
        if (first !== null) {
          throw new CardlineError('audit-chain-broken', `first broken ${first.kind} ${first.seq}: ${first.reason}`);
        }
      } finally {
        await handle.close();
      }
    });

  dataDirOptions(audit.command('export'))
    .description('export audit records as JSON lines or CSV (CSV-injection safe)')
    .option('-f, --format <format>', 'jsonl or csv', 'jsonl')
    .option('--from <iso>', 'from this time (inclusive)')
    .option('--to <iso>', 'until this time (exclusive)')
    .option('--user <id>', 'only this actor id')
    .option('--action <action>', 'exact action, or a prefix ending in . or * (auth.*)')
    .option('--limit <n>', 'at most this many records', '100000')
    .option('-o, --out <file>', 'write to a file (mode 0600) instead of standard output')
    .action(async (flags: ExportFlags) => {
      if (flags.format !== 'jsonl' && flags.format !== 'csv') throw new CardlineError('usage', '--format must be jsonl or csv');
      if (!/^[0-9]{1,6}$/.test(flags.limit)) throw new CardlineError('usage', '--limit must be a number');
      const { exportAudit } = await import('../../audit/index.ts');
      await withSecurity(flags, async (s) => {
        const q = {
          limit: Number(flags.limit),
          ...(flags.from !== undefined ? { from: flags.from } : {}), ...(flags.to !== undefined ? { to: flags.to } : {}),
          ...(flags.user !== undefined ? { actorId: flags.user } : {}), ...(flags.action !== undefined ? { action: flags.action } : {}),
        };
        const records = await s.audit.query(q);
        const text = exportAudit(records, flags.format as 'jsonl' | 'csv');
        const ctx = cliCtx();
        await s.audit.append({ ...ctx, action: 'report.export', outcome: 'success', target: { kind: 'audit-trail', id: null }, detail: { report: 'audit', format: flags.format, records: records.length, from: flags.from ?? null, to: flags.to ?? null, filterAction: flags.action ?? null } });
        if (flags.out !== undefined) {
          writeFileSync(flags.out, text, { mode: 0o600 });
          io.stderr(`cardline: ${records.length} records written to ${flags.out}\n`);
        } else {
          io.stdout(text);
        }
      });
    });
}
