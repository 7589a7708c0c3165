/**
 * `npm run bench:media` (via bench/media/run.sh): sipp places N concurrent G.711 calls through Cardline's media
 * gateway (its own process, pinned to one core, secure mode ON for every call by policy) to a sipp answering side
 * that echoes the RTP back. Not a test: it prints a table and asserts nothing. Method: bench/media/README.md.
 *
 * Per N, one set of calls and two measurement windows on the same calls: "masked" (secure mode on: decode → DTMF
 * masker → encode caller → agent) and then "pass" (secure mode turned off over IPC: payload bytes relayed as they
 * are) — the reference that makes the masking cost visible.
 *
 * Options: --calls 100,250,500,1000 (default) · --window S (seconds per window, default 20) · --rate R (calls/s,
 * default 100) · --cpu C (core for Cardline, default 1 when the machine has 2+ cores; "none" = not pinned) ·
 * --no-pass (masked window only) · --settle S (after the last call is answered, default 3) · --profile (Cardline runs
 * under `node --cpu-prof`; the profile of each N goes to its run directory and its top functions are printed).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ulawEncode } from '../../src/dsp/index.ts';
import type { GatewayConfig, MediaRelayStats } from '../../src/gateway/index.ts';
import { cardEntry } from '../../test/support/card-entry.ts';
import { concat, prng, silence, speechClips } from '../../test/support/corpus.ts';
import { untilUdpBound } from '../../test/gateway/support/ports.ts';
import { freePort, startSipp, type SippRun } from '../../test/sip/support/sipp.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HERE = join(ROOT, 'bench', 'media');
const HOST = '127.0.0.1';
/** Cardline's RTP range: 4 ports per call (two RTP/RTCP pairs), below the kernel's ephemeral range (32768+). */
const MEDIA_MIN = 20000;
const MEDIA_MAX = 29999;
const PTIME_MS = 20;

// ---- options ----------------------------------------------------------------------------------------------

function usage(message: string): never {
  process.stderr.write(`bench:media: ${message}\n`);
  process.exit(2);
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : (process.argv[i + 1] ?? usage(`--${name} needs a value`));
}

function positive(name: string, def: number): number {
  const raw = argValue(name);
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) usage(`--${name} needs a positive number`);
  return v;
}

const CALLS = (argValue('calls') ?? '100,250,500,1000').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 2400) usage('--calls takes integers 1..2400, comma-separated');
  return n;
});
const WINDOW_S = positive('window', 20);
const RATE = positive('rate', 100);
const SETTLE_S = positive('settle', 3);
const PASS = !process.argv.includes('--no-pass');
const PROFILE = process.argv.includes('--profile');
const CPU = ((): string | null => {
  const raw = argValue('cpu') ?? (cpus().length >= 2 ? '1' : 'none');
  if (raw === 'none') return null;
  if (!/^\d+$/.test(raw) || Number(raw) >= cpus().length) usage(`--cpu must be a core number below ${cpus().length}, or none`);
  return raw;
})();

// ---- /proc readings -----------------------------------------------------------------------------------------

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU seconds of a process (all its threads), from /proc/<pid>/stat fields 14 and 15. */
function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/**
 * Datagrams the kernel dropped because the socket's receive buffer was full, summed over the UDP sockets a process
 * holds (the `drops` column of /proc/net/udp for the socket inodes in /proc/<pid>/fd): loss before the process read.
 */
function udpDrops(pid: number): Map<number, number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const byPort = new Map<number, number>(); // local port → drops
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13 || !inodes.has(f[9] ?? '')) continue;
    const port = Number.parseInt((f[1] ?? '').split(':')[1] ?? '', 16);
    byPort.set(port, (byPort.get(port) ?? 0) + Number(f[f.length - 1]));
  }
  return byPort;
}

/** Drops between two readings, over the sockets open at both (a socket closed meanwhile takes its count along). */
function dropsDelta(a: Map<number, number>, b: Map<number, number>, ports?: ReadonlySet<number>): number {
  let n = 0;
  for (const [port, d] of b) {
    const before = a.get(port);
    if (before !== undefined && (!ports || ports.has(port))) n += d - before;
  }
  return n;
}

const T0 = Date.now();
function log(message: string): void {
  process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A timer for Promise.race that does not keep the process alive once the race is won. */
const deadline = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

// ---- the gateway process ------------------------------------------------------------------------------------

interface StatsReply {
  calls: { answered: number; live: number };
  media: MediaRelayStats;
  handlerErrors: number;
  secureDigits: number;
  rss: number;
  heapUsed: number;
}

interface CallsReply {
  calls: Array<{ callee: string; state: string; secure: boolean; callerRtpPort: number | null; agentRtpPort: number | null }>;
}

class GatewayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  #next = 1;
  readonly #pending = new Map<number, (m: Record<string, unknown>) => void>();
  #stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess) {
    this.child = child;
    if (child.pid === undefined) throw new Error('the gateway process did not start');
    this.pid = child.pid;
    child.stderr?.on('data', (d: Buffer) => { this.#stderr = (this.#stderr + d.toString()).slice(-4000); });
    child.on('message', (raw: unknown) => {
      const m = raw as Record<string, unknown>;
      const id = typeof m.id === 'number' ? m.id : -1;
      this.#pending.get(id)?.(m);
      this.#pending.delete(id);
    });
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  /** Starts gateway-runner.ts (under `taskset -c cpu` when given) and waits for its ready message. */
  static async start(config: GatewayConfig, cpu: string | null, profileDir: string | null): Promise<GatewayProcess> {
    const nodeArgs = [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--expose-gc', '--import', 'tsx', join(HERE, 'gateway-runner.ts'), JSON.stringify(config)];
    const child = cpu === null
      ? spawn(process.execPath, nodeArgs, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
      : spawn('taskset', ['-c', cpu, process.execPath, ...nodeArgs], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const gw = new GatewayProcess(child);
    const ready = new Promise<Record<string, unknown>>((resolve) => gw.#pending.set(0, resolve));
    const r = await Promise.race([ready, gw.exited.then(() => null), deadline(60_000).then(() => null)]);
    if (!r) {
      gw.kill();
      throw new Error(`the gateway process did not become ready:\n${gw.#stderr}`);
    }
    return gw;
  }

  async request<T>(type: string, extra: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++;
    const reply = new Promise<Record<string, unknown>>((resolve) => this.#pending.set(id, resolve));
    this.child.send({ id, type, ...extra });
    const r = await Promise.race([reply, deadline(timeoutMs).then(() => null), this.exited.then(() => null)]);
    if (!r) throw new Error(`the gateway process did not answer '${type}' (exit ${this.child.exitCode}):\n${this.#stderr}`);
    if (r.ok === false) throw new Error(`the gateway process failed '${type}': ${String(r.error)}`);
    return r as T;
  }

  /** Graceful close (hangs up what is left, frees ports); SIGKILL if it does not exit in time. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      await this.request('close', {}, 20_000);
    } catch {
      // killed below
    }
    await Promise.race([this.exited, deadline(5000)]);
    this.kill();
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

// ---- latency probe ------------------------------------------------------------------------------------------

/** Percentile (nearest rank) of an ascending array. */
function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

interface ProbeResult {
  sent: number;
  /** Round-trip times in ms, ascending. */
  through: number[];
  direct: number[];
}

function rtpPacket(seq: number, ssrc: number, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80; // RFC 3550 §5.1: V=2, no padding, no extension, CC=0
  b[1] = 0; // M=0, PT=0 (PCMU, RFC 3551)
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.set(payload, 12);
  return b;
}

/**
 * One probe call's RTP, sent by this process every 20 ms into Cardline's caller-side port (through: caller → agent
 * leg → sipp echo → agent → caller leg → back here) and, at the same instants, straight to sipp's echo port (direct).
 * Cardline rewrites sequence numbers with a constant offset per leg (RFC 3550 §7.2 translator); `calibrate` learns
 * the sum of both offsets by stop-and-wait (one packet in flight, so the reply is unambiguous).
 */
class LatencyProbe {
  readonly #through = dgram.createSocket('udp4');
  readonly #direct = dgram.createSocket('udp4');
  readonly #cardlinePort: number;
  readonly #echoPort: number;
  readonly #audio: Uint8Array;
  #seq = 1000;
  #offset: number | null = null;
  #sendTimes = new Map<number, number>();
  #directTimes = new Map<number, number>();
  #result: ProbeResult = { sent: 0, through: [], direct: [] };
  #calibrationReply: ((seq: number) => void) | null = null;

  constructor(cardlinePort: number, echoPort: number, audio: Uint8Array) {
    this.#cardlinePort = cardlinePort;
    this.#echoPort = echoPort;
    this.#audio = audio;
    this.#through.on('message', (m) => {
      const t = now();
      if (m.length < 12) return;
      const seq = m.readUInt16BE(2);
      if (this.#offset === null) {
        this.#calibrationReply?.(seq);
        return;
      }
      const sentSeq = (seq - this.#offset) & 0xffff;
      const t0 = this.#sendTimes.get(sentSeq);
      if (t0 === undefined) return;
      this.#sendTimes.delete(sentSeq);
      this.#result.through.push(t - t0);
    });
    this.#direct.on('message', (m) => {
      const t = now();
      if (m.length < 12) return;
      const t0 = this.#directTimes.get(m.readUInt16BE(2));
      if (t0 === undefined) return;
      this.#directTimes.delete(m.readUInt16BE(2));
      this.#result.direct.push(t - t0);
    });
  }

  async open(): Promise<void> {
    await Promise.all([this.#through, this.#direct].map((s) => new Promise<void>((r) => s.bind(0, HOST, () => r()))));
  }

  #payload(): Uint8Array {
    const start = ((this.#seq * 160) % (this.#audio.length - 160));
    return this.#audio.subarray(start, start + 160);
  }

  /** Learns the sequence offset; needs the probe call answered (Cardline drops media before that). */
  async calibrate(timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const seq = this.#seq++ & 0xffff;
      const reply = new Promise<number | null>((resolve) => {
        this.#calibrationReply = resolve;
        setTimeout(() => resolve(null), 500).unref();
      });
      this.#through.send(rtpPacket(seq, 0x0c0ffee, this.#payload()), this.#cardlinePort, HOST);
      const got = await reply;
      this.#calibrationReply = null;
      if (got !== null) {
        await delay(PTIME_MS);
        this.#offset = (got - seq) & 0xffff;
        return;
      }
    }
    throw new Error('no RTP came back through Cardline on the probe call');
  }

  /** Sends every 20 ms for `ms` on both paths; returns the round trips measured. */
  async run(ms: number): Promise<ProbeResult> {
    this.#result = { sent: 0, through: [], direct: [] };
    this.#sendTimes = new Map();
    this.#directTimes = new Map();
    const end = now() + ms;
    let next = now();
    while (next < end) {
      const seq = this.#seq++ & 0xffff;
      const pkt = rtpPacket(seq, 0x0c0ffee, this.#payload());
      this.#sendTimes.set(seq, now());
      this.#through.send(pkt, this.#cardlinePort, HOST);
      this.#directTimes.set(seq, now());
      this.#direct.send(pkt, this.#echoPort, HOST);
      this.#result.sent++;
      next += PTIME_MS;
      await delay(Math.max(0, next - now()));
    }
    await delay(500); // the last replies
    const r = this.#result;
    r.through.sort((a, b) => a - b);
    r.direct.sort((a, b) => a - b);
    return r;
  }

  close(): void {
    this.#through.close();
    this.#direct.close();
  }
}

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// ---- audio --------------------------------------------------------------------------------------------------

/** ~20 s of µ-law: espeak-ng speech with a card number, expiry and security code typed between (synthetic PAN). */
async function callerAudio(outDir: string): Promise<Uint8Array> {
  const file = join(outDir, 'caller.ulaw');
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const rand = prng(6);
  const clips = await speechClips({ bandLimit: true });
  const parts: Int16Array[] = [];
  for (let i = 0; i < 3; i++) {
    const c = clips[i % clips.length];
    if (c) parts.push(c.samples);
  }
  const entry = cardEntry({ name: 'bench', groups: ['4111111111111111#', '0928#', '737#'], levelDbm0: -8 - Math.round(rand() * 6) });
  parts.push(entry.input, silence(4000));
  const bytes = ulawEncode(concat(...parts));
  writeFileSync(file, bytes);
  return bytes;
}

// ---- one N --------------------------------------------------------------------------------------------------

interface Snapshot {
  t: number;
  cpu: number;
  stats: StatsReply;
  drops: Map<number, number>;
  echoDrops: Map<number, number>;
}

interface WindowResult {
  mode: 'masked' | 'pass';
  seconds: number;
  /** Answered calls at the window's start and end (N + the probe call when steady). */
  callsStart: number;
  callsEnd: number;
  cpuSeconds: number;
  c2a: { received: number; sent: number; dropped: number; rejected: number };
  a2c: { received: number; sent: number; dropped: number; rejected: number };
  /** Kernel receive-buffer drops on Cardline's sockets: all, the calls' caller-side RTP ports, agent-side ones. */
  kernelDrops: number;
  kernelDropsCaller: number;
  kernelDropsAgent: number;
  echoKernelDrops: number;
  processingErrors: number;
  probe: ProbeResult;
}

interface RunResult {
  n: number;
  windows: WindowResult[];
  rssIdle: number;
  rssLoaded: number;
  /** V8 heap in use (after a forced GC) at the same two moments: the JS objects' share of the RSS growth. */
  heapIdle: number;
  heapLoaded: number;
  uac: { code: number | null; tail: string };
  uas: string;
  failedCalls: number | null;
  error: string | null;
}

function delta(a: MediaRelayStats['callerToAgent'], b: MediaRelayStats['callerToAgent']): WindowResult['c2a'] {
  return { received: b.received - a.received, sent: b.sent - a.sent, dropped: b.dropped - a.dropped, rejected: b.rejected - a.rejected };
}

/** The last data row of a sipp -trace_stat CSV as column → value. */
function sippStat(dir: string): Record<string, string> {
  const f = readdirSync(dir).find((x) => x.endsWith('_.csv'));
  if (!f) return {};
  const lines = readFileSync(join(dir, f), 'utf8').trim().split('\n');
  const head = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  return Object.fromEntries(head.map((h, i) => [h, last[i] ?? '']));
}

async function runN(n: number, runDir: string, audio: Uint8Array): Promise<RunResult> {
  const result: RunResult = { n, windows: [], rssIdle: Number.NaN, rssLoaded: Number.NaN, heapIdle: Number.NaN, heapLoaded: Number.NaN, uac: { code: null, tail: '' }, uas: '', failedCalls: null, error: null };
  const sipps: SippRun[] = [];
  let gw: GatewayProcess | null = null;
  let probe: LatencyProbe | null = null;
  const dir = (name: string): string => {
    const d = join(runDir, `n${n}-${name}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  try {
    const { sipPort, uasPort, uasMedia, uacPort, probePort, probeMedia, cp1, cp2, cp3 } = await freePorts(
      ['sipPort', 'uasPort', 'uasMedia', 'uacPort', 'probePort', 'probeMedia', 'cp1', 'cp2', 'cp3'] as const);
    gw = await GatewayProcess.start({
      sip: { host: HOST, port: sipPort, transports: ['udp'] },
      media: { address: HOST, minPort: MEDIA_MIN, maxPort: MEDIA_MAX },
      routes: [{ requestUri: '^sip:(bench|probe)@', target: `sip:agent@${HOST}:${uasPort}` }],
      secureByDefault: true,
      maskMode: 'tone',
    }, CPU, PROFILE ? dir('profile') : null);
    const uas = startSipp(['-sn', 'uas', '-i', HOST, '-p', String(uasPort), '-mi', HOST, '-mp', String(uasMedia), '-rtp_echo',
      '-nostdin', '-cp', String(cp1)], { cwd: dir('uas') });
    sipps.push(uas);
    await untilUdpBound(uasPort, 30_000);
    await untilUdpBound(uasMedia, 30_000);
    await gw.request('gc');
    await delay(500);
    result.rssIdle = rssBytes(gw.pid);
    result.heapIdle = (await gw.request<StatsReply>('stats')).heapUsed;

    const windows = PASS ? 2 : 1;
    const rampS = n / RATE;
    // Each call hangs up after holdMs; the windows must end before the first one does, with room for a slow ramp.
    const holdMs = Math.round((rampS * 3 + 15 + SETTLE_S + windows * (WINDOW_S + 4)) * 1000);
    // The probe call: same route, no sipp audio; this process sends its RTP (see LatencyProbe).
    const probeXml = join(runDir, 'uac-probe.xml');
    writeFileSync(probeXml, readFileSync(join(HERE, 'uac.xml'), 'utf8')
      .replace(/<nop>\s*<action>\s*<exec rtp_stream="[^"]*"\/>\s*<\/action>\s*<\/nop>/g, '')
      .replace('[rtpstream_audio_port]', '[media_port]'));
    const probeUac = startSipp([`${HOST}:${sipPort}`, '-sf', probeXml, '-s', 'probe', '-i', HOST, '-p', String(probePort), '-mi', HOST,
      '-mp', String(probeMedia), '-m', '1', '-d', String(holdMs), '-nostdin', '-cp', String(cp2)], { cwd: dir('probe') });
    sipps.push(probeUac);
    const probePortInCardline = await waitFor(30_000, async () => {
      const r = await gw!.request<CallsReply>('calls');
      return r.calls.find((c) => c.callee.startsWith('sip:probe@') && c.state === 'answered')?.callerRtpPort ?? null;
    }, 'the probe call was not answered');
    probe = new LatencyProbe(probePortInCardline, uasMedia, audio);
    await probe.open();
    await probe.calibrate();
    log(`N=${n}: probe call up; placing ${n} calls at ${RATE}/s, each held ${(holdMs / 1000).toFixed(0)} s`);

    writeFileSync(join(dir('uac'), 'caller.ulaw'), audio);
    const uac = startSipp([`${HOST}:${sipPort}`, '-sf', join(HERE, 'uac.xml'), '-s', 'bench', '-i', HOST, '-p', String(uacPort),
      '-mi', HOST, '-l', String(n), '-m', String(n), '-r', String(RATE), '-d', String(holdMs), '-nostdin', '-cp', String(cp3),
      '-trace_stat', '-fd', '1', '-trace_err', '-max_socket', String(Math.max(1000, n * 4)), '-rtp_threadtasks', '50',
      // an overloaded run must not leave calls waiting forever for a lost response (the bench then waits for sipp)
      '-recv_timeout', '40000'], { cwd: dir('uac') });
    // every call has ended (or failed) by then: the last starts by 3× the nominal ramp, holds, then ≤ 40 s for a response
    const uacDeadline = Date.now() + holdMs + rampS * 3000 + 50_000;
    sipps.push(uac);
    // Steady state: all N answered, or (when some failed) the count stopped growing for 5 s after the ramp.
    const t0 = Date.now();
    let last = 0;
    let lastChange = Date.now();
    const steady = await waitFor(rampS * 2000 + 30_000, async () => {
      const s = await gw!.request<StatsReply>('stats');
      if (s.calls.answered !== last) lastChange = Date.now();
      last = s.calls.answered;
      if (uac.child.exitCode !== null) throw new Error(`sipp UAC exited early (${uac.child.exitCode})`);
      if (s.calls.answered >= n + 1) return true;
      return Date.now() - t0 > rampS * 1000 && Date.now() - lastChange > 5000 ? false : null;
    }, '').catch(() => false);
    if (!steady) log(`N=${n}: only ${last - 1} of ${n} calls answered after ${((Date.now() - t0) / 1000).toFixed(0)} s; measuring anyway`);
    log(`N=${n}: ${last - 1} calls answered`);
    await delay(SETTLE_S * 1000);

    const snap = async (): Promise<Snapshot> => {
      const stats = await gw!.request<StatsReply>('stats');
      return { t: now(), cpu: cpuSeconds(gw!.pid), stats, drops: udpDrops(gw!.pid), echoDrops: udpDrops(uas.child.pid ?? 0) };
    };
    const window = async (mode: WindowResult['mode']): Promise<WindowResult> => {
      const calls = (await gw!.request<CallsReply>('calls')).calls;
      const callerPorts = new Set(calls.map((c) => c.callerRtpPort ?? 0));
      const agentPorts = new Set(calls.map((c) => c.agentRtpPort ?? 0));
      const a = await snap();
      const p = await probe!.run(WINDOW_S * 1000);
      const b = await snap();
      return {
        mode, seconds: (b.t - a.t) / 1000, callsStart: a.stats.calls.answered, callsEnd: b.stats.calls.answered,
        cpuSeconds: b.cpu - a.cpu,
        c2a: delta(a.stats.media.callerToAgent, b.stats.media.callerToAgent),
        a2c: delta(a.stats.media.agentToCaller, b.stats.media.agentToCaller),
        kernelDrops: dropsDelta(a.drops, b.drops),
        kernelDropsCaller: dropsDelta(a.drops, b.drops, callerPorts),
        kernelDropsAgent: dropsDelta(a.drops, b.drops, agentPorts),
        echoKernelDrops: dropsDelta(a.echoDrops, b.echoDrops),
        processingErrors: b.stats.media.processingErrors - a.stats.media.processingErrors, probe: p,
      };
    };
    result.windows.push(await window('masked'));
    await gw.request('gc');
    result.rssLoaded = rssBytes(gw.pid);
    result.heapLoaded = (await gw.request<StatsReply>('stats')).heapUsed;
    if (PASS) {
      const { changed } = await gw.request<{ changed: number }>('secure', { on: false });
      if (changed === 0) throw new Error('secure mode could not be turned off for the pass-through window');
      await delay(1000);
      result.windows.push(await window('pass'));
    }
    probe.close();
    probe = null;
    log(`N=${n}: windows done, waiting for the calls to end (BYE from sipp)`);
    // Both sipp callers hang up by themselves (-d); stopping them earlier would leave Cardline's BYEs to time out.
    const [done] = await Promise.all([
      Promise.race([uac.done, deadline(Math.max(0, uacDeadline - Date.now())).then(() => null)]),
      Promise.race([probeUac.done, deadline(Math.max(0, uacDeadline - Date.now()))]),
    ]);
    if (!done) throw new Error('sipp UAC did not finish (stopped)');
    log(`N=${n}: sipp callers done`);
    result.uas = (await uas.stop().then(() => uas.done)).output.slice(-2000);
    result.uac = { code: done.code, tail: done.output.slice(-600) };
    const stat = sippStat(join(runDir, `n${n}-uac`));
    result.failedCalls = stat['FailedCall(C)'] !== undefined ? Number(stat['FailedCall(C)']) : null;
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  } finally {
    probe?.close();
    await Promise.all(sipps.map((s) => s.stop()));
    await gw?.close();
    log(`N=${n}: gateway closed`);
  }
  return result;
}

async function waitFor<T>(ms: number, check: () => Promise<T | null>, message: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v !== null) return v;
    if (Date.now() - t0 > ms) throw new Error(message || 'timed out');
    await delay(250);
  }
}

/** Distinct free ports (UDP and TCP) by name. sipp's control ports (-cp) too: its default 8888 would collide. */
async function freePorts<K extends string>(names: readonly K[]): Promise<Record<K, number>> {
  const out = {} as Record<K, number>;
  const taken = new Set<number>();
  for (const name of names) {
    let p = await freePort();
    while (taken.has(p)) p = await freePort();
    taken.add(p);
    out[name] = p;
  }
  return out;
}

/**
 * Self time per function of the largest .cpuprofile in `dir` (the main thread; tsx's loader thread writes a small
 * one too), top `k`, as "  12.3 %  name  file:line" lines. Idle time is left out of the shares.
 */
function profileSummary(dir: string, k: number): string[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f, size: readFileSync(join(dir, f)).length })).sort((a, b) => b.size - a.size);
  if (!files[0]) return [`  (no profile in ${dir})`];
  interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
  const p = JSON.parse(readFileSync(join(dir, files[0].f), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const cf = byId.get(id)?.callFrame;
    const dt = p.timeDeltas[i] ?? 0;
    if (!cf || cf.functionName === '(idle)') return;
    const key = `${cf.functionName || '(anonymous)'}  ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, k).map(([key, t]) => `  ${((100 * t) / total).toFixed(1).padStart(5)} %  ${key}`);
}

// ---- report -------------------------------------------------------------------------------------------------

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');
const pctOf = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(3)}%` : '-');

interface Row {
  n: number;
  mode: string;
  calls: string;
  cpuPerCall: number;
  usPerPacket: number;
  ppsPerCore: number;
  pps: number;
  lossC2a: string;
  lossA2c: string;
  kernelDrops: number;
  latP50: number;
  latP99: number;
  probeLoss: string;
  memPerCallKiB: number;
  heapPerCallKiB: number;
}

function rowOf(r: RunResult, w: WindowResult): Row {
  const relayed = w.c2a.sent + w.a2c.sent;
  const calls = Math.max(1, w.callsStart - 1);
  // loss per direction: dropped by the kernel on that side's sockets (receive buffer full: Cardline fell behind),
  // plus read but neither forwarded nor deliberately dropped (RFC 4733 events in secure mode, unknown payload types)
  const inC = w.c2a.received + w.kernelDropsCaller;
  const inA = w.a2c.received + w.kernelDropsAgent;
  const lostC = w.kernelDropsCaller + Math.max(0, w.c2a.received - w.c2a.sent - w.c2a.dropped);
  const lostA = w.kernelDropsAgent + Math.max(0, w.a2c.received - w.a2c.sent - w.a2c.dropped);
  const th = w.probe.through;
  const di = w.probe.direct;
  return {
    n: r.n, mode: w.mode,
    calls: w.callsStart === w.callsEnd ? String(w.callsStart - 1) : `${w.callsStart - 1}→${w.callsEnd - 1}`,
    cpuPerCall: (100 * w.cpuSeconds) / w.seconds / calls,
    usPerPacket: relayed > 0 ? (w.cpuSeconds * 1e6) / relayed : Number.NaN,
    ppsPerCore: w.cpuSeconds > 0 ? relayed / w.cpuSeconds : Number.NaN,
    pps: relayed / w.seconds,
    lossC2a: pctOf(lostC, inC), lossA2c: pctOf(lostA, inA), kernelDrops: w.kernelDrops,
    latP50: pct(th, 50) - pct(di, 50), latP99: pct(th, 99) - pct(di, 99),
    probeLoss: `${w.probe.sent - th.length}/${w.probe.sent - di.length}`,
    memPerCallKiB: w.mode === 'masked' ? (r.rssLoaded - r.rssIdle) / 1024 / calls : Number.NaN,
    heapPerCallKiB: w.mode === 'masked' ? (r.heapLoaded - r.heapIdle) / 1024 / calls : Number.NaN,
  };
}

function printTable(rows: Row[], results: RunResult[]): string {
  const head = ['N', 'mode', 'calls', 'CPU/call %core', 'CPU µs/pkt', 'pkts/s/core', 'pkts/s', 'loss c→a', 'loss a→c',
    'kernel drops', 'added RTT p50 ms', 'p99 ms', 'probe lost thr/dir', 'mem/call KiB', 'heap/call KiB'];
  const body = rows.map((r) => [String(r.n), r.mode, r.calls, f2(r.cpuPerCall), f2(r.usPerPacket), Math.round(r.ppsPerCore).toString(),
    Math.round(r.pps).toString(), r.lossC2a, r.lossA2c, String(r.kernelDrops), f2(r.latP50), f2(r.latP99), r.probeLoss, f1(r.memPerCallKiB),
    f1(r.heapPerCallKiB)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(w[i] ?? 0)).join('  ');
  const out: string[] = [line(head), ...body.map(line), ''];
  for (const n of new Set(rows.map((r) => r.n))) {
    const m = rows.find((r) => r.n === n && r.mode === 'masked');
    const p = rows.find((r) => r.n === n && r.mode === 'pass');
    if (m && p) out.push(`N=${n}: masked / pass-through CPU per packet = ${f2(m.usPerPacket / p.usPerPacket)}×`);
  }
  // TELEPHONY-PEERS.md: 500 calls (~50,000 packets/s) used ~57 % of one core = 0.57 s / 50,000 ≈ 11 µs per packet
  // (the "~1.1 µs" written next to it there is off by ten).
  out.push('reference (not measured here): rtpengine 10.5 userspace relay (C), 500 calls ≈ 50,000 pkt/s at ~57 % of a core ≈ 11 µs CPU/pkt');
  for (const r of results) {
    if (r.error) out.push(`N=${r.n}: ERROR ${r.error}`);
    if (r.failedCalls) out.push(`N=${r.n}: sipp counted ${r.failedCalls} failed calls`);
    if (r.uac.code !== 0 && r.uac.code !== null) out.push(`N=${r.n}: sipp UAC exit ${r.uac.code}: ${r.uac.tail.replace(/\s+/g, ' ').slice(-300)}`);
  }
  return out.join('\n');
}

// ---- main ---------------------------------------------------------------------------------------------------

if (spawnSync('sipp', ['-v']).error) usage('sipp is not installed (bash scripts/system-deps.sh)');
if (CPU !== null && spawnSync('taskset', ['-V']).error) usage('taskset (util-linux) is missing; use --cpu none');
const outDir = join(ROOT, 'bench', 'out', 'media');
const runDir = join(outDir, new Date().toISOString().replace(/[:.]/g, '-'));
mkdirSync(runDir, { recursive: true });
process.stdout.write(`bench:media — Cardline gateway ${CPU === null ? 'not pinned' : `pinned to core ${CPU}`}, secure mode on by policy; `
  + `N = ${CALLS.join(', ')}; ${WINDOW_S} s windows; ${RATE} calls/s; ${cpus().length} cores (${cpus()[0]?.model ?? '?'})\n`);
const audio = await callerAudio(outDir);
const results: RunResult[] = [];
for (const n of CALLS) {
  log(`N=${n}: starting`);
  const r = await runN(n, runDir, audio);
  results.push(r);
  if (r.error) process.stdout.write(`  error: ${r.error}\n`);
}
const rows = results.flatMap((r) => r.windows.map((w) => rowOf(r, w)));
const table = printTable(rows, results);
process.stdout.write(`\n${table}\n`);
writeFileSync(join(runDir, 'results.json'), JSON.stringify({ options: { CALLS, WINDOW_S, RATE, CPU, PASS }, results, rows }, null, 2));
writeFileSync(join(runDir, 'table.txt'), `${table}\n`);
process.stdout.write(`\nraw numbers: ${join(runDir, 'results.json')}\n`);
if (PROFILE) {
  for (const n of CALLS) {
    const d = join(runDir, `n${n}-profile`);
    process.stdout.write(`\nN=${n}: Cardline CPU profile (self time, idle excluded; whole run incl. setup) — ${d}\n${profileSummary(d, 20).join('\n')}\n`);
  }
}
