/**
 * The gateway's TLS and digest config with real sockets: Cardline started from a `gateway` config section with UDP
 * for the carrier and TLS (certificates from files made by a throw-away CA) towards an agent UAS on TLS that
 * verifies nothing but is verified by Cardline against the CA file; the agent side challenges with 407 and 401 and
 * Cardline answers with the route's credentials (password from an environment variable); a wrong password gives the
 * caller 403; a carrier on TLS reaches Cardline's own TLS port; bad TLS or auth config fails the start naming the
 * file or variable; the password is never logged.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { defaultConfig, validateConfig } from '../../src/config/index.ts';
import { type GatewayConfig, routeRulesFromConfig, startGateway } from '../../src/gateway/index.ts';
import { createLogger } from '../../src/log/index.ts';
import {
  DigestServer, type IncomingInvite, parseVia, serializeSipMessage, SipStack, TlsTransport, UdpTransport, UserAgentCore,
} from '../../src/sip/index.ts';
import { type TestPki, testPki } from '../sip/support/tls-cert.ts';

const HOST = '127.0.0.1';
const PASSWORD = 'Pw-agent-leg-7c1d';
const SDP = (port: number) => `v=0\r\no=- 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=sendrecv\r\n`;
const timers = { T1: 50, T2: 400, T4: 500 };

let pki: TestPki;
const closers: Array<() => Promise<void> | void> = [];

before(() => {
  pki = testPki(['cardline', 'agent']);
});

after(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(pki.dir, { recursive: true, force: true });
});

async function udpCaller() {
  const stack = new SipStack({ transports: [new UdpTransport({ address: HOST })], timers });
  await stack.start();
  const ua = new UserAgentCore({ stack });
  closers.push(() => ua.close(), () => stack.close());
  return ua;
}

/** The agent side: our own stack as a UAS on TLS, with the CA-signed "agent" certificate. */
async function tlsAgent() {
  const f = pki.files('agent');
  const tls = new TlsTransport({ address: HOST, key: readFileSync(f.keyFile), cert: readFileSync(f.certFile) });
  const stack = new SipStack({ transports: [tls], timers });
  await stack.start();
  const ua = new UserAgentCore({ stack });
  closers.push(() => ua.close(), () => stack.close());
  return { ua, port: tls.local.port };
}

function gatewayConfig(target: string, auth?: NonNullable<GatewayConfig['routes'][number]['auth']>): GatewayConfig {
  const base = 46000 + (process.pid % 100) * 10;
  return {
    sip: { host: HOST, port: 0, transports: ['udp', 'tls'], tls: { ...pki.files('cardline'), caFile: pki.caFile } },
    media: { address: HOST, minPort: base, maxPort: base + 9 },
    routes: [{ requestUri: '^sips?:pay@', target, ...(auth ? { auth } : {}) }],
  };
}

function logSink() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString('utf8')); cb(); } });
  return { logger: createLogger({ level: 'trace', destination: stream }), text: () => lines.join('') };
}

/** Answers INVITEs with a digest challenge (407 or 401) until they carry valid credentials, then 200. */
function challenging(ua: UserAgentCore, status: 401 | 407, password: string) {
  const server = new DigestServer({ realm: 'agents.example', password: (u) => (u === 'cardline' ? password : undefined) });
  const seen: Array<{ authorized: boolean; via: string; wire: string }> = [];
  ua.onInvite = (inv: IncomingInvite) => {
    const header = status === 407 ? 'Proxy-Authorization' : 'Authorization';
    const creds = inv.request.authHeaders(header);
    const ok = creds.some((c) => server.verify(inv.request, c).ok);
    seen.push({ authorized: ok, via: inv.request.headers.get('Via') ?? '', wire: new TextDecoder().decode(serializeSipMessage(inv.request)) });
    if (ok) {
      inv.accept({ body: SDP(4100) });
      return;
    }
    const name = status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    inv.reject(status, { headers: server.challenges().map((v): [string, string] => [name, v]) });
  };
  return seen;
}

describe('gateway: TLS towards the agent side, digest per route', () => {
  it('caller on UDP, agent on TLS (sips: target, CA-verified); 407 answered from passwordEnv; the password is never logged', async () => {
    const caller = await udpCaller();
    const agent = await tlsAgent();
    const seen = challenging(agent.ua, 407, PASSWORD);
    const log = logSink();
    const g = await startGateway(
      gatewayConfig(`sips:agent@${HOST}:${agent.port}`, { username: 'cardline', passwordEnv: 'AGENT_SIP_PASSWORD' }),
      { logger: log.logger, env: { AGENT_SIP_PASSWORD: PASSWORD } },
    );
    closers.push(() => g.close());
    const udp = g.stack.layer.transport('udp');
    const tls = g.stack.layer.transport('tls');
    assert.ok(udp && tls, 'both listeners');
    assert.notEqual(tls.local.port, udp.local.port, 'TLS listens on its own port');
    const call = caller.invite({ uri: `sip:pay@${HOST}:${udp.local.port}`, from: '<sip:alice@example.com>', body: SDP(4000) });
    const outcome = await call.outcome;
    assert.equal(outcome.kind, 'answered');
    assert.deepEqual(seen.map((s) => s.authorized), [false, true], 'challenged once, then authorized');
    for (const s of seen) assert.equal(parseVia(s.via).transport, 'TLS', 'the agent leg runs over TLS');
    const [view] = g.b2bua.registry.list();
    assert.equal(view?.state, 'answered');
    if (outcome.kind === 'answered') {
      const ended = new Promise<string>((r) => { outcome.dialog.onTerminated = r; });
      await g.close();
      assert.equal(await ended, 'bye-received');
    }
    assert.ok(seen[1]?.wire.includes('Proxy-Authorization: Digest'), 'credentials were sent');
    for (const s of seen) assert.ok(!s.wire.includes(PASSWORD), 'only the digest goes on the wire, never the password');
    assert.ok(!log.text().includes(PASSWORD), 'the password never reaches the log (trace level)');
  });

  it('401 from a ;transport=tls target with an in-file password (realm-limited); a wrong password gives the caller 403; an unverifiable certificate 503', async () => {
    const caller = await udpCaller();
    const agent = await tlsAgent();
    const seen = challenging(agent.ua, 401, PASSWORD);
    const good = await startGateway(gatewayConfig(`sip:agent@${HOST}:${agent.port};transport=tls`, { username: 'cardline', password: PASSWORD, realm: 'agents.example' }));
    closers.push(() => good.close());
    const ok = await caller.invite({ uri: `sip:pay@${HOST}:${good.stack.layer.transport('udp')!.local.port}`, from: '<sip:a@example.com>', body: SDP(4000) }).outcome;
    assert.equal(ok.kind, 'answered');
    assert.deepEqual(seen.map((s) => s.authorized), [false, true]);
    await good.close();

    seen.length = 0;
    const bad = await startGateway(gatewayConfig(`sip:agent@${HOST}:${agent.port};transport=tls`, { username: 'cardline', password: 'not-the-password' }));
    closers.push(() => bad.close());
    const no = await caller.invite({ uri: `sip:pay@${HOST}:${bad.stack.layer.transport('udp')!.local.port}`, from: '<sip:a@example.com>', body: SDP(4000) }).outcome;
    assert.equal(no.kind, 'failed');
    if (no.kind === 'failed') assert.equal(no.response.status, 403);
    assert.ok(seen.length >= 2 && seen.every((s) => !s.authorized), 'answered, and refused');
    assert.equal(bad.allocator.inUse, 0, 'the failed call freed its ports');
    await bad.close();

    // without the CA file the agent's certificate does not verify (system store): no INVITE reaches it
    seen.length = 0;
    const cfg = gatewayConfig(`sips:agent@${HOST}:${agent.port}`, { username: 'cardline', password: PASSWORD });
    const { caFile: _ca, ...noCa } = cfg.sip.tls!;
    const untrusting = await startGateway({ ...cfg, sip: { ...cfg.sip, tls: noCa } });
    closers.push(() => untrusting.close());
    const refused = await caller.invite({ uri: `sip:pay@${HOST}:${untrusting.stack.layer.transport('udp')!.local.port}`, from: '<sip:a@example.com>', body: SDP(4000) }).outcome;
    assert.equal(refused.kind, 'failed');
    if (refused.kind === 'failed') assert.equal(refused.response.status, 503);
    assert.equal(seen.length, 0);
    await untrusting.close();
  });

  it('a carrier on TLS (sips: to the TLS port, Cardline verified against the CA) reaches an agent on UDP', async () => {
    const agentStack = new SipStack({ transports: [new UdpTransport({ address: HOST })], timers });
    await agentStack.start();
    const agentUa = new UserAgentCore({ stack: agentStack });
    closers.push(() => agentUa.close(), () => agentStack.close());
    agentUa.onInvite = (inv) => { inv.accept({ body: SDP(4200) }); };
    const g = await startGateway(gatewayConfig(`sip:agent@${HOST}:${agentStack.layer.transports[0]!.local.port}`));
    closers.push(() => g.close());
    const f = pki.files('agent'); // the carrier's own certificate (only needed for mutual TLS)
    const carrierTls = new TlsTransport({ address: HOST, key: readFileSync(f.keyFile), cert: readFileSync(f.certFile), ca: readFileSync(pki.caFile) });
    const carrierStack = new SipStack({ transports: [carrierTls], timers });
    await carrierStack.start();
    const carrier = new UserAgentCore({ stack: carrierStack });
    closers.push(() => carrier.close(), () => carrierStack.close());
    const tlsPort = g.stack.layer.transport('tls')!.local.port;
    const outcome = await carrier.invite({ uri: `sips:pay@${HOST}:${tlsPort}`, from: '<sips:carrier@example.com>', body: SDP(4000) }).outcome;
    assert.equal(outcome.kind, 'answered');
    if (outcome.kind !== 'answered') return;
    assert.match(outcome.response.headers.get('Contact') ?? '', /^<sips:/, 'RFC 5630 §3: a sips: Contact on the TLS leg');
    assert.equal(g.b2bua.registry.list()[0]?.state, 'answered');
    const ended = new Promise<string>((r) => { outcome.dialog.onTerminated = r; });
    await g.close();
    assert.equal(await ended, 'bye-received', 'the BYE comes back over TLS');
  });

  it('bad TLS / auth config fails the start with invalid-config naming the file or variable, never the secret', async () => {
    const missing = join(pki.dir, 'nope.pem');
    const cfg = gatewayConfig('sips:agent@127.0.0.1');
    const invalid = (where: RegExp) => (e: Error & { code?: string }) => e.code === 'invalid-config' && where.test(e.message);
    await assert.rejects(startGateway({ ...cfg, sip: { ...cfg.sip, tls: { ...cfg.sip.tls!, certFile: missing } } }), invalid(/gateway\.sip\.tls\.certFile: cannot read .*nope\.pem/));
    // a key that does not belong to the certificate
    await assert.rejects(startGateway({ ...cfg, sip: { ...cfg.sip, tls: { ...cfg.sip.tls!, keyFile: pki.files('agent').keyFile } } }), invalid(/agent\.key\.pem and .*cardline\.cert\.pem/));
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, `-----BEGIN PRIVATE KEY-----\n${PASSWORD}\n-----END PRIVATE KEY-----\n`);
    await assert.rejects(startGateway({ ...cfg, sip: { ...cfg.sip, tls: { ...cfg.sip.tls!, keyFile: garbage } } }), (e: Error & { code?: string }) => e.code === 'invalid-config' && !e.message.includes(PASSWORD));
    await assert.rejects(
      startGateway({ ...cfg, routes: [{ target: 'sip:a@127.0.0.1', auth: { username: 'u', passwordEnv: 'NOT_SET_ANYWHERE' } }] }, { env: {} }),
      invalid(/gateway\.routes\[0\]\.auth\.passwordEnv: environment variable NOT_SET_ANYWHERE is not set/),
    );
    // schema-level rules
    const whole = (gateway: unknown) => ({ ...defaultConfig('/tmp'), gateway });
    assert.throws(() => validateConfig(whole({ ...cfg, sip: { host: HOST, port: 5060, transports: ['udp', 'tls'] } })), invalid(/gateway\/sip\/tls: required/));
    assert.throws(
      () => validateConfig(whole({ ...cfg, routes: [{ target: 'sip:a@b', auth: { username: 'u', password: PASSWORD, passwordEnv: 'X' } }] })),
      (e: Error & { code?: string }) => e.code === 'invalid-config' && /exactly one of password or passwordEnv/.test(e.message) && !e.message.includes(PASSWORD),
    );
    assert.equal(validateConfig(whole(cfg)).gateway?.sip.transports.includes('tls'), true);
    // SRTP and RTCP settings of the agent leg
    const srtp = { ...cfg, agentSrtp: 'sdes', media: { ...cfg.media, rtcpIntervalMs: 0 }, routes: [{ target: 'sip:a@b', agentSrtp: 'optional' }] };
    assert.equal(validateConfig(whole(srtp)).gateway?.agentSrtp, 'sdes');
    assert.deepEqual(routeRulesFromConfig(validateConfig(whole(srtp)).gateway!.routes).map((r) => r.agentSrtp), ['optional']);
    assert.throws(() => validateConfig(whole({ ...srtp, agentSrtp: 'dtls' })), invalid(/gateway\/agentSrtp/));
    assert.throws(() => validateConfig(whole({ ...srtp, media: { ...cfg.media, rtcpIntervalMs: 500 } })), invalid(/gateway\/media\/rtcpIntervalMs/));
  });
});
