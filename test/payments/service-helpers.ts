import { Writable } from 'node:stream';
import { createConnectorRegistry, SandboxConnector, type PaymentConnector } from '../../src/connectors/index.ts';
import { createLogger } from '../../src/log/index.ts';
import {
  CardVault, ManualClock, MemoryPaymentStore, PaymentSessionService, type PaymentServiceOptions, type SessionEvent,
} from '../../src/payments/index.ts';
import { T0 } from './session-helpers.ts';

export function makeService(opts: Partial<PaymentServiceOptions> & { connector?: PaymentConnector } = {}) {
  const clock = new ManualClock(T0);
  const store = new MemoryPaymentStore();
  const vault = new CardVault();
  const sandbox = new SandboxConnector({ seed: 'cardline-tests', clock, slowDelayMs: 60_000 });
  const registry = createConnectorRegistry({ default: null }, { clock });
  registry.set('m-1', opts.connector ?? sandbox);
  let logText = '';
  const logSink = new Writable({ write(chunk, _enc, cb) { logText += String(chunk); cb(); } });
  const logger = createLogger({ level: 'debug', destination: logSink as never });
  let n = 0;
  const events: SessionEvent[] = [];
  const service = new PaymentSessionService({
    store, clock, vault, logger, connectors: registry,
    newId: (prefix) => `${prefix}_${String(++n).padStart(4, '0')}`,
    connectorTimeoutMs: 5_000,
    ...opts,
  });
  service.onEvent((e) => events.push(e));
  return { service, clock, store, vault, sandbox, registry, events, logs: () => logText };
}

/** Lets every pending promise callback run (store calls are async even in memory). */
export async function drain(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
