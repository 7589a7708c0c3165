/**
 * baresip (Debian 1.0.0) as a real SIP phone for end-to-end tests: one config folder per instance, the
 * "microphone" an 8 kHz WAV (aufile), what it heard recorded by sndfile (`*-dec.wav` in `record`), and an optional
 * ctrl_tcp control socket (netstring-framed JSON: commands in, responses and call events out). Recipes that work
 * on this machine: /work/shared/TELEPHONY-PEERS.md. Processes are stopped by PID, never by name.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { decodeWavChannel8k } from '../../../src/dsp/index.ts';
import { freePort } from '../../sip/support/sipp.ts';
import { untilUdpBound } from './ports.ts';

export const HOST = '127.0.0.1';
export const hasBaresip = spawnSync('baresip', ['-h']).error === undefined;

export interface PhoneOptions {
  /** Folder for this phone (config, accounts, log, recordings). */
  dir: string;
  /** Account user part, e.g. `caller`. */
  user: string;
  /** The microphone: an 8 kHz mono 16-bit WAV (absolute path); none = silence. */
  source?: string;
  /** Record what the phone hears (sndfile). */
  record?: boolean;
  /** Answer incoming calls at once. */
  autoAnswer?: boolean;
  /** Open a ctrl_tcp socket. */
  ctrl?: boolean;
  codec?: 'PCMU' | 'PCMA';
  /** SDES-SRTP on this phone's calls (RFC 4568; baresip `mediaenc=srtp-mand`, srtp.so). */
  srtp?: boolean;
}

export interface Phone {
  sipPort: number;
  uri: string;
  /** ctrl_tcp port (0 without ctrl). */
  ctrlPort: number;
  /** Folder the phone records into (sndfile writes `dump-<time>-dec.wav` = what it heard). */
  recordDir: string;
  /** stdout + stderr of the process. */
  logFile: string;
  /** Resolves with the exit code when baresip exits. */
  done: Promise<number | null>;
  kill(): Promise<void>;
}

/** `n` consecutive UDP ports on 127.0.0.1 that were free a moment ago (baresip needs an `rtp_ports` range). */
export async function freeUdpRange(n: number): Promise<number> {
  const { createSocket } = await import('node:dgram');
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + 2 * Math.floor(Math.random() * 6000); // below the ephemeral range (32768+) that port-0 binds use
    const sockets: Array<import('node:dgram').Socket> = [];
    let ok = true;
    for (let p = base; p < base + n && ok; p++) {
      const s = createSocket('udp4');
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(p, HOST, () => resolve(true));
      });
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    if (ok) return base;
  }
  throw new Error('no free UDP port range');
}

/** Starts a baresip phone and resolves once its SIP (and ctrl_tcp) ports are bound. */
export async function startPhone(o: PhoneOptions): Promise<Phone> {
  const sipPort = await freePort();
  const ctrlPort = o.ctrl ? await freePort() : 0;
  const rtp = await freeUdpRange(10);
  const recordDir = join(o.dir, 'rec');
  mkdirSync(recordDir, { recursive: true });
  const lines = [
    'poll_method epoll', `net_interface ${HOST}`, `sip_listen ${HOST}:${sipPort}`,
    'audio_player alsa,null', 'audio_alert alsa,null',
    `audio_source ${o.source ? `aufile,${o.source}` : 'alsa,null'}`,
    'ausrc_srate 8000', 'auplay_srate 8000', 'ausrc_channels 1', 'auplay_channels 1',
    `rtp_ports ${rtp}-${rtp + 9}`, 'module_path /usr/lib/baresip/modules',
    'module g711.so', 'module alsa.so', 'module aufile.so',
    ...(o.record ? ['module sndfile.so', `snd_path ${recordDir}`] : []),
    ...(o.srtp ? ['module srtp.so'] : []),
    'module_tmp account.so', 'module_app menu.so',
    ...(o.ctrl ? ['module_app ctrl_tcp.so', `ctrl_tcp_listen ${HOST}:${ctrlPort}`] : []),
  ];
  writeFileSync(join(o.dir, 'config'), `${lines.join('\n')}\n`);
  const uri = `sip:${o.user}@${HOST}:${sipPort}`;
  const params = [
    'regint=0', ...(o.autoAnswer ? ['answermode=auto'] : []), `audio_codecs=${o.codec ?? 'PCMU'}`,
    ...(o.srtp ? ['mediaenc=srtp-mand'] : []),
  ];
  writeFileSync(join(o.dir, 'accounts'), `<${uri}>;${params.join(';')}\n`);
  const logFile = join(o.dir, 'baresip.log');
  const log = createWriteStream(logFile);
  // -t: a backstop so a stuck phone never outlives the test by much
  const child: ChildProcess = spawn('baresip', ['-f', o.dir, '-t', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const done = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  let killed: Promise<void> | null = null;
  const kill = (): Promise<void> => {
    killed ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await done;
      await new Promise<void>((r) => log.end(() => r()));
    })();
    return killed;
  };
  try {
    await untilUdpBound(sipPort, 20_000);
    if (o.ctrl) await untilTcpListening(ctrlPort, 20_000);
  } catch (e) {
    await kill();
    throw e;
  }
  return { sipPort, uri, ctrlPort, recordDir, logFile, done, kill };
}

async function untilTcpListening(port: number, ms: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, HOST);
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - t0 > ms) throw new Error(`nothing listens on TCP port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the phone heard (its sndfile `*-dec.wav`), 8 kHz; throws when it recorded nothing. */
export function heardAudio(phone: Phone): Int16Array {
  const files = readdirSync(phone.recordDir);
  const dec = files.find((f) => f.endsWith('-dec.wav'));
  if (!dec) throw new Error(`the phone recorded nothing (files: ${files.join(', ')})`);
  return decodeWavChannel8k(new Uint8Array(readFileSync(join(phone.recordDir, dec)))).samples;
}

export interface CtrlEvent {
  type: string;
  class?: string;
  param?: string;
  [k: string]: unknown;
}

/**
 * A ctrl_tcp client: netstrings (`<len>:<payload>,`, D. J. Bernstein's netstring format) carrying JSON. Every
 * event the phone pushes (CALL_ESTABLISHED, CALL_CLOSED, CALL_DTMF_START/END, ...) is kept in `events`.
 */
export class BaresipCtrl {
  readonly events: CtrlEvent[] = [];
  readonly #socket: Socket;
  #buf = Buffer.alloc(0);
  #token = 0;
  readonly #pending = new Map<string, (r: { ok: boolean; data: string }) => void>();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<BaresipCtrl> {
    const socket = connect(port, HOST);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new BaresipCtrl(socket);
  }

  #onData(d: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, d]);
    for (;;) {
      const colon = this.#buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.#buf.subarray(0, colon).toString('ascii'));
      if (!Number.isInteger(len) || len < 0) throw new Error('bad netstring from ctrl_tcp');
      if (this.#buf.length < colon + 1 + len + 1) return;
      const payload = this.#buf.subarray(colon + 1, colon + 1 + len).toString('utf8');
      this.#buf = this.#buf.subarray(colon + 1 + len + 1);
      let msg: { event?: boolean; response?: boolean; ok?: boolean; data?: string; token?: string } & CtrlEvent;
      try {
        msg = JSON.parse(payload) as { event?: boolean; response?: boolean; ok?: boolean; data?: string; token?: string } & CtrlEvent;
      } catch {
        continue; // not JSON: ignored (the test's assertions work on what did parse)
      }
      if (msg.event) this.events.push(msg);
      else if (msg.response && msg.token) {
        this.#pending.get(msg.token)?.({ ok: msg.ok === true, data: msg.data ?? '' });
        this.#pending.delete(msg.token);
      }
    }
  }

  /** Sends one command (e.g. `dial`, `hangup`, `sndcode`) and resolves with baresip's response. */
  command(command: string, params = ''): Promise<{ ok: boolean; data: string }> {
    const token = `t${++this.#token}`;
    const body = Buffer.from(JSON.stringify({ command, params, token }), 'utf8');
    const p = new Promise<{ ok: boolean; data: string }>((resolve) => this.#pending.set(token, resolve));
    this.#socket.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
    return p;
  }

  /** Resolves when an event of `type` has arrived (counting from the start of the connection). */
  async until(type: string, ms = 15_000): Promise<CtrlEvent> {
    const t0 = Date.now();
    for (;;) {
      const e = this.events.find((x) => x.type === type);
      if (e) return e;
      if (Date.now() - t0 > ms) throw new Error(`no ${type} event within ${ms} ms (got ${this.events.map((x) => x.type).join(', ')})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}
