/**
 * The composition root with a `gateway` section: a real Cardline start listens for SIP, a call placed through it
 * shows up in GET /v1/calls (API key), secure mode turns on by API, and a bad route pattern fails the start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateApiKey, hashApiKey, loadConfig, validateConfig } from '../../src/config/index.ts';
import { policyFromConfig, routeRulesFromConfig, startGateway, type GatewayConfig } from '../../src/gateway/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { startCardline } from '../../src/server/index.ts';
import { type IncomingInvite, UserAgentCore } from '../../src/sip/dialogs/index.ts';
import { SipStack } from '../../src/sip/transactions/index.ts';
import { UdpTransport } from '../../src/sip/transport/index.ts';

const HOST = '127.0.0.1';
const SDP = (port: number) => `v=0\r\no=- 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=sendrecv\r\n`;

describe('startCardline with the gateway', () => {
  it('routes a call, lists it over HTTP, turns secure mode on, and hangs up on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardline-gw-'));
    const peers: Array<{ ua: UserAgentCore; stack: SipStack }> = [];
    const peer = async () => {
      const stack = new SipStack({ transports: [new UdpTransport()], timers: { T1: 20, T2: 160, T4: 200 } });
      await stack.start();
      const ua = new UserAgentCore({ stack });
      peers.push({ ua, stack });
      return { ua, port: stack.layer.transports[0]!.local.port };
    };
    const caller = await peer();
    const agent = await peer();
    const key = generateApiKey();
    const base = 45000 + (process.pid % 100) * 10;
    const config = loadConfig({ env: {}, overrides: { host: HOST, port: 0, dataDir: dir } });
    config.apiKeySha256 = [hashApiKey(key)];
    config.gateway = {
      sip: { host: HOST, port: 0, transports: ['udp'] },
      media: { address: HOST, minPort: base, maxPort: base + 9 },
      routes: [{ requestUri: '^sip:pay@', target: `sip:agent@${HOST}:${agent.port}` }],
    };
    const running = await startCardline({ config, logger: createLogger({ level: 'silent' }) });
    try {
      assert.ok(running.gateway);
      const sipPort = running.gateway.stack.layer.transports[0]!.local.port;
      agent.ua.onInvite = (inv: IncomingInvite) => { inv.accept({ body: SDP(4002) }); };
      const call = caller.ua.invite({ uri: `sip:pay@${HOST}:${sipPort}`, from: '<sip:alice@example.com>', body: SDP(4000) });
      const outcome = await call.outcome;
      assert.equal(outcome.kind, 'answered');
      const auth = { authorization: `Bearer ${key}` };
      const list = (await (await fetch(`${running.url}/v1/calls`, { headers: auth })).json()) as { calls: Array<{ id: string; state: string; secure: boolean }> };
      assert.equal(list.calls.length, 1);
      assert.equal(list.calls[0]?.state, 'answered');
      const id = list.calls[0]!.id;
      // a payment session bound to the call receives the caller's digits (SIP INFO here) and succeeds (sandbox)
      const session = await running.payments.create({ callId: id, merchantId: 'm-1', intent: 'tokenize', createdBy: 'test' });
      await running.payments.startCapture(session.id);
      const res = await fetch(`${running.url}/v1/calls/${id}/secure`, {
        method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ on: true, sessionId: session.id }),
      });
      assert.equal(res.status, 200);
      const view = (await res.json()) as { secure: boolean; paymentSessionId: string };
      assert.deepEqual([view.secure, view.paymentSessionId], [true, session.id]);
      if (outcome.kind !== 'answered') return;
      for (const k of '4111111111111111#0834737') {
        assert.equal((await outcome.dialog.info(`Signal=${k}\r\nDuration=160\r\n`, 'application/dtmf-relay')).status, 200);
      }
      const t0 = Date.now();
      while ((await running.payments.get(session.id)).state !== 'ready' && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      const ready = await running.payments.get(session.id);
      assert.deepEqual([ready.state, ready.last4], ['ready', '1111']);
      assert.equal((await running.payments.submit(session.id)).state, 'succeeded');
      // the bound session ended: secure mode turns off by itself and the call is unbound (shown in /v1/calls)
      type Listed = { calls: Array<{ secure: boolean; paymentSessionId: string | null; secureSpans: Array<{ startedBy: string; endedBy: string | null }> }> };
      const listed = async (): Promise<Listed['calls'][number] | undefined> => ((await (await fetch(`${running.url}/v1/calls`, { headers: auth })).json()) as Listed).calls[0];
      const t1 = Date.now();
      while ((await listed())?.secure !== false && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 20));
      const after = await listed();
      assert.deepEqual([after?.secure, after?.paymentSessionId], [false, null]);
      assert.deepEqual(after?.secureSpans.map((x) => [x.startedBy, x.endedBy]), [['api', 'session-ended']]);
      // an ended session cannot be bound again
      const again = await fetch(`${running.url}/v1/calls/${id}/secure`, {
        method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ on: true, sessionId: session.id }),
      });
      assert.equal(again.status, 409);
      assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'session-ended');
      const ended = outcome.kind === 'answered' ? new Promise<string>((r) => { outcome.dialog.onTerminated = r; }) : Promise.resolve('');
      await running.close();
      assert.equal(await ended, 'bye-received', 'closing Cardline hangs up its calls');
      assert.equal(running.gateway.allocator.inUse, 0);
    } finally {
      await running.close();
      for (const p of peers) p.ua.close();
      await Promise.all(peers.map((p) => p.stack.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gateway.triggers: validated at startup (invalid-config), then part of the config policy', async () => {
    const g: GatewayConfig = {
      sip: { host: HOST, port: 0, transports: ['udp'] }, media: { address: HOST, minPort: 40000, maxPort: 40009 }, routes: [],
      triggers: { start: '#388*', end: '#388#', interDigitTimeoutMs: 2000 },
    };
    assert.deepEqual(policyFromConfig(g), { secureByDefault: false, maskMode: 'tone', triggers: { start: '#388*', end: '#388#' } });
    const isConfig = (e: Error & { code?: string }) => e.code === 'invalid-config';
    // schema: keys only; the rest (prefix, equal) by validateTriggers when the gateway starts, before anything binds
    const base = loadConfig({ env: {} });
    assert.throws(() => validateConfig({ ...base, gateway: { ...g, triggers: { start: '#38x', end: '#388#' } } }), isConfig);
    assert.doesNotThrow(() => validateConfig({ ...base, gateway: g }));
    await assert.rejects(startGateway({ ...g, triggers: { start: '#38', end: '#388' } }), (e: Error & { code?: string }) => isConfig(e) && /prefix/.test(e.message));
    await assert.rejects(startGateway({ ...g, triggers: { start: '#388', end: '#388' } }), isConfig);
  });

  it('a bad route pattern is a config error naming where', () => {
    assert.throws(() => routeRulesFromConfig([{ requestUri: '([', target: 'sip:a@b' }]), (e: Error & { code?: string }) => e.code === 'invalid-config' && /gateway\.routes\[0\]\.requestUri/.test(e.message));
    const [r] = routeRulesFromConfig([{ headers: [{ name: 'X-Queue', pattern: '^pay$' }], target: 'sip:a@b' }]);
    assert.equal(r?.headers?.[0]?.pattern.test('pay'), true);
  });
});
