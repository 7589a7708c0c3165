/**
 * End to end, SIP INFO DTMF (issue 6, "Proof with real peers"): a sipp caller (scenarios/info-dtmf-uac.xml) speaks
 * (looped µ-law RTP) and, once the agent has bound a payment session to the call over the API, types the card as
 * one INFO `application/dtmf-relay` per key (RFC 6086). Cardline (startCardline, real SQLite) answers each INFO,
 * feeds the key to the bound session and does NOT forward it: the baresip agent phone reports no key on its
 * ctrl_tcp and its recording holds zero digits (ours + spandsp). The session succeeds through the sandbox
 * connector; no artefact holds the card. Control: with secure mode off, one INFO key does reach the agent phone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { ulawEncode } from '../../src/dsp/index.ts';
import { freePort, startSipp } from '../sip/support/sipp.ts';
import { BaresipCtrl, hasBaresip, heardAudio, HOST, startPhone } from './support/baresip.ts';
import { agentSpeech, assertHeardNoDigits, speechOnly, writeWav } from './support/call-audio.ts';
import {
  answeredCall, assertNoCardData, bindPayment, CARD_KEYS, calls, dataFiles, readyAndSubmit, startGatewayCardline, until,
} from './support/cardline.ts';

const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const hasSipp = spawnSync('sipp', ['-v']).error === undefined;
const roots: string[] = [];
after(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

/**
 * An OPTIONS inside sipp's call (matched by Call-ID): the scenario waits for it before its next step. Sent once
 * (loopback): sipp, as a UAC, sends its 200 to its remote target (Cardline drops the stray response, RFC 3261
 * §18.1.2), and a retransmission would reach the scenario as an unexpected message.
 */
async function nudge(sippPort: number, callId: string, seq: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, HOST, () => r()));
  const { port } = s.address();
  const msg = [
    `OPTIONS sip:caller@${HOST}:${sippPort} SIP/2.0`, `Via: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK-nudge-${seq}-${Date.now()}`,
    `From: <sip:test@${HOST}:${port}>;tag=nudge${seq}`, `To: <sip:caller@${HOST}:${sippPort}>`, `Call-ID: ${callId}`,
    `CSeq: ${seq} OPTIONS`, 'Max-Forwards: 70', 'Content-Length: 0', '', '',
  ].join('\r\n');
  await new Promise<void>((resolve, reject) => s.send(msg, sippPort, HOST, (err) => (err ? reject(err) : resolve())));
  s.close();
}

describe('end to end with a sipp caller typing by SIP INFO', { skip: (!hasSipp || !hasBaresip) && 'sipp or baresip is not installed (scripts/system-deps.sh)' }, () => {
  it('INFO keys reach only the bound session (succeeded), never the agent phone; control key with secure off does', { timeout: 90_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'cardline-e2e-info-'));
    roots.push(root);
    for (const d of ['agent', 'sipp']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'sipp', 'speech.ulaw'), ulawEncode(await speechOnly(2000)));
    // one injection line: the keys as field0..field24 (never written into the scenario itself)
    writeFileSync(join(root, 'sipp', 'keys.csv'), `SEQUENTIAL\n${[...CARD_KEYS].join(';')};\n`);
    const agentMic = writeWav(join(root, 'agent-mic.wav'), await agentSpeech());
    const agent = await startPhone({ dir: join(root, 'agent'), user: 'agent', source: agentMic, autoAnswer: true, record: true, ctrl: true });
    const cl = await startGatewayCardline({ target: `sip:agent@${HOST}:${agent.sipPort}` });
    roots.push(cl.dataDir);
    const agentCtrl = await BaresipCtrl.connect(agent.ctrlPort);
    const sippPort = await freePort();
    const sipp = startSipp([
      `${HOST}:${cl.sipPort}`, '-sf', join(SCENARIOS, 'info-dtmf-uac.xml'), '-inf', 'keys.csv', '-i', HOST, '-p', String(sippPort),
      '-mi', HOST, '-mp', String(await freePort()), '-m', '1', '-nostdin', '-timeout', '80s', '-timeout_error',
    ], { cwd: join(root, 'sipp'), timeoutMs: 85_000 });
    try {
      const call = await answeredCall(cl);
      const sipCallId = call.sipCallId;
      const sessionId = await bindPayment(cl, call.id);
      await nudge(sippPort, sipCallId, 1); // "please type your card now"
      await readyAndSubmit(cl, sessionId);
      assert.equal(agentCtrl.events.filter((e) => e.type.startsWith('CALL_DTMF')).length, 0, 'no key reached the agent phone');
      // control: the session ended, so secure mode turns off by itself (after the hangover); then one INFO key is
      // relayed to the agent phone
      const off = await until('secure mode off after the session ended', async () => {
        const c = (await calls(cl)).find((x) => x.id === call.id);
        return c && !c.secure ? c : undefined;
      });
      assert.deepEqual(off.secureSpans.map((x) => [x.startedBy, x.endedBy]), [['api', 'session-ended']]);
      await nudge(sippPort, sipCallId, 2);
      await agentCtrl.until('CALL_DTMF_START');
      const done = await sipp.done;
      assert.equal(done.code, 0, `sipp caller failed:\n${done.output.slice(-1500)}`);
      await until('Cardline to end the call', async () => (await calls(cl)).length === 0);
      await agentCtrl.until('CALL_CLOSED');
      agentCtrl.close();
      await agent.kill();
      const keys = agentCtrl.events.filter((e) => e.type === 'CALL_DTMF_START').map((e) => e.param);
      assert.deepEqual(keys, ['5'], 'the agent phone got exactly the control key');
      await assertHeardNoDigits(heardAudio(agent), 3);
      await cl.close();
      assertNoCardData('Cardline', [...cl.logs, ...cl.responses], [...dataFiles(cl.dataDir), agent.logFile]);
    } finally {
      agentCtrl.close();
      await sipp.stop();
      await agent.kill();
      await cl.close();
    }
  });
});
