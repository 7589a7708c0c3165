import type { Command } from 'commander';
import { CardlineError } from '../../errors/index.ts';
import type { CliIo } from '../main.ts';
import { cliCtx, dataDirOptions, withSecurity, type DataDirFlags } from './cli-security.ts';

/**
 * `cardline billing report --month 2026-11 [--merchant m] [--csv | --json]`: the monthly invoice-style summary
 * (integer minor units). `cardline billing plan set` configures a merchant's (or the default `*`) price plan.
 */
interface ReportFlags extends DataDirFlags {
  month: string;
  merchant?: string;
  csv?: boolean;
  json?: boolean;
}

interface PlanFlags extends DataDirFlags {
  merchant: string;
  currency: string;
  perMinute: string;
  minimum: string;
  fee: string[];
}

function money(minor: number, currency: string): string {
  const neg = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${neg}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency}`;
}

export function registerBillingCommands(program: Command, io: CliIo): void {
  const billing = program.command('billing').description('metering and billing');

  dataDirOptions(billing.command('report'))
    .description('monthly billing report per merchant')
    .requiredOption('-m, --month <YYYY-MM>', 'UTC calendar month')
    .option('--merchant <id>', 'one merchant only')
    .option('--csv', 'CSV (an audited export)')
    .option('--json', 'JSON')
    .action(async (flags: ReportFlags) => {
      if (!/^[0-9]{4}-(0[1-9]|1[0-2])$/.test(flags.month)) throw new CardlineError('usage', '--month must be YYYY-MM');
      const { billingReportCsv } = await import('../../billing/index.ts');
      await withSecurity(flags, async (s) => {
        const r = await s.billing.report(flags.month, flags.merchant);
        if (flags.csv === true) {
          await s.audit.append({ ...cliCtx(), action: 'report.export', outcome: 'success', target: { kind: 'billing-report', id: flags.month }, merchantId: flags.merchant ?? null, detail: { report: 'billing', format: 'csv', month: flags.month, invoices: r.invoices.length } });
          io.stdout(billingReportCsv(r));
          return;
        }
        if (flags.json === true) { io.stdout(`${JSON.stringify(r, null, 2)}\n`); return; }
        for (const i of r.invoices) {
          io.stdout(`\nInvoice ${i.merchantId} — ${i.month} (plan ${i.plan}, ${i.currency})\n`);
          for (const l of i.lines) {
            io.stdout(`  ${l.description.padEnd(44)} ${String(l.quantity).padStart(10)} × ${money(l.unitPriceMinor, '').trim().padStart(8)}  ${money(l.amountMinor, i.currency).padStart(16)}\n`);
          }
          io.stdout(`  ${'subtotal'.padEnd(66)}${money(i.subtotalMinor, i.currency).padStart(16)}\n`);
          io.stdout(`  ${`minimum top-up (monthly minimum ${money(i.minimumMinor, i.currency)})`.padEnd(66)}${money(i.minimumTopUpMinor, i.currency).padStart(16)}\n`);
          io.stdout(`  ${'TOTAL'.padEnd(66)}${money(i.totalMinor, i.currency).padStart(16)}\n`);
        }
        if (r.invoices.length === 0) io.stdout(`cardline: no billable merchants in ${flags.month}\n`);
      });
    });

  const plan = billing.command('plan').description('price plans');
  dataDirOptions(plan.command('set'))
    .description('set a merchant\'s price plan (merchant * = default)')
    .requiredOption('--merchant <id>', 'merchant id, or * for the default plan')
    .requiredOption('--currency <code>', 'ISO 4217, e.g. GBP')
    .option('--per-minute <minor>', 'fee per minute of secure-mode audio, minor units', '0')
    .option('--minimum <minor>', 'monthly minimum, minor units', '0')
    .option('--fee <key=minor>', 'transaction fee, e.g. "*/*=25" or "ivr/failed=5" (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (flags: PlanFlags) => {
      const fees: Record<string, number> = {};
      for (const f of flags.fee) {
        const m = /^([^=]+)=([0-9]{1,12})$/.exec(f);
        if (m === null) throw new CardlineError('usage', '--fee must look like channel/outcome=minor');
        fees[m[1] ?? ''] = Number(m[2]);
      }
      if (!/^[0-9]{1,12}$/.test(flags.perMinute) || !/^[0-9]{1,12}$/.test(flags.minimum)) throw new CardlineError('usage', '--per-minute and --minimum must be whole minor units');
      await withSecurity(flags, async (s) => {
        const ctx = cliCtx();
        const p = await s.plans.put(flags.merchant, { currency: flags.currency.toUpperCase(), perMinuteMinor: Number(flags.perMinute), monthlyMinimumMinor: Number(flags.minimum), transactionFees: fees }, ctx.actor.id);
        await s.audit.append({ ...ctx, action: 'config.price-plan', outcome: 'success', target: { kind: 'price-plan', id: p.merchantId }, detail: { currency: p.currency, perMinuteMinor: p.perMinuteMinor, monthlyMinimumMinor: p.monthlyMinimumMinor, transactionFees: JSON.stringify(p.transactionFees) } });
        io.stdout(`cardline: price plan for ${p.merchantId} saved\n`);
      });
    });
}
