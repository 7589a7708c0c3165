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
 * - SDES-SRTP on the caller leg (baresip `mediaenc=srtp-mand`), plain RTP to the agent, in-band card; and SDES-SRTP
 *   on both legs (`gateway.agentSrtp: sdes`, the agent phone srtp-mand too);
 * - secure mode by the agent's in-band trigger (`gateway.triggers`, legacy style): the agent phone sends `#388*`
 *   (RFC 4733), the caller keys the card, the agent sends `#388#`; neither phone hears or gets a key, the secure
 *   span shows trigger → trigger, and the built-in recorder's file (masked secure span) holds no digit.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeWavChannel8k } from '../../src/dsp/index.ts';
import type { GatewayConfig } from '../../src/gateway/index.ts';
import {
  BaresipCtrl, hasBaresip, heardAudio, HOST, type Phone, startPhone,
} from './support/baresip.ts';
import { agentSpeech, assertHeardNoDigits, cardTyping, speechOnly, writeWav } from './support/call-audio.ts';
import {
  answeredCall, assertNoCardData, bindPayment, CARD_KEYS, type CallView, calls, type CardlineUnderTest, dataFiles, readyAndSubmit,
  sessionReady, submit,
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
async function rig(o: { source: Int16Array; srtp?: boolean; agentSrtp?: boolean; gateway?: Partial<GatewayConfig> }): Promise<Rig> {
  const root = mkdtempSync(join(tmpdir(), 'cardline-e2e-phones-'));
  roots.push(root);
  for (const d of ['caller', 'agent']) mkdirSync(join(root, d));
  const wav = writeWav(join(root, 'mic.wav'), o.source);
  // the agent's microphone: a real-time source (with no source, baresip's alsa "null" device is read as fast as it
  // goes, flooding the call with several times 50 packets/s)
  const agentMic = writeWav(join(root, 'agent-mic.wav'), await agentSpeech());
  const agent = await startPhone({ dir: join(root, 'agent'), user: 'agent', source: agentMic, autoAnswer: true, record: true, ctrl: true, ...(o.agentSrtp ? { srtp: true } : {}) });
  const caller = await startPhone({ dir: join(root, 'caller'), user: 'caller', source: wav, ctrl: true, record: true, ...(o.srtp ? { srtp: true } : {}) });
  const gateway: Partial<GatewayConfig> = { ...o.gateway, ...(o.agentSrtp ? { agentSrtp: 'sdes' as const } : {}) };
  const cl = await startGatewayCardline({ target: `sip:agent@${HOST}:${agent.sipPort}`, gateway });
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

describe('end to end with baresip phones: the whole payment', { skip: !hasBaresip && 'baresip is not installed (scripts/system-deps.sh)' }, () => {
  /** The caller speaks, the agent binds the payment, the caller's microphone switches to keypad audio. */
  async function inBandPayment(o: { srtp: boolean; agentSrtp?: boolean }): Promise<void> {
    const r = await rig({ source: await speechOnly(40_000), srtp: o.srtp, agentSrtp: o.agentSrtp ?? false });
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
      if (o.agentSrtp) assert.match(readFileSync(r.agent.logFile, 'utf8'), /SRTP is Enabled/);
      scan(r);
    } finally {
      await r.close();
    }
  }

  it('in-band tones: the agent hears zero digits, the bound session succeeds, no card data anywhere', { timeout: 90_000 }, () => inBandPayment({ srtp: false }));

  it('SRTP (SDES) on the caller leg, plain RTP to the agent: in-band card masked, the session succeeds', { timeout: 90_000 }, () => inBandPayment({ srtp: true }));

  it('SRTP (SDES) on both legs (gateway.agentSrtp sdes): in-band card masked, the session succeeds', { timeout: 90_000 }, () => inBandPayment({ srtp: true, agentSrtp: true }));

  it('RFC 4733 from the caller: no telephone-event and no tone reaches the agent, the session succeeds', { timeout: 90_000 }, async () => {
    const r = await rig({ source: await speechOnly(60_000) }); // long: the test hangs up
    try {
      assert.ok((await r.callerCtrl.command('dial', `sip:pay@${HOST}:${r.cl.sipPort}`)).ok);
      const call = await answeredCall(r.cl);
      await r.callerCtrl.until('CALL_ESTABLISHED');
      const sessionId = await bindPayment(r.cl, call.id);
      for (const key of CARD_KEYS) { // one key per command, about three keys a second
        assert.ok((await r.callerCtrl.command('sndcode', key)).ok);
        await new Promise((res) => setTimeout(res, 350));
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
  it('agent-side trigger: #388* turns secure mode on, the caller keys the card (masked, the session succeeds), #388# ends it; the recording holds no digit', { timeout: 90_000 }, async () => {
    const r = await rig({
      source: await speechOnly(40_000),
      gateway: { triggers: { start: '#388*', end: '#388#' }, recording: { secureSpan: 'masked' } },
    });
    const agentKeys = async (keys: string): Promise<void> => {
      for (const key of keys) { // RFC 4733 from the agent phone, one key per command
        assert.ok((await r.agentCtrl.command('sndcode', key)).ok);
        await new Promise((res) => setTimeout(res, 350));
      }
    };
    const thisCall = async (id: string): Promise<CallView | undefined> => (await calls(r.cl)).find((c) => c.id === id);
    try {
      const card = writeWav(join(r.root, 'card.wav'), await cardTyping(15_000));
      assert.ok((await r.callerCtrl.command('dial', `sip:pay@${HOST}:${r.cl.sipPort}`)).ok);
      const call = await answeredCall(r.cl);
      assert.equal(call.secure, false);
      await agentKeys('#388*');
      await until('secure mode on by the trigger', async () => (await thisCall(call.id))?.secure);
      // the agent's console binds its payment session to the call (secure mode is already on: this only binds)
      const sessionId = await bindPayment(r.cl, call.id);
      assert.ok((await r.callerCtrl.command('ausrc', `aufile,${card}`)).ok);
      await sessionReady(r.cl, sessionId);
      await agentKeys('#388#');
      const off = await until('secure mode off by the trigger', async () => {
        const c = await thisCall(call.id);
        return c && !c.secure ? c : undefined;
      });
      assert.deepEqual(off.secureSpans.map((x) => [x.startedBy, x.endedBy]), [['trigger', 'trigger']]);
      await submit(r.cl, sessionId);
      assert.ok((await r.callerCtrl.command('hangup')).ok);
      await callOver(r);
      await r.close();
      // neither phone got a telephone-event (the trigger keys were taken out of the agent → caller path)
      assert.equal(r.callerCtrl.events.filter((e) => e.type.startsWith('CALL_DTMF')).length, 0, 'the caller got trigger keys');
      assert.equal(r.agentCtrl.events.filter((e) => e.type.startsWith('CALL_DTMF')).length, 0, 'the agent got caller keys');
      await assertHeardNoDigits(heardAudio(r.agent), 8);
      await assertHeardNoDigits(heardAudio(r.caller), 8); // the trigger keys never reached the caller as tones either
      // the built-in recorder (masked secure span): the caller channel as the agent heard it holds no digit either
      const recDir = join(r.cl.dataDir, 'recordings');
      const wav = readdirSync(recDir).find((f) => f.endsWith('.wav'));
      assert.ok(wav, 'the call was recorded');
      const bytes = new Uint8Array(readFileSync(join(recDir, wav)));
      await assertHeardNoDigits(decodeWavChannel8k(bytes, { channel: 0 }).samples, 8);
      scan(r);
    } finally {
      await r.close();
    }
  });
});
