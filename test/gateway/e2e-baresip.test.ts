/**
 * End to end with real phones (issue 6, "Proof with real peers"): a baresip caller dials Cardline (started by the
 * composition root on a real SQLite directory), Cardline routes to a baresip agent phone that answers and records
 * what it hears. The caller speaks, then keys a card; the agent binds a payment session to the call over the API
 * (secure mode on), the session fills to `ready` and is submitted through the sandbox connector (succeeded).
 * The agent's recording holds ZERO digits by Cardline's detector and spandsp's; no log line, HTTP body, database
 * file or phone log holds the card.
 *
 * - in-band tones in the caller's audio (masked by the relay);
 * - RFC 4733 telephone-events (baresip ctrl_tcp `sndcode`, one key per command, paced like a person): the agent
 *   phone gets no telephone-event (no CALL_DTMF event on its ctrl_tcp) and no tones; after the payment, with secure
 *   mode off, one key does reach it (the control: the agent phone does report keys);
 * - SDES-SRTP on the caller leg (baresip `mediaenc=srtp-mand`), plain RTP to the agent, in-band card.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BaresipCtrl, hasBaresip, heardAudio, HOST, type Phone, startPhone,
} from './support/baresip.ts';
import { agentSpeech, assertHeardNoDigits, cardTyping, speechOnly, writeWav } from './support/call-audio.ts';
import {
  answeredCall, assertNoCardData, bindPayment, CARD_KEYS, calls, type CardlineUnderTest, dataFiles, readyAndSubmit,
  startGatewayCardline, until,
} from './support/cardline.ts';

const roots: string[] = [];
after(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

interface Rig {
  /** the run's folder (the phones' folders and WAVs) */
  root: string;
  cl: CardlineUnderTest;
  caller: Phone;
  agent: Phone;
  callerCtrl: BaresipCtrl;
  agentCtrl: BaresipCtrl;
  close(): Promise<void>;
}

/** Agent phone (auto-answer, records), Cardline routing `sip:pay@` to it, caller phone; both phones on ctrl_tcp. */
async function rig(o: { source: Int16Array; srtp?: boolean }): Promise<Rig> {
  const root = mkdtempSync(join(tmpdir(), 'cardline-e2e-phones-'));
  roots.push(root);
  for (const d of ['caller', 'agent']) mkdirSync(join(root, d));
  const wav = writeWav(join(root, 'mic.wav'), o.source);
  // the agent's microphone: a real-time source (with no source, baresip's alsa "null" device is read as fast as it
  // goes, flooding the call with several times 50 packets/s)
  const agentMic = writeWav(join(root, 'agent-mic.wav'), await agentSpeech());
  const agent = await startPhone({ dir: join(root, 'agent'), user: 'agent', source: agentMic, autoAnswer: true, record: true, ctrl: true });
  const caller = await startPhone({ dir: join(root, 'caller'), user: 'caller', source: wav, ctrl: true, ...(o.srtp ? { srtp: true } : {}) });
  const cl = await startGatewayCardline({ target: `sip:agent@${HOST}:${agent.sipPort}` });
  const callerCtrl = await BaresipCtrl.connect(caller.ctrlPort);
  roots.push(cl.dataDir);
  const agentCtrl = await BaresipCtrl.connect(agent.ctrlPort);
  let closing: Promise<void> | null = null;
  return {
    root, cl, caller, agent, callerCtrl, agentCtrl,
    close() {
      closing ??= (async () => {
        callerCtrl.close();
        agentCtrl.close();
        await Promise.all([caller.kill(), agent.kill()]);
        await cl.close();
      })();
      return closing;
    },
  };
}

/** After the caller hung up: Cardline has no call left, the agent phone closed its call (its recording is final). */
async function callOver(r: Rig): Promise<void> {
  await until('Cardline to end the call', async () => (await calls(r.cl)).length === 0);
  await r.agentCtrl.until('CALL_CLOSED');
  assert.equal(r.cl.running.gateway?.allocator.inUse, 0, 'media ports freed');
}

/** Card-data scan over everything the run produced. */
function scan(r: Rig): void {
  assertNoCardData('Cardline', [...r.cl.logs, ...r.cl.responses], [...dataFiles(r.cl.dataDir), r.caller.logFile, r.agent.logFile]);
}

describe('end to end with baresip phones: the whole payment', { skip: !hasBaresip && 'baresip is not installed (scripts/system-deps.sh)', concurrency: true }, () => {
  /** The caller speaks, the agent binds the payment, the caller's microphone switches to keypad audio. */
  async function inBandPayment(o: { srtp: boolean }): Promise<void> {
    const r = await rig({ source: await speechOnly(40_000), srtp: o.srtp });
    try {
      const card = writeWav(join(r.root, 'card.wav'), await cardTyping());
      assert.ok((await r.callerCtrl.command('dial', `sip:pay@${HOST}:${r.cl.sipPort}`)).ok);
      const call = await answeredCall(r.cl);
      const sessionId = await bindPayment(r.cl, call.id);
      // "please type your card number now": the caller's microphone switches to the keypad audio
      assert.ok((await r.callerCtrl.command('ausrc', `aufile,${card}`)).ok);
      const done = await readyAndSubmit(r.cl, sessionId);
      assert.ok(done.result?.token, 'a token came back');
      await r.callerCtrl.until('CALL_CLOSED', 30_000); // the caller hangs up when its microphone WAV ends
      await callOver(r);
      await r.close();
      await assertHeardNoDigits(heardAudio(r.agent), 8);
      assert.equal(r.agentCtrl.events.filter((e) => e.type.startsWith('CALL_DTMF')).length, 0);
      if (o.srtp) {
        // the caller leg really was SRTP: baresip says so in its log, and Cardline answered RTP/SAVP with a key
        assert.match(readFileSync(r.caller.logFile, 'utf8'), /SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_(80|32)\)/);
      }
      scan(r);
    } finally {
      await r.close();
    }
  }

  it('in-band tones: the agent hears zero digits, the bound session succeeds, no card data anywhere', { timeout: 90_000 }, () => inBandPayment({ srtp: false }));

  it('SRTP (SDES) on the caller leg, plain RTP to the agent: in-band card masked, the session succeeds', { timeout: 90_000 }, () => inBandPayment({ srtp: true }));

  it('RFC 4733 from the caller: no telephone-event and no tone reaches the agent, the session succeeds', { timeout: 90_000 }, async () => {
    const r = await rig({ source: await speechOnly(60_000) }); // long: the test hangs up
    try {
      assert.ok((await r.callerCtrl.command('dial', `sip:pay@${HOST}:${r.cl.sipPort}`)).ok);
      const call = await answeredCall(r.cl);
      await r.callerCtrl.until('CALL_ESTABLISHED');
      const sessionId = await bindPayment(r.cl, call.id);
      for (const key of CARD_KEYS) { // one key per command, about four keys a second
        assert.ok((await r.callerCtrl.command('sndcode', key)).ok);
        await new Promise((res) => setTimeout(res, 250));
      }
      assert.equal(r.callerCtrl.events.filter((e) => e.type === 'CALL_CLOSED').length, 0, 'the call was still up while keying');
      await readyAndSubmit(r.cl, sessionId);
      // control: with secure mode off one key does reach the agent phone as a telephone-event
      assert.equal((await r.cl.api('POST', `/v1/calls/${call.id}/secure`, { on: false })).status, 200);
      assert.ok((await r.callerCtrl.command('sndcode', '5')).ok);
      await r.agentCtrl.until('CALL_DTMF_START');
      await r.agentCtrl.until('CALL_DTMF_END');
      assert.ok((await r.callerCtrl.command('hangup')).ok);
      await callOver(r);
      await r.close();
      const keys = r.agentCtrl.events.filter((e) => e.type === 'CALL_DTMF_START').map((e) => e.param);
      assert.deepEqual(keys, ['5'], 'the agent phone got exactly the control key');
      await assertHeardNoDigits(heardAudio(r.agent), 3);
      scan(r);
    } finally {
      await r.close();
    }
  });
});
