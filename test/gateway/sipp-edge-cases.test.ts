/**
 * SIP edge cases through Cardline (startCardline, real SQLite) with sipp peers (issue 6, "sipp scenarios for SIP
 * edge cases"). The scenario files in scenarios/ check the exact status codes (a different code fails the sipp
 * run); the tests check that the other leg saw the right request, that Cardline's registry is empty and its media
 * ports are free afterwards, and that it still serves the next call.
 *
 * - CANCEL before answer: the caller gets 200 (CANCEL) + 487, the ringing agent leg is CANCELled (487, ACK);
 * - no answer: the agent rings forever, the no-answer timer CANCELs it, the caller gets 480;
 * - agent unreachable (nothing ever answers): Timer B (64*T1) → the caller gets 408;
 * - BYE from the agent: the caller gets BYE; BYE from the caller: the agent gets BYE;
 * - re-INVITE PCMU → PCMA from the caller mid-call: audio keeps flowing to a PCMU agent phone (transcoded);
 * - malformed requests (garbage, missing Call-ID, short body for its Content-Length, unknown method, bad SDP) get
 *   400/501 or are dropped, and a normal call works afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { alawEncode, ulawEncode } from '../../src/dsp/index.ts';
import { goertzelPower } from '../support/audio.ts';
import { freePort, type SippRun, startSipp } from '../sip/support/sipp.ts';
import { hasBaresip, heardAudio, HOST, startPhone } from './support/baresip.ts';
import { agentSpeech, writeWav } from './support/call-audio.ts';
import { calls, type CardlineUnderTest, startGatewayCardline, until } from './support/cardline.ts';
import { untilUdpBound } from './support/ports.ts';

const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const hasSipp = spawnSync('sipp', ['-v']).error === undefined;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function cardline(target: string, o: { noAnswerTimeoutMs?: number } = {}): Promise<CardlineUnderTest> {
  const cl = await startGatewayCardline({ target, ...o });
  dirs.push(cl.dataDir);
  return cl;
}

function sipp(args: string[], cwd?: string): SippRun {
  return startSipp([...args, '-i', HOST, '-m', '1', '-nostdin', '-timeout', '60s', '-timeout_error'], { timeoutMs: 75_000, ...(cwd ? { cwd } : {}) });
}

/** An agent side running `scenario` (a file in scenarios/, or a built-in like `uas`), listening before it returns. */
async function agentSipp(scenario: string): Promise<{ port: number; run: SippRun }> {
  const port = await freePort();
  const sf = scenario.endsWith('.xml') ? ['-sf', join(SCENARIOS, scenario)] : ['-sn', scenario];
  const run = sipp([...sf, '-p', String(port), '-mp', String(await freePort())]);
  await untilUdpBound(port, 20_000);
  return { port, run };
}

async function callerSipp(cl: CardlineUnderTest, scenario: string, service: string, extra: string[] = [], cwd?: string): Promise<SippRun> {
  const sf = scenario.endsWith('.xml') ? ['-sf', join(SCENARIOS, scenario)] : ['-sn', scenario];
  return sipp([`${HOST}:${cl.sipPort}`, ...sf, '-s', service, '-p', String(await freePort()), ...extra], cwd);
}

async function passed(run: SippRun, who: string): Promise<void> {
  const r = await run.done;
  // sipp's own reason (unexpected message, timeout …) comes before its statistics screen: show those lines first
  const reasons = r.output.split('\n').filter((l) => /unexpected|aborting|timeout|error|failed/i.test(l) && !/Failed call/.test(l)).slice(0, 20);
  assert.equal(r.code, 0, `${who} failed (a status code or message it did not expect):\n${reasons.join('\n')}\n…\n${r.output.slice(-800)}`);
}

/** After the call: nothing left in Cardline's registry, every media port free. */
async function clean(cl: CardlineUnderTest): Promise<void> {
  await until('the call registry to empty', async () => (await calls(cl)).length === 0, 15_000);
  await until('the media ports to be free', () => cl.running.gateway?.allocator.inUse === 0, 15_000);
}

describe('SIP edge cases through Cardline with sipp', { skip: !hasSipp && 'sipp is not installed (scripts/system-deps.sh)', concurrency: true }, () => {
  it('CANCEL before answer: caller 200 + 487, the ringing agent leg is CANCELled, ports freed', { timeout: 90_000 }, async () => {
    const agent = await agentSipp('uas-ring.xml');
    const cl = await cardline(`sip:agent@${HOST}:${agent.port}`);
    try {
      const caller = await callerSipp(cl, 'uac-cancel.xml', 'pay');
      await passed(caller, 'the caller (expects 180, 200 for its CANCEL, 487)');
      await passed(agent.run, 'the agent (expects a CANCEL)');
      await clean(cl);
    } finally {
      await agent.run.stop();
      await cl.close();
    }
  });

  it('no answer: the no-answer timer CANCELs the agent leg, the caller gets 480', { timeout: 90_000 }, async () => {
    const agent = await agentSipp('uas-ring.xml');
    const cl = await cardline(`sip:agent@${HOST}:${agent.port}`, { noAnswerTimeoutMs: 1500 });
    try {
      await passed(await callerSipp(cl, 'uac-expect-480.xml', 'pay'), 'the caller (expects 480)');
      await passed(agent.run, 'the agent (expects a CANCEL)');
      await clean(cl);
    } finally {
      await agent.run.stop();
      await cl.close();
    }
  });

  it('agent unreachable (never responds): Timer B, the caller gets 408', { timeout: 120_000 }, async () => {
    const silent = dgram.createSocket('udp4'); // holds the port and reads nothing back: no ICMP, no answer
    await new Promise<void>((r) => silent.bind(0, HOST, () => r()));
    let invites = 0;
    silent.on('message', (m) => { if (m.toString('latin1').startsWith('INVITE ')) invites++; });
    const cl = await cardline(`sip:agent@${HOST}:${silent.address().port}`);
    try {
      await passed(await callerSipp(cl, 'uac-expect-408.xml', 'pay'), 'the caller (expects 408)');
      assert.ok(invites >= 2, 'Cardline retransmitted its INVITE (Timer A) before giving up');
      await clean(cl);
    } finally {
      silent.close();
      await cl.close();
    }
  });

  it('BYE from the agent: the caller gets BYE, registry empty, ports freed', { timeout: 90_000 }, async () => {
    const agent = await agentSipp('uas-answer-bye.xml');
    const cl = await cardline(`sip:agent@${HOST}:${agent.port}`);
    try {
      await passed(await callerSipp(cl, 'uac-wait-bye.xml', 'pay'), 'the caller (expects a BYE)');
      await passed(agent.run, 'the agent (expects 200 for its BYE)');
      await clean(cl);
    } finally {
      await agent.run.stop();
      await cl.close();
    }
  });

  it('BYE from the caller: the agent gets BYE, registry empty, ports freed', { timeout: 90_000 }, async () => {
    const agent = await agentSipp('uas');
    const cl = await cardline(`sip:agent@${HOST}:${agent.port}`);
    try {
      await passed(await callerSipp(cl, 'uac', 'pay', ['-d', '1000']), 'the caller');
      await passed(agent.run, 'the agent (built-in uas: expects the BYE)');
      await clean(cl);
    } finally {
      await agent.run.stop();
      await cl.close();
    }
  });

  it('re-INVITE PCMU → PCMA from the caller mid-call: the PCMU agent phone keeps hearing it (transcoded)', { timeout: 90_000, skip: !hasBaresip && 'baresip is not installed' }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'cardline-reinvite-'));
    dirs.push(root);
    for (const d of ['agent', 'sipp']) mkdirSync(join(root, d));
    // before the re-INVITE a 1000 Hz tone in µ-law, after it a 600 Hz tone in A-law (neither is a DTMF frequency)
    const tone = (hz: number) => Int16Array.from({ length: 8000 * 3 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)));
    writeFileSync(join(root, 'sipp', 'tone-a.ulaw'), ulawEncode(tone(1000)));
    writeFileSync(join(root, 'sipp', 'tone-b.alaw'), alawEncode(tone(600)));
    const mic = writeWav(join(root, 'agent-mic.wav'), await agentSpeech());
    const agent = await startPhone({ dir: join(root, 'agent'), user: 'agent', autoAnswer: true, record: true, codec: 'PCMU', source: mic });
    const cl = await cardline(`sip:agent@${HOST}:${agent.sipPort}`);
    try {
      const caller = await callerSipp(cl, 'uac-reinvite-pcma.xml', 'pay', ['-mi', HOST, '-mp', String(await freePort())], join(root, 'sipp'));
      await passed(caller, 'the caller (expects 200 for INVITE, re-INVITE and BYE)');
      await clean(cl);
      await new Promise((r) => setTimeout(r, 300)); // the phone closes its recording after the BYE
      await agent.kill();
      const heard = heardAudio(agent);
      let a = 0;
      let b = 0;
      for (let s = 0; s + 800 <= heard.length; s += 800) { // 100 ms frames: which tone dominates
        const p1000 = goertzelPower(heard, 1000, s, s + 800);
        const p600 = goertzelPower(heard, 600, s, s + 800);
        if (p1000 > 100 * p600 && p1000 > 1e3) a++;
        if (p600 > 100 * p1000 && p600 > 1e3) b++;
      }
      assert.ok(a >= 10, `the agent heard the PCMU tone for ${a / 10} s`);
      assert.ok(b >= 10, `the agent heard the PCMA tone (after the re-INVITE) for ${b / 10} s`);
    } finally {
      await agent.kill();
      await cl.close();
    }
  });

  it('malformed requests get 400/501 or are dropped, a bad SDP gets 400, and the next call still works', { timeout: 90_000 }, async () => {
    const agent = await agentSipp('uas');
    const cl = await cardline(`sip:agent@${HOST}:${agent.port}`);
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, HOST, () => r()));
    const replies: string[] = [];
    probe.on('message', (m) => replies.push(m.toString('latin1')));
    const { port } = probe.address();
    const request = (method: string, callId: string | null, extra: string[], body = ''): string => [
      `${method} sip:pay@${HOST}:${cl.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK-${method}-${replies.length}-${Date.now()}`,
      `From: <sip:probe@${HOST}:${port}>;tag=p1`, `To: <sip:pay@${HOST}>`, ...(callId ? [`Call-ID: ${callId}`] : []),
      `CSeq: 1 ${method}`, 'Max-Forwards: 70', ...extra, '', body,
    ].join('\r\n');
    const ask = async (msg: string | Buffer): Promise<string | null> => {
      const before = replies.length;
      probe.send(msg, cl.sipPort, HOST);
      try {
        await until('a reply', () => replies.length > before, 3000);
        return replies[before] ?? null;
      } catch {
        return null;
      }
    };
    try {
      assert.equal(await ask(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a])), null, 'garbage is dropped (nothing to answer)');
      assert.match(await ask(request('OPTIONS', null, ['Content-Length: 0'])) ?? '', /^SIP\/2\.0 400 /, 'missing Call-ID → 400');
      assert.match(await ask(request('OPTIONS', 'short-body@probe', ['Content-Length: 500'], 'abc')) ?? '', /^SIP\/2\.0 400 /, 'body shorter than Content-Length → 400 (RFC 3261 §18.3)');
      assert.match(await ask(request('FROBNICATE', 'unknown@probe', ['Content-Length: 0'])) ?? '', /^SIP\/2\.0 (405|501) /, 'unknown method → 405/501');
      await passed(await callerSipp(cl, 'uac-bad-sdp.xml', 'pay'), 'the caller (expects 400 for a body that is not SDP)');
      assert.equal((await calls(cl)).length, 0, 'nothing was routed');
      // and Cardline still serves a normal call
      await passed(await callerSipp(cl, 'uac', 'pay', ['-d', '500']), 'the next caller');
      await passed(agent.run, 'the agent of the next call');
      await clean(cl);
    } finally {
      probe.close();
      await agent.run.stop();
      await cl.close();
    }
  });
});
