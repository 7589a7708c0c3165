/**
 * The process under test for `npm run bench:media`: Cardline's media gateway alone (SIP B2BUA + RTP relay, no HTTP
 * API, no database), started by bench.ts under `taskset` and driven over the Node IPC channel. Not a test.
 *
 * argv[2]: the gateway config section as JSON (`GatewayConfig`). The bench sets `secureByDefault: true`, so every
 * call is masked from answer on.
 *
 * IPC requests (one reply each, same `id`):
 *   {id, type: 'stats'}           → {id, ok, calls: {answered, live}, media: MediaRelayStats, handlerErrors, rss, heapUsed}
 *   {id, type: 'calls'}           → {id, ok, calls: [{callee, state, secure, callerRtpPort, agentRtpPort}]}
 *   {id, type: 'secure', on}      → {id, ok, changed}: secure mode on/off for every answered call (the pass-through window)
 *   {id, type: 'gc'}              → {id, ok}: a full GC when run with --expose-gc (before an RSS reading)
 *   {id, type: 'close'}           → {id, ok}, then the process exits
 * Secure digits go to a counting sink only; nothing is logged.
 */
import { CallState, startGateway, type GatewayConfig } from '../../src/gateway/index.ts';

type Request =
  | { id: number; type: 'stats' | 'calls' | 'gc' | 'close' }
  | { id: number; type: 'secure'; on: boolean };

function fail(message: string): never {
  process.stderr.write(`gateway-runner: ${message}\n`);
  process.exit(1);
}

if (!process.send) fail('must be started with an IPC channel (by bench/media/bench.ts)');
const config = ((): GatewayConfig => {
  try {
    return JSON.parse(process.argv[2] ?? '') as GatewayConfig;
  } catch {
    return fail('argv[2] must be the gateway config as JSON');
  }
})();

let digits = 0;
const gw = await startGateway(config, { onSecureDigit: () => { digits++; } });
const reply = (m: Record<string, unknown>): void => {
  process.send?.(m);
};

process.on('message', (raw: unknown) => {
  const m = raw as Request;
  try {
    handle(m);
  } catch (e) {
    reply({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});

function handle(m: Request): void {
  switch (m.type) {
    case 'stats': {
      const calls = gw.b2bua.registry.list();
      const mem = process.memoryUsage();
      reply({
        id: m.id, ok: true,
        calls: { answered: calls.filter((c) => c.state === CallState.Answered).length, live: calls.length },
        media: gw.b2bua.mediaStats(), handlerErrors: gw.b2bua.handlerErrors, secureDigits: digits,
        rss: mem.rss, heapUsed: mem.heapUsed,
      });
      return;
    }
    case 'calls': {
      const calls = gw.b2bua.registry.list().map((v) => {
        const call = gw.b2bua.registry.get(v.id);
        return {
          callee: v.callee, state: v.state, secure: v.secure,
          callerRtpPort: call?.media?.callerRtpPort ?? null, agentRtpPort: call?.media?.agentRtpPort ?? null,
        };
      });
      reply({ id: m.id, ok: true, calls });
      return;
    }
    case 'secure': {
      let changed = 0;
      for (const v of gw.b2bua.registry.list()) {
        const call = gw.b2bua.registry.get(v.id);
        if (!call?.control || call.state !== CallState.Answered || call.secure === m.on) continue;
        // Straight to the relay: Call.setSecure refuses to turn a call that is secure by policy off (rightly, in
        // production); the pass-through reference window needs exactly that, on the same calls.
        call.control.setSecure(m.on);
        changed++;
      }
      reply({ id: m.id, ok: true, changed });
      return;
    }
    case 'gc': {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      reply({ id: m.id, ok: true, collected: gc !== undefined });
      return;
    }
    case 'close': {
      void gw.close().finally(() => {
        reply({ id: m.id, ok: true });
        process.disconnect?.();
        process.exit(0);
      });
      return;
    }
    default:
      reply({ id: (m as { id?: number }).id ?? -1, ok: false, error: 'unknown request' });
  }
}
// The bench going away (crash, Ctrl-C) must not leave a gateway holding thousands of ports.
process.on('disconnect', () => {
  void gw.close().finally(() => process.exit(0));
});
reply({ id: 0, ok: true, ready: true, sipPort: gw.stack.layer.transports[0]?.local.port ?? null });
