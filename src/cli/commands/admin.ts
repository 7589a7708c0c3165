import type { Command } from 'commander';
import { CardlineError } from '../../errors/index.ts';
import type { CliIo } from '../main.ts';
import { cliCtx, dataDirOptions, printTable, promptHidden, readStdin, withSecurity, type DataDirFlags } from './cli-security.ts';

/**
 * `cardline admin …` and `cardline apikey …`: first-run bootstrap and break-glass operations on a data
 * directory. There is no default password anywhere: the first admin is created here, with a password typed
 * on the terminal (not echoed) or piped in with --password-stdin, and gets a TOTP enrolment to finish at
 * first login (MFA is mandatory for admins, PCI DSS 4.0 req. 8.4.1).
 */
interface CreateFlags extends DataDirFlags {
  username: string;
  passwordStdin?: boolean;
  role: string;
  displayName?: string;
  email?: string;
  merchant?: string;
  team?: string;
}

interface KeyFlags extends DataDirFlags {
  name?: string;
  permissions?: string;
  merchant?: string;
  all?: boolean;
  json?: boolean;
  graceHours?: string;
}

async function readNewPassword(flags: { passwordStdin?: boolean }, io: CliIo): Promise<string> {
  if (flags.passwordStdin === true) {
    const pw = await readStdin(io);
    if (pw === '') throw new CardlineError('usage', 'no password on standard input');
    return pw;
  }
  const a = await promptHidden('Password: ');
  const b = await promptHidden('Repeat password: ');
  if (a !== b) throw new CardlineError('usage', 'the passwords do not match');
  return a;
}

export function registerAdminCommands(program: Command, io: CliIo): void {
  const admin = program.command('admin').description('users: create the first admin, reset MFA, unlock (works on the data directory)');

  dataDirOptions(admin.command('create'))
    .description('create a user (by default an admin) and start their TOTP enrolment')
    .requiredOption('-u, --username <name>', 'login name (a-z 0-9 . _ @ + -)')
    .option('--password-stdin', 'read the password from standard input instead of prompting')
    .option('--role <role>', 'admin, supervisor, agent or auditor', 'admin')
    .option('--display-name <name>', 'full name')
    .option('--email <address>', 'e-mail address')
    .option('--merchant <id>', 'bind the user to one merchant (default: all merchants)')
    .option('--team <id>', 'team (supervisors see their team\'s sessions)')
    .addHelpText('after', '\nExamples:\n  cardline admin create --username alice\n  printf %s "$PW" | cardline admin create --username bob --role auditor --password-stdin\n')
    .action(async (flags: CreateFlags) => {
      if (!['admin', 'supervisor', 'agent', 'auditor'].includes(flags.role)) throw new CardlineError('usage', '--role must be admin, supervisor, agent or auditor');
      const password = await readNewPassword(flags, io);
      await withSecurity(flags, async (s) => {
        const ctx = cliCtx();
        const user = await s.auth.createUser({
          username: flags.username, password, role: flags.role as 'admin',
          displayName: flags.displayName ?? null, email: flags.email ?? null, merchantId: flags.merchant ?? null, teamId: flags.team ?? null,
        }, ctx);
        io.stdout(`cardline: created ${user.role} ${user.username} (${user.id})\n`);
        if (user.mfaRequired) {
          const e = await s.auth.beginEnrolment(user.id, ctx);
          io.stdout('cardline: add this to an authenticator app (shown once), then log in and confirm with a first code:\n');
          io.stdout(`  ${e.otpauthUri}\n`);
          io.stdout(`  secret: ${e.secret}\n`);
          if (process.stdout.isTTY === true && io.stdin === undefined) {
            const QRCode = (await import('qrcode')).default;
            io.stdout(await QRCode.toString(e.otpauthUri, { type: 'terminal', small: true }));
          }
        }
      });
    });

  dataDirOptions(admin.command('reset-mfa'))
    .description('forget a user\'s authenticator and recovery codes (they enrol again at next login)')
    .requiredOption('-u, --username <name>', 'login name')
    .action(async (flags: DataDirFlags & { username: string }) => {
      await withSecurity(flags, async (s) => {
        const user = await s.auth.findUserByUsername(flags.username);
        if (user === null) throw new CardlineError('user-not-found');
        await s.auth.resetMfa(user.id, cliCtx());
        io.stdout(`cardline: MFA reset for ${user.username}; their sessions ended\n`);
      });
    });

  dataDirOptions(admin.command('unlock'))
    .description('clear a login lockout')
    .requiredOption('-u, --username <name>', 'login name')
    .action(async (flags: DataDirFlags & { username: string }) => {
      await withSecurity(flags, async (s) => {
        const user = await s.auth.findUserByUsername(flags.username);
        if (user === null) throw new CardlineError('user-not-found');
        await s.auth.unlock(user.id, cliCtx());
        io.stdout(`cardline: ${user.username} unlocked\n`);
      });
    });

  dataDirOptions(admin.command('list'))
    .description('list users')
    .action(async (flags: DataDirFlags) => {
      await withSecurity(flags, async (s) => {
        const users = await s.auth.listUsers();
        printTable(io, users.map((u) => ({ ...u, mfa: u.mfaEnrolled ? 'enrolled' : u.mfaRequired ? 'pending' : 'off' })), ['username', 'role', 'merchantId', 'teamId', 'mfa', 'disabled', 'lastLoginAt']);
      });
    });

  const apikey = program.command('apikey').description('API keys for machine clients (media nodes, IVR, Lambda)');

  dataDirOptions(apikey.command('create'))
    .description('create an API key (printed once; only its hash is stored)')
    .requiredOption('-n, --name <name>', 'what the key is for')
    .option('-p, --permissions <list>', 'comma-separated subset of sessions:read,sessions:write,sessions:digits,reports:read', 'sessions:read,sessions:write,sessions:digits')
    .option('--merchant <id>', 'restrict the key to one merchant')
    .action(async (flags: KeyFlags) => {
      await withSecurity(flags, async (s) => {
        const issued = await s.apiKeys.create({ name: flags.name ?? '', permissions: (flags.permissions ?? '').split(',').map((p) => p.trim()).filter((p) => p !== ''), merchantId: flags.merchant ?? null }, cliCtx());
        io.stdout(`cardline: API key ${issued.info.id} (${issued.info.permissions.join(', ')}${issued.info.merchantId ? `; merchant ${issued.info.merchantId}` : ''})\n`);
        io.stdout(`cardline: key (shown once, store it now): ${issued.key}\n`);
      });
    });

  dataDirOptions(apikey.command('list'))
    .description('list API keys (never the keys themselves)')
    .option('--all', 'include revoked keys')
    .option('--json', 'one JSON object per line')
    .action(async (flags: KeyFlags) => {
      await withSecurity(flags, async (s) => {
        const keys = await s.apiKeys.list({ includeRevoked: flags.all === true });
        if (flags.json === true) { for (const k of keys) io.stdout(`${JSON.stringify(k)}\n`); return; }
        printTable(io, keys.map((k) => ({ ...k, permissions: k.permissions.join(',') })), ['id', 'name', 'prefix', 'status', 'permissions', 'merchantId', 'lastUsedAt', 'expiresAt']);
      });
    });

  dataDirOptions(apikey.command('revoke'))
    .description('revoke an API key at once')
    .argument('<id>', 'key id (from apikey list)')
    .action(async (id: string, flags: KeyFlags) => {
      await withSecurity(flags, async (s) => {
        const k = await s.apiKeys.revoke(id, cliCtx());
        io.stdout(`cardline: API key ${k.id} revoked\n`);
      });
    });

  dataDirOptions(apikey.command('rotate'))
    .description('issue a replacement key; the old one keeps working for the grace period')
    .argument('<id>', 'key id')
    .option('--grace-hours <h>', 'hours the old key keeps working', '24')
    .action(async (id: string, flags: KeyFlags) => {
      if (!/^[0-9]{1,3}$/.test(flags.graceHours ?? '')) throw new CardlineError('usage', '--grace-hours must be 0-720');
      await withSecurity(flags, async (s) => {
        const issued = await s.apiKeys.rotate(id, cliCtx(), Number(flags.graceHours) * 3600_000);
        io.stdout(`cardline: API key ${issued.info.id} replaces ${id} (old key expires ${(await s.apiKeys.get(id)).expiresAt})\n`);
        io.stdout(`cardline: key (shown once, store it now): ${issued.key}\n`);
      });
    });
}
