/**
 * Real phones: a baresip caller whose "microphone" is a WAV (background noise plus a card number as in-band DTMF)
 * dials through Cardline's B2BUA to a baresip callee that records what it heard (sndfile). With secure mode on
 * (policy: every call) the callee's recording holds zero digits by Cardline's detector and by spandsp's, and the
 * call's secure sink got the whole card number. The same with SRTP on the agent leg (a callee that takes only
 * SDES-SRTP, RFC 4568, and Cardline requiring it there): the call connects only over SRTP, and what the callee
 * decrypted and recorded holds zero digits. The control call with secure mode off proves the harness: there the
 * callee hears the digits.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeWavChannel8k, detectDtmf, type DtmfDigit, generateSequence, serializeWav } from '../../src/dsp/index.ts';
import { B2bua } from '../../src/gateway/index.ts';
import { RtpPortAllocator } from '../../src/media/index.ts';
import { UserAgentCore } from '../../src/sip/dialogs/index.ts';
import { SipStack } from '../../src/sip/transactions/index.ts';
import { UdpTransport } from '../../src/sip/transport/index.ts';
import { concat, mix, silence, whiteNoise } from '../support/audio.ts';
import { spandspDetect } from '../support/spandsp.ts';
import { freePort } from '../sip/support/sipp.ts';
import { untilUdpBound } from './support/ports.ts';

const HOST = '127.0.0.1';
const hasBaresip = spawnSync('baresip', ['-h']).error === undefined;
const CARD = '4111111111111111';
const dirs: string[] = [];

function config(dir: string, o: { sipPort: number; rtp: [number, number]; source?: string; record?: string; srtp?: boolean }): void {
  const lines = [
    'poll_method epoll', `net_interface ${HOST}`, `sip_listen ${HOST}:${o.sipPort}`,
    'audio_player alsa,null', 'audio_alert alsa,null',
    `audio_source ${o.source ? `aufile,${o.source}` : 'alsa,null'}`,
    'ausrc_srate 8000', 'auplay_srate 8000', 'ausrc_channels 1', 'auplay_channels 1',
    `rtp_ports ${o.rtp[0]}-${o.rtp[1]}`, 'module_path /usr/lib/baresip/modules',
    'module g711.so', 'module alsa.so', 'module aufile.so', ...(o.record ? ['module sndfile.so', `snd_path ${o.record}`] : []),
    ...(o.srtp ? ['module srtp.so'] : []),
    'module_tmp account.so', 'module_app menu.so',
  ];
  writeFileSync(join(dir, 'config'), `${lines.join('\n')}\n`);
}

function run(dir: string, args: string[]): { done: Promise<number | null>; kill: () => void } {
  const child = spawn('baresip', ['-f', dir, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
  const done = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  return { done, kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); } };
}

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('B2BUA with baresip phones', { skip: !hasBaresip && 'baresip is not installed (scripts/system-deps.sh)' }, () => {
  /** `agentSrtp`: the callee takes SDES-SRTP only (mediaenc=srtp-mand) and Cardline requires it on the agent leg. */
  async function call(secure: boolean, agentSrtp = false): Promise<{ heard: Int16Array; digits: string }> {
    const root = mkdtempSync(join(tmpdir(), 'cardline-baresip-'));
    dirs.push(root);
    const callerDir = join(root, 'caller');
    const calleeDir = join(root, 'callee');
    const rec = join(root, 'rec');
    for (const d of [callerDir, calleeDir, rec]) spawnSync('mkdir', ['-p', d]);
    // the caller's microphone: 0.8 s of room noise, then the card digits over the noise, then 0.5 s
    const tones = generateSequence(CARD, { onMs: 90, offMs: 90, levelDbm0: -10 }).samples;
    const speech = concat(silence(6400), tones, silence(4000));
    const source = mix(speech, whiteNoise(speech.length, 150, 5));
    const wav = join(root, 'source.wav');
    writeFileSync(wav, serializeWav({ sampleRate: 8000, channels: [source] }));
    const calleePort = await freePort();
    const callerPort = await freePort();
    const rtpBase = 30000 + (process.pid % 50) * 150 + (secure ? 0 : 50) + (agentSrtp ? 100 : 0);
    config(calleeDir, { sipPort: calleePort, rtp: [rtpBase, rtpBase + 19], record: rec, srtp: agentSrtp });
    config(callerDir, { sipPort: callerPort, rtp: [rtpBase + 20, rtpBase + 39], source: wav });
    writeFileSync(join(calleeDir, 'accounts'), `<sip:callee@${HOST}:${calleePort}>;regint=0;answermode=auto;audio_codecs=PCMU${agentSrtp ? ';mediaenc=srtp-mand' : ''}\n`);
    writeFileSync(join(callerDir, 'accounts'), `<sip:caller@${HOST}:${callerPort}>;regint=0;audio_codecs=PCMU\n`);

    const stack = new SipStack({ transports: [new UdpTransport({ address: HOST, port: 0 })] });
    await stack.start();
    const ua = new UserAgentCore({ stack });
    const mediaBase = 44000 + (process.pid % 100) * 10;
    const allocator = new RtpPortAllocator({ address: HOST, minPort: mediaBase, maxPort: mediaBase + 9 });
    const digits: DtmfDigit[] = [];
    const b2bua = new B2bua({
      ua, allocator, secureByDefault: secure, ...(agentSrtp ? { agentSrtp: 'sdes' as const } : {}),
      routes: [{ requestUri: /^sip:callee@/, target: `sip:callee@${HOST}:${calleePort}` }],
      onSecureDigit: (_call, d) => digits.push(d),
    });
    const callee = run(calleeDir, ['-t', '15']);
    try {
      await untilUdpBound(calleePort);
      const cardlinePort = stack.layer.transports[0]!.local.port;
      const caller = run(callerDir, ['-t', '8', '-e', `/dial sip:callee@${HOST}:${cardlinePort}`]);
      await caller.done; // -t: quits (BYE) after 8 s; the WAV lasts 4.6 s
      const t0 = Date.now();
      while (b2bua.registry.size > 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500)); // the callee closes its recording after the BYE
    } finally {
      callee.kill();
      await callee.done;
      await b2bua.close();
      ua.close();
      await stack.close();
      await allocator.close();
    }
    const dec = readdirSync(rec).find((f) => f.endsWith('-dec.wav'));
    assert.ok(dec, `the callee recorded nothing (files: ${readdirSync(rec).join(', ')})`);
    const { samples } = decodeWavChannel8k(new Uint8Array(readFileSync(join(rec, dec))));
    return { heard: samples, digits: digits.join('') };
  }

  it('secure mode on: the callee hears zero digits (ours and spandsp), the sink gets the card number', async () => {
    const { heard, digits } = await call(true);
    assert.ok(heard.length > 8000 * 3, `the callee recorded ${heard.length} samples`);
    assert.deepEqual(detectDtmf(heard), []);
    assert.deepEqual(await spandspDetect(heard), []);
    assert.deepEqual(await spandspDetect(heard, { sensitive: true }), []);
    assert.equal(digits, CARD);
  });

  it('SRTP on the agent leg (baresip callee with mediaenc=srtp-mand, Cardline agentSrtp sdes): its decoded audio holds zero digits', async () => {
    const { heard, digits } = await call(true, true);
    assert.ok(heard.length > 8000 * 3, `the SRTP callee recorded ${heard.length} samples (the call needs SRTP to connect)`);
    assert.deepEqual(detectDtmf(heard), []);
    assert.deepEqual(await spandspDetect(heard), []);
    assert.equal(digits, CARD);
  });

  it('control: secure mode off, the same call carries the digits to the callee and none to the sink', async () => {
    const { heard, digits } = await call(false);
    assert.equal(detectDtmf(heard).map((e) => e.digit).join(''), CARD);
    assert.equal(digits, '');
  });
});
