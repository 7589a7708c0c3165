/**
 * Interop with a real SIP implementation: sipp 3.6 (Debian sip-tester) against Cardline's stack on 127.0.0.1.
 * - sipp's built-in UAC (INVITE/ACK/BYE) calls our minimal UAS over UDP and over TCP;
 * - sipp sends OPTIONS (keep-alive) and malformed/unknown requests and checks our answers;
 * - our UAC calls sipp's built-in UAS and hangs up.
 * sipp exits 0 only when every call of the scenario succeeded.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { UserAgentCore } from '../../../src/sip/dialogs/index.ts';
import { SipStack } from '../../../src/sip/transactions/index.ts';
import { TcpTransport, UdpTransport } from '../../../src/sip/transport/index.ts';
import { delay } from '../support/messages.ts';
import { freePort, startSipp, type SippRun } from '../support/sipp.ts';

const here = dirname(fileURLToPath(import.meta.url));
const hasSipp = (() => {
  try {
    execFileSync('sipp', ['-v'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status !== undefined; // sipp -v exits non-zero but exists
  }
})();

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const runs: SippRun[] = [];
const stacks: SipStack[] = [];
after(async () => {
  await Promise.all(runs.map((r) => r.stop()));
  await Promise.all(stacks.map((s) => s.close()));
});

async function uas(kind: 'udp' | 'tcp') {
  const stack = new SipStack({ transports: [kind === 'udp' ? new UdpTransport() : new TcpTransport()] });
  stacks.push(stack);
  await stack.start();
  const ua = new UserAgentCore({ stack });
  const calls: string[] = [];
  ua.onInvite = (inv) => {
    calls.push(inv.request.callId());
    inv.progress(180);
    setTimeout(() => inv.accept({ body: SDP }), 20);
  };
  return { stack, ua, calls, port: stack.layer.transports[0]!.local.port };
}

function sipp(args: string[]) {
  const r = startSipp([...args, '-i', '127.0.0.1', '-nostdin', '-timeout', '20s', '-timeout_error'], { timeoutMs: 30_000 });
  runs.push(r);
  return r;
}

describe('sipp interop', { skip: !hasSipp && 'sipp is not installed (scripts/system-deps.sh)' }, () => {
  it('sipp UAC → our UAS over UDP: INVITE, 180, 200, ACK, BYE, 200', async () => {
    const s = await uas('udp');
    const r = await sipp(['-sn', 'uac', `127.0.0.1:${s.port}`, '-p', String(await freePort()), '-m', '2', '-l', '1']).done;
    assert.equal(r.code, 0, r.output.slice(-3000));
    assert.equal(s.calls.length, 2);
    await delay(50);
    assert.equal(s.ua.dialogs.length, 0, 'both dialogs ended with the BYE');
  });

  it('sipp UAC → our UAS over TCP (stream framing with a real peer)', async () => {
    const s = await uas('tcp');
    const r = await sipp(['-sn', 'uac', '-t', 't1', `127.0.0.1:${s.port}`, '-p', String(await freePort()), '-m', '3', '-l', '1']).done;
    assert.equal(r.code, 0, r.output.slice(-3000));
    assert.equal(s.calls.length, 3);
  });

  it('sipp OPTIONS keep-alive gets 200 with Allow; malformed/unknown requests get 400, 501, 405', async () => {
    const s = await uas('udp');
    const o = await sipp(['-sf', join(here, 'scenarios/options-uac.xml'), `127.0.0.1:${s.port}`, '-p', String(await freePort()), '-m', '1']).done;
    assert.equal(o.code, 0, o.output.slice(-3000));
    const m = await sipp(['-sf', join(here, 'scenarios/malformed-uac.xml'), `127.0.0.1:${s.port}`, '-p', String(await freePort()), '-m', '1']).done;
    assert.equal(m.code, 0, m.output.slice(-3000));
  });

  it('our UAC → sipp UAS: answered, then our BYE is accepted', async () => {
    const stack = new SipStack({ transports: [new UdpTransport()] });
    stacks.push(stack);
    await stack.start();
    const ua = new UserAgentCore({ stack });
    const port = await freePort();
    const peer = sipp(['-sn', 'uas', '-p', String(port), '-m', '1']);
    await delay(300); // let sipp bind
    const call = ua.invite({ uri: `sip:service@127.0.0.1:${port}`, from: '"Cardline" <sip:cardline@127.0.0.1>', body: SDP });
    const o = await call.outcome;
    assert.equal(o.kind, 'answered', `sipp answered ${o.response.status}`);
    if (o.kind !== 'answered') return;
    await delay(100);
    const bye = await o.dialog.bye();
    assert.equal(bye.status, 200);
    const r = await peer.done;
    assert.equal(r.code, 0, r.output.slice(-3000));
  });
});
