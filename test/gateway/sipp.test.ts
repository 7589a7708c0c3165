/**
 * Real peers: sipp's built-in UAC → Cardline's B2BUA → sipp's built-in UAS with -rtp_echo. RTP sent into the
 * call's caller-side port comes back through the agent leg's echo, and both sipp runs complete the call flow
 * (INVITE/180/200/ACK/BYE) successfully.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { B2bua } from '../../src/gateway/index.ts';
import { parseRtp, RtpPortAllocator, serializeRtp } from '../../src/media/index.ts';
import { UserAgentCore } from '../../src/sip/dialogs/index.ts';
import { SipStack } from '../../src/sip/transactions/index.ts';
import { UdpTransport } from '../../src/sip/transport/index.ts';
import { freePort, startSipp, type SippRun } from '../sip/support/sipp.ts';
import { untilUdpBound } from './support/ports.ts';

const HOST = '127.0.0.1';
const hasSipp = spawnSync('sipp', ['-v']).error === undefined;
const runs: SippRun[] = [];
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sipp(args: string[]): SippRun {
  const r = startSipp([...args, '-i', HOST, '-nostdin', '-timeout', '20s', '-timeout_error'], { timeoutMs: 30_000 });
  runs.push(r);
  return r;
}

describe('B2BUA with sipp peers', { skip: !hasSipp && 'sipp is not installed (scripts/system-deps.sh)' }, () => {
  let stack: SipStack | undefined;
  let ua: UserAgentCore | undefined;
  const base = 43000 + (process.pid % 100) * 10;
  const allocator = new RtpPortAllocator({ address: HOST, minPort: base, maxPort: base + 9 });
  after(async () => {
    await Promise.all(runs.map((r) => r.stop()));
    ua?.close();
    await stack?.close();
    await allocator.close();
  });

  it('sipp UAC → Cardline → sipp UAS (-rtp_echo): call completes, RTP echoes through both legs', async () => {
    stack = new SipStack({ transports: [new UdpTransport({ port: 0, address: HOST })] });
    await stack.start();
    ua = new UserAgentCore({ stack });
    const uasPort = await freePort();
    const uasMedia = await freePort();
    const b2bua = new B2bua({ ua, allocator, routes: [{ requestUri: /^sip:service@/, target: `sip:agent@${HOST}:${uasPort}` }] });
    const uas = sipp(['-sn', 'uas', '-p', String(uasPort), '-mp', String(uasMedia), '-rtp_echo', '-m', '1']);
    await untilUdpBound(uasPort); // a loaded machine may take a while to start sipp; an INVITE sent before is refused
    const cardlinePort = stack.layer.transports[0]!.local.port;
    const uac = sipp(['-sn', 'uac', `${HOST}:${cardlinePort}`, '-p', String(await freePort()), '-mp', String(await freePort()), '-m', '1', '-d', '1500']);
    const t0 = Date.now();
    while (b2bua.registry.list()[0]?.state !== 'answered') {
      if (Date.now() - t0 > 10_000) throw new Error('the call was not answered');
      await delay(20);
    }
    const call = b2bua.registry.get(b2bua.registry.list()[0]!.id)!;
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, HOST, () => r()));
    const echoed: Buffer[] = [];
    probe.on('message', (m) => echoed.push(m));
    for (let i = 0; i < 10; i++) {
      probe.send(serializeRtp({
        marker: i === 0, payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 1, csrcs: [], extension: null,
        payload: new Uint8Array(160).fill(0x20 + i), paddingLength: 0,
      }), call.media!.callerRtpPort, HOST);
      await delay(20);
    }
    const t1 = Date.now();
    while (echoed.length < 10 && Date.now() - t1 < 3000) await delay(20);
    probe.close();
    assert.equal(echoed.length, 10, 'every packet came back through agent leg → sipp echo → caller leg');
    const payloads = echoed.map((m) => parseRtp(m).payload[0]).sort((a, b) => (a ?? 0) - (b ?? 0));
    assert.deepEqual(payloads, Array.from({ length: 10 }, (_, i) => 0x20 + i), 'bit-exact with secure mode off');
    const [u, s] = await Promise.all([uac.done, uas.done]);
    assert.equal(u.code, 0, `sipp UAC failed:\n${u.output.slice(-2000)}`);
    assert.equal(s.code, 0, `sipp UAS failed:\n${s.output.slice(-2000)}`);
    const t2 = Date.now();
    while (b2bua.registry.size > 0 && Date.now() - t2 < 3000) await delay(20);
    assert.equal(b2bua.registry.size, 0);
    assert.equal(allocator.inUse, 0);
    // gateway-wide counters keep the ended call's packets (npm run bench:media reads them)
    const m = b2bua.mediaStats();
    assert.equal(m.callerToAgent.received, 10);
    assert.equal(m.callerToAgent.sent, 10);
    assert.equal(m.agentToCaller.received, 10);
    assert.equal(m.agentToCaller.sent, 10);
  });
});
