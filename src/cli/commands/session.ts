import type { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CardlineError } from '../../errors/index.ts';
import type { CliIo } from '../main.ts';

/**
 * `cardline session …` — payment sessions from the command line.
 *
 * `session demo` shows the whole product path in one minute, with nothing faked:
 *   caller keypad audio (synthesised DTMF for a sandbox test card)
 *     → DtmfMasker in 20 ms frames (what the agent would hear: tones replaced by one flat beep)
 *     → its secure sink (the only place digits go) → POST /v1/sessions/:id/digits
 *     → the payment-session service → sandbox connector → token + last four.
 * Meanwhile it prints the masked events from the session's Server-Sent Events stream, exactly what an agent
 * console receives. It never prints a digit the caller typed.
 */

const DEMO_CARDS = {
  visa: 'visa',
  mastercard: 'mastercard',
  amex: 'amex',
  declined: 'declined',
  'insufficient-funds': 'insufficientFunds',
} as const;
type DemoCard = keyof typeof DEMO_CARDS;

interface DemoFlags {
  url?: string;
  apiKey?: string;
  card: string;
  amount: string;
  currency: string;
  merchant: string;
  intent: string;
  json?: boolean;
}

interface MaskedEventLike {
  type: string;
  session: {
    state: string;
    currentField: string | null;
    brand: string | null;
    last4: string | null;
    fields: { field: string; state: string; digitCount: number; display: string | null; errorCode: string | null; attempts: number }[];
    result: { status: string; token: string | null; connectorReference: string | null; errorCode: string | null; message: string | null } | null;
    errorCode: string | null;
  };
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'expired']);

export function registerSessionCommands(program: Command, io: CliIo): void {
  const session = program.command('session').description('payment sessions (see also the HTTP API at /openapi.json)');
  session
    .command('demo')
    .description('drive one complete agent-assisted payment through the API with synthesised keypad audio')
    .option('--url <url>', 'a running Cardline server (default: start one in a temporary data directory)')
    .option('--api-key <key>', 'API key for --url (default: $CARDLINE_API_KEY)')
    .option('--card <name>', `sandbox test card: ${Object.keys(DEMO_CARDS).join(', ')}`, 'visa')
    .option('--amount <minor>', 'amount in minor units (e.g. 1999 = 19.99)', '1999')
    .option('--currency <code>', 'ISO 4217 currency', 'GBP')
    .option('--merchant <id>', 'merchant id', 'demo-merchant')
    .option('--intent <intent>', 'charge (take the money) or tokenize (store the card for later)', 'charge')
    .option('--json', 'print each masked event as one JSON line')
    .addHelpText('after', '\nExamples:\n  cardline session demo\n  cardline session demo --card declined --json\n  cardline session demo --url http://127.0.0.1:8080 --api-key $KEY\n')
    .action(async (flags: DemoFlags) => {
      if (!(flags.card in DEMO_CARDS)) throw new CardlineError('usage', `--card must be one of ${Object.keys(DEMO_CARDS).join(', ')}`);
      if (flags.intent !== 'charge' && flags.intent !== 'tokenize') throw new CardlineError('usage', '--intent must be charge or tokenize');
      if (!/^[0-9]{1,9}$/.test(flags.amount)) throw new CardlineError('usage', '--amount must be a whole number of minor units');
      if (!/^[A-Za-z]{3}$/.test(flags.currency)) throw new CardlineError('usage', '--currency must be a 3-letter ISO 4217 code');
      await runDemo(flags, io);
    });
}

async function runDemo(flags: DemoFlags, io: CliIo): Promise<void> {
  // loaded on demand so `cardline --help` stays fast
  const [{ SANDBOX_TEST_CARDS }, dsp] = await Promise.all([import('../../connectors/index.ts'), import('../../dsp/index.ts')]);
  let baseUrl = flags.url?.replace(/\/+$/, '');
  let apiKey = flags.apiKey ?? process.env.CARDLINE_API_KEY ?? '';
  let stop: (() => Promise<void>) | undefined;
  if (baseUrl === undefined) {
    const dataDir = mkdtempSync(join(tmpdir(), 'cardline-demo-'));
    const [{ loadConfig }, { startCardline }, { createLogger }] = await Promise.all([
      import('../../config/index.ts'), import('../../server/index.ts'), import('../../log/index.ts'),
    ]);
    const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: 0, dataDir } });
    const running = await startCardline({ config, logger: createLogger({ level: 'warn' }) });
    if (running.generatedApiKey === null) throw new CardlineError('internal', 'the demo server did not issue an API key');
    baseUrl = running.url;
    apiKey = running.generatedApiKey;
    stop = async () => { await running.close(); rmSync(dataDir, { recursive: true, force: true }); };
    io.stdout(`demo: started Cardline at ${baseUrl} (sandbox connector, SQLite in a temporary directory)\n`);
  } else if (apiKey === '') {
    throw new CardlineError('usage', '--api-key (or $CARDLINE_API_KEY) is required with --url');
  }
  const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) {
      const err = json.error as { code?: string; message?: string } | undefined;
      throw new CardlineError('internal', `${method} ${path} answered ${res.status} ${err?.code ?? ''}: ${err?.message ?? ''}`.trim());
    }
    return json;
  };

  const abort = new AbortController();
  try {
    const created = await api('POST', '/v1/sessions', {
      callId: `demo-call-${Date.now()}`, merchantId: flags.merchant, channel: 'agent-assisted', intent: flags.intent,
      amountMinor: Number(flags.amount), currency: flags.currency.toUpperCase(), reference: 'demo', startCapture: true,
    });
    const id = String(created.id);
    io.stdout(`demo: session ${id} created; the agent's screen shows:\n`);
    const finished = followEvents(`${baseUrl}/v1/sessions/${encodeURIComponent(id)}/events`, apiKey, abort.signal, (e) => {
      io.stdout(flags.json === true ? `${JSON.stringify(e)}\n` : `  ${describeEvent(e)}\n`);
    });

    // The caller types: card number then '#', expiry MMYY (fixed length), security code (fixed length).
    const pan = SANDBOX_TEST_CARDS[DEMO_CARDS[flags.card as DemoCard]];
    const year = (new Date().getUTCFullYear() + 2) % 100;
    const cvv = pan.startsWith('34') || pan.startsWith('37') ? '4321' : '123';
    const keys = `${pan}#12${String(year).padStart(2, '0')}${cvv}`;
    const { samples } = dsp.generateSequence(keys, { onMs: 70, offMs: 70, levelDbm0: -12, leadMs: 200, tailMs: 300 });
    const secureSink: string[] = [];
    let spans = 0;
    const masker = new dsp.DtmfMasker({ mode: 'tone', onDigit: (e) => secureSink.push(e.digit), onSpan: () => { spans += 1; } });
    const frame = 160; // 20 ms at 8 kHz, as RTP would deliver it
    const out = new Int16Array(frame);
    for (let at = 0; at < samples.length; at += frame) {
      const chunk = samples.subarray(at, Math.min(at + frame, samples.length));
      masker.process(chunk, out.subarray(0, chunk.length));
      if (secureSink.length > 0) {
        const digits = secureSink.splice(0, secureSink.length).join('');
        await api('POST', `/v1/sessions/${encodeURIComponent(id)}/digits`, { digits });
      }
    }
    masker.flush();
    if (secureSink.length > 0) await api('POST', `/v1/sessions/${encodeURIComponent(id)}/digits`, { digits: secureSink.splice(0).join('') });
    io.stdout(`demo: ${spans} key presses masked in the agent's audio (${keys.length} keys typed)\n`);

    let state = (await api('GET', `/v1/sessions/${encodeURIComponent(id)}`)) as unknown as MaskedEventLike['session'];
    if (state.state === 'ready') {
      io.stdout('demo: the agent presses Pay\n');
      state = (await api('POST', `/v1/sessions/${encodeURIComponent(id)}/submit`)) as unknown as MaskedEventLike['session'];
    }
    await Promise.race([finished, new Promise((r) => setTimeout(r, 2000).unref())]);
    const r = state.result;
    io.stdout(`demo: result ${state.state}${r ? ` — token ${r.token ?? '-'}, reference ${r.connectorReference ?? '-'}` : ''}`
      + `${state.last4 ? `, card ${state.brand ?? ''} ending ${state.last4}` : ''}${r?.errorCode ? `, error ${r.errorCode}` : ''}\n`);
    if (!TERMINAL.has(state.state)) throw new CardlineError('internal', `the session ended the demo in state ${state.state}`);
  } finally {
    abort.abort();
    await stop?.();
  }
}

/** Reads the session's Server-Sent Events stream until the session ends or `signal` aborts. */
async function followEvents(url: string, apiKey: string, signal: AbortSignal, onEvent: (e: MaskedEventLike) => void): Promise<void> {
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' }, signal });
    if (!res.ok || res.body === null) return;
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let sep: number;
      while ((sep = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, sep);
        buffered = buffered.slice(sep + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (data === '') continue;
        const e = JSON.parse(data) as MaskedEventLike;
        onEvent(e);
        if (TERMINAL.has(e.session.state)) return;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}

function describeEvent(e: MaskedEventLike): string {
  const s = e.session;
  const fields = s.fields.map((f) => {
    const shown = f.display ?? (f.digitCount > 0 ? '•'.repeat(f.digitCount) : '');
    return `${f.field}=${f.state}${shown ? ` ${shown}` : ''}${f.errorCode ? ` (${f.errorCode})` : ''}`;
  }).join('  ');
  return `${e.type.padEnd(19)} ${s.state.padEnd(10)} ${s.brand ? `[${s.brand}] ` : ''}${fields}${s.errorCode ? `  error=${s.errorCode}` : ''}`;
}
