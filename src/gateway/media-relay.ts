/**
 * One call's anchored media: two RTP port pairs (caller side, agent side) and the relay between them.
 *
 * Caller → agent (the direction that carries card digits):
 *   SRTP unprotect (when keyed) → parse RTP → reorder (the masker needs audio in order) → by payload type:
 *   - G.711 audio: secure mode OFF passes the payload bytes untouched (transcoded only when the legs
 *     negotiated different G.711 laws); secure mode ON decodes, runs the `DtmfMasker` and re-encodes. The
 *     masker delays audio by its look-ahead (30 ms): the packet stamped T carries the audio the caller sent
 *     for T − delay, so timestamps stay one continuous timeline. A sequence gap (loss upstream, dropped
 *     events) is fed to the masker as silence so that mapping stays exact. Turning secure mode on inserts
 *     `delay` of silence; turning it off drops the `delay` still in the line (never passed on unmasked).
 *   - RFC 4733 telephone-event: with secure mode ON never forwarded (RFC 4733 §2.5 events would carry the
 *     digit to the agent in the clear); each key press goes to the secure sink once, via
 *     `TelephoneEventReceiver`. The rewriter `skip`s them so the agent sees no sequence gap. With secure
 *     mode OFF they are forwarded with the agent leg's telephone-event payload type (dropped if it has none).
 *   - anything else (CN, unknown payload types): dropped — it cannot be masked.
 *   SSRC / sequence / timestamp are rewritten per leg (`RtpStreamRewriter`, RFC 3550 §7.2 translator).
 * Agent → caller: passes through (rewritten; transcoded if the laws differ); the agent's telephone-events
 *   are forwarded when the caller leg negotiated telephone-event — unless the policy armed agent-side TRIGGERS:
 *
 * Agent-side in-band triggers (legacy style, `#388*` on / `#388#` off; `triggers` option). The agent's keys can
 * arrive as tones in its audio, as RFC 4733 events, or as SIP INFO (fed in by the B2BUA through `agentKey`). Trigger
 * digits must never reach the caller, and the relay cannot know which key the agent presses next, so while
 * triggers are armed EVERY agent key is taken out of the agent → caller path: the audio runs through a second
 * `DtmfMasker` (mode 'silence', same 30 ms look-ahead guarantee as the caller path), the agent's telephone-event
 * packets are held (the rewriter `skip`s them: no sequence gap), INFO is not forwarded. Each key goes to a
 * `TriggerMatcher`. A completed trigger calls `onTrigger` (the B2BUA turns secure mode on/off through the Call,
 * which reaches `setSecure` here). Keys that turn out NOT to be a trigger are passed on to the caller — a
 * contact-centre engineer expects an agent who dials through to a third-party IVR or a conference bridge on the
 * caller side to still be heard, just late: tones and RFC 4733 keys are re-generated as clean in-band tones
 * (80 ms on, 80 ms off, −10 dBm0, Q.23 via the DSP generator) written over the outgoing agent audio — in-band
 * G.711 DTMF works towards every caller, whether or not it negotiated telephone-event; held INFO keys are
 * forwarded as INFO (`onReleasedInfo`). A key is held at most until it cannot start a trigger any more, or the
 * matcher's inter-digit timeout (default 3 s). Without triggers the agent path has no masker (pass-through).
 *
 * Symmetric RTP (RFC 4961; NAT): each leg latches to the source address of the first valid packet it
 * receives and from then on sends there and accepts only that source. Before that it sends to the address
 * from the leg's SDP.
 *
 * RTCP is TERMINATED, not relayed: forwarding it would expose SSRCs and report blocks that no longer match the
 * rewritten streams (RFC 3550 §7.2 asks a translator to rewrite them consistently). Instead each leg is its own RTP
 * session in which Cardline reports for itself (`RtcpReporter`): an SR for the stream it sends on that leg (its
 * rewritten SSRC, counts, NTP/RTP timestamps) with a report block on what it receives from that leg (loss, jitter,
 * LSR/DLSR from that leg's own SRs), SDES CNAME, and BYE at close (RFC 3550 §6.4, §6.5, §6.6). Reports go every
 * `rtcpIntervalMs` randomised over [0.5, 1.5] × (RFC 3550 §6.3.1 without the bandwidth and member-count terms: two
 * members, a fixed interval), the first after half of that (§6.2 "initial"), driven by one shared `TimerWheel` for
 * all calls. They go to the leg's RTCP address (a=rtcp, RFC 3605, else RTP port + 1; then the latched source of its
 * RTCP from the host its RTP comes from, RFC 4961), or on the RTP port when the leg negotiated rtcp-mux (RFC 5761
 * §4; incoming RTCP is demultiplexed from RTP there). On an SRTP leg they are SRTCP (RFC 3711 §3.4) under the same
 * SDES keys; incoming RTCP is authenticated and read for LSR, then dropped.
 *
 * Digits go ONLY to the `SecureDigitSink`. Nothing here logs; stats hold counts only.
 *
 * Media tap (optional, the call recorder): every G.711 audio packet the relay SENDS is handed to `MediaTap.audio`
 * as 8 kHz PCM decoded from the very payload bytes that went out, with the outgoing (rewritten) RTP timestamp —
 * so a recording holds exactly what the agent heard (masked in secure mode) and what the caller heard, never the
 * caller's unmasked input. Telephone-events are not audio and are not tapped. No tap → no decoding, no cost.
 */
import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import {
  alawDecode, alawEncode, DtmfMasker, type DtmfDigit, generateTone, type MaskMode, msToSamples, ulawDecode, ulawEncode,
} from '../dsp/index.ts';
import {
  looksLikeRtcp, parseRtcp, parseRtp, ReorderBuffer, RTP_FIXED_HEADER_LENGTH, RtcpReporter, RtpStreamRewriter, serializeRtcp, serializeRtpInto,
  TelephoneEventReceiver, type MaskableCodec, type RtpPacket, type RtpPortAllocator, type RtpPortPair, type SrtpContext,
} from '../media/index.ts';
import { sharedTimerWheel, type TimerWheel, type WheelTimer } from './timer-wheel.ts';
import type { TriggerSequences } from './policy.ts';
import { TriggerMatcher } from './trigger-matcher.ts';

/** Where a secure digit came from: in-band tones found by the masker, RFC 4733 events, or SIP INFO (B2BUA). */
export type SecureDigitSource = 'inband' | 'rfc4733' | 'sip-info';

/** The secure sink: the only place caller digits go (later bound to a payment session). Card data. */
export type SecureDigitSink = (digit: DtmfDigit, source: SecureDigitSource) => void;

/** Which party's audio a tapped packet carries: `caller` = relayed to the agent (post-masking), `agent` = to the caller. */
export type TapChannel = 'caller' | 'agent';

/**
 * Port for observers of the audio the relay sends (the recorder). Called synchronously in the relay's socket
 * callback: implementations must copy what they keep (`pcm` is a reused buffer, valid only during the call) and
 * must not block. An exception thrown here is counted (`stats.tapErrors`) and never affects forwarding.
 */
export interface MediaTap {
  /** One sent packet's audio: `rtpTimestamp` is the outgoing timestamp on that leg (RFC 3550 §5.1, 8 kHz units). */
  audio(channel: TapChannel, pcm: Int16Array, rtpTimestamp: number): void;
  /** The relay closed (call over): no more audio follows. */
  close(): void;
}

export interface RemoteAddress {
  address: string;
  port: number;
}

/** What one leg negotiated (from `negotiated()` / `createAnswer()` on that leg's SDP). */
export interface LegMedia {
  codec: MaskableCodec;
  /** The codec's payload type on this leg (used when sending to it; also accepted from it). */
  payloadType: number;
  /** telephone-event/8000 payload type on this leg, or null. */
  telephoneEventPayloadType: number | null;
  /** RTP address from the leg's SDP (until symmetric RTP latches). */
  remote: RemoteAddress | null;
  /** SRTP on this leg: `inbound` unprotects what it sends us, `outbound` protects what we send it. */
  srtp?: { inbound: SrtpContext; outbound: SrtpContext } | null;
  /**
   * RTCP address from the leg's SDP (a=rtcp, RFC 3605, else RTP port + 1 — `negotiated()` works it out). Absent: no
   * RTCP is sent on this leg until the far end's own RTCP shows where it listens (symmetric RTCP).
   */
  rtcpRemote?: RemoteAddress | null;
  /** Both sides agreed on a=rtcp-mux (RFC 5761): RTCP shares the RTP port. */
  rtcpMux?: boolean;
}

/** How a held agent key arrived (a released key is passed on the same way, see the file comment). */
export type AgentKeyOrigin =
  | { source: 'inband' | 'rfc4733' }
  | { source: 'sip-info'; body: Uint8Array; contentType: string };

/** Agent-side trigger sequences armed on this relay (from the call's policy). */
export interface RelayTriggers extends TriggerSequences {
  /** Held agent keys are released when no key follows within this time. Default 3000 ms. */
  interDigitTimeoutMs?: number;
}

export interface MediaRelayOptions {
  allocator: RtpPortAllocator;
  onDigit: SecureDigitSink;
  /** Initial secure mode. Default false. */
  secure?: boolean;
  maskMode?: MaskMode;
  /** Monotonic clock in ms (tests). Default performance.now. */
  now?: () => number;
  /** Reorder depth on the caller → agent path. Default 3 packets. */
  reorderDelayPackets?: number;
  /** Mean interval of Cardline's own RTCP reports per leg; 0 sends none. Default 5000 (RFC 3550 §6.2 minimum). */
  rtcpIntervalMs?: number;
  /** Wall clock in Unix ms for the NTP timestamps of SRs (tests). Default Date.now. */
  unixNow?: () => number;
  /** Scheduler of the RTCP reports. Default one wheel shared by every relay. */
  timerWheel?: TimerWheel;
  /** Receives the audio sent on both legs (the call recorder); see the file comment. */
  tap?: MediaTap | null;
  /** Agent-side in-band triggers; null/absent: none (agent → caller passes through, no masker). */
  triggers?: RelayTriggers | null;
  /** A trigger sequence completed on the agent side ('start' / 'end'). Must not throw (errors are counted). */
  onTrigger?: (which: 'start' | 'end') => void;
  /** A held agent SIP INFO key turned out not to be a trigger: forward this INFO to the caller. */
  onReleasedInfo?: (body: Uint8Array, contentType: string) => void;
}

export interface DirectionStats {
  received: number;
  sent: number;
  /** Packets not forwarded: telephone-events in secure mode, unknown payload types, RTCP-muxed. */
  dropped: number;
  /** Unparseable RTP, failed SRTP authentication, or from a source other than the latched one. */
  rejected: number;
}

export interface MediaRelayStats {
  callerToAgent: DirectionStats;
  agentToCaller: DirectionStats;
  rtcpReceived: number;
  /** RTCP compounds Cardline sent (both legs, BYE included). */
  rtcpSent: number;
  /** Incoming RTCP that failed SRTCP authentication or did not parse. */
  rtcpRejected: number;
  /** Secure-sink callback threw (the relay keeps running). */
  sinkErrors: number;
  /** Digits delivered to the sink (count only). */
  secureDigits: number;
  /** Packets whose processing threw (dropped; the relay keeps running). */
  processingErrors: number;
  /** The media tap threw (forwarding is unaffected). */
  tapErrors: number;
  /** Agent-side triggers: completed sequences, and agent keys passed on to the caller after being held. */
  triggersMatched: number;
  agentKeysReleased: number;
}

type Side = 'caller' | 'agent';

/** One side's sockets and its latched far end. */
class Leg {
  readonly pair: RtpPortPair;
  media: LegMedia | null = null;
  latched: RemoteAddress | null = null;
  readonly rewriter = new RtpStreamRewriter(); // what WE send on this leg
  /** Cardline's RTCP in this leg's RTP session (RFC 3550 §6); the CNAME is random per leg (RFC 7022 §4.2). */
  readonly rtcp = new RtcpReporter({ cname: `${randomBytes(12).toString('base64url')}@cardline` });
  /** Source of the far end's RTCP on the RTCP port (symmetric RTCP, RFC 4961). */
  rtcpLatched: RemoteAddress | null = null;
  reportTimer: WheelTimer | null = null;

  constructor(pair: RtpPortPair) {
    this.pair = pair;
  }

  get destination(): RemoteAddress | null {
    return this.latched ?? this.media?.remote ?? null;
  }

  /** Where this leg's RTCP goes, and on which socket. */
  get rtcpDestination(): { socket: dgram.Socket; to: RemoteAddress } | null {
    const m = this.media;
    if (!m) return null;
    if (m.rtcpMux) {
      const d = this.destination;
      return d ? { socket: this.pair.rtp, to: d } : null;
    }
    const to = this.rtcpLatched ?? m.rtcpRemote ?? null;
    return to && to.port > 0 && to.port <= 65535 ? { socket: this.pair.rtcp, to } : null;
  }

  /** Symmetric RTP: the first valid packet's source is the far end; others are refused. */
  accept(from: dgram.RemoteInfo): boolean {
    if (!this.latched) {
      this.latched = { address: from.address, port: from.port };
      return true;
    }
    return this.latched.address === from.address && this.latched.port === from.port;
  }
}

function codecOf(pt: number, leg: LegMedia): MaskableCodec | null {
  if (pt === leg.payloadType) return leg.codec;
  if (pt === 0) return 'PCMU'; // RFC 3551 static assignments
  if (pt === 8) return 'PCMA';
  return null;
}

function decode(codec: MaskableCodec, bytes: Uint8Array, out: Int16Array): Int16Array {
  return codec === 'PCMU' ? ulawDecode(bytes, out) : alawDecode(bytes, out);
}

function encode(codec: MaskableCodec, pcm: Int16Array, out: Uint8Array): Uint8Array {
  return codec === 'PCMU' ? ulawEncode(pcm, out) : alawEncode(pcm, out);
}

/** Cardline is the source on each leg: the far end's CSRCs are not forwarded (shared, never written). */
const NO_CSRCS: number[] = [];

/**
 * Per-relay scratch buffers for the hot path (decode → mask → encode), grown to the largest payload seen: no
 * allocation per packet. Safe to reuse because `serializeRtpInto` copies the payload into the datagram synchronously.
 */
class Scratch {
  pcm = new Int16Array(160);
  masked = new Int16Array(160);
  bytes = new Uint8Array(160);

  fit(samples: number): void {
    if (this.pcm.length >= samples) return;
    this.pcm = new Int16Array(samples);
    this.masked = new Int16Array(samples);
    this.bytes = new Uint8Array(samples);
  }
}

/** Largest timestamp gap (samples) bridged with silence in the masker; beyond it the masker restarts. */
const MAX_BRIDGED_GAP = 8000;

/**
 * A `DtmfMasker` on an RTP timeline: output for timestamp T is the input for T − delay (see the file comment). A
 * sequence gap is fed as silence so that mapping stays exact; a jump or a step back starts a new masker.
 */
class TimelineMasker {
  readonly #make: () => DtmfMasker;
  #masker: DtmfMasker | null = null;
  /** Next timestamp the masker expects (its input is contiguous); null at a (re)start. */
  #nextTs: number | null = null;

  constructor(make: () => DtmfMasker) {
    this.#make = make;
  }

  /** Discards the delay line unheard; the next packet starts a fresh masker. */
  reset(): void {
    this.#masker = null;
    this.#nextTs = null;
  }

  /** Masks one packet's audio into `out` (same length as `pcm`) and returns it. */
  process(pcm: Int16Array, timestamp: number, out: Int16Array): Int16Array {
    let masker = this.#masker;
    if (!masker || this.#nextTs === null) {
      masker = this.#masker = this.#make();
    } else {
      const gap = (timestamp - this.#nextTs) | 0; // serial difference (RFC 3550 §5.1 wrap)
      if (gap > 0 && gap <= MAX_BRIDGED_GAP) {
        masker.process(new Int16Array(gap)); // the missing span's output slot was never sent: discard
      } else if (gap !== 0) {
        masker = this.#masker = this.#make(); // a jump or a step back: a new stream
      }
    }
    this.#nextTs = (timestamp + pcm.length) >>> 0;
    return masker.process(pcm, out);
  }
}

/** A released agent key re-generated in-band: tone then gap (ITU-T Q.24 allows ≥ 40 ms each; 80/80 is usual). */
const REGEN_ON_MS = 80;
const REGEN_OFF_MS = 80;
const REGEN_LEVEL_DBM0 = -10;

/** The agent → caller side of an armed relay: masker, held RFC 4733 events, matcher, re-generated tones. */
interface AgentTriggerPath {
  masker: TimelineMasker;
  events: TelephoneEventReceiver;
  matcher: TriggerMatcher<AgentKeyOrigin>;
  /** Audio to write over the outgoing agent audio (released keys), oldest first. */
  inject: Int16Array[];
}

function newStats(): DirectionStats {
  return { received: 0, sent: 0, dropped: 0, rejected: 0 };
}

/** All-zero relay stats (an accumulator for `addRelayStats`). */
export function emptyRelayStats(): MediaRelayStats {
  return {
    callerToAgent: newStats(), agentToCaller: newStats(), rtcpReceived: 0, rtcpSent: 0, rtcpRejected: 0, sinkErrors: 0, secureDigits: 0,
    processingErrors: 0, tapErrors: 0, triggersMatched: 0, agentKeysReleased: 0,
  };
}

/** Adds `s` into `into` field by field (gateway-wide totals: metrics, `npm run bench:media`). */
export function addRelayStats(into: MediaRelayStats, s: MediaRelayStats): MediaRelayStats {
  for (const d of ['callerToAgent', 'agentToCaller'] as const) {
    into[d].received += s[d].received;
    into[d].sent += s[d].sent;
    into[d].dropped += s[d].dropped;
    into[d].rejected += s[d].rejected;
  }
  into.rtcpReceived += s.rtcpReceived;
  into.rtcpSent += s.rtcpSent;
  into.rtcpRejected += s.rtcpRejected;
  into.sinkErrors += s.sinkErrors;
  into.secureDigits += s.secureDigits;
  into.processingErrors += s.processingErrors;
  into.tapErrors += s.tapErrors;
  into.triggersMatched += s.triggersMatched;
  into.agentKeysReleased += s.agentKeysReleased;
  return into;
}

export class MediaRelay {
  readonly caller: Leg;
  readonly agent: Leg;
  readonly #onDigit: SecureDigitSink;
  readonly #maskMode: MaskMode;
  readonly #now: () => number;
  readonly #reorderDepth: number;
  #secure: boolean;
  readonly #callerMasker: TimelineMasker;
  readonly #agentPath: AgentTriggerPath | null;
  readonly #onTrigger: ((which: 'start' | 'end') => void) | undefined;
  readonly #onReleasedInfo: ((body: Uint8Array, contentType: string) => void) | undefined;
  #reorder: ReorderBuffer<RtpPacket>;
  #reorderSsrc: number | null = null;
  readonly #events = new TelephoneEventReceiver();
  readonly #scratch = new Scratch();
  #closed: Promise<void> | null = null;
  readonly #stats: MediaRelayStats = emptyRelayStats();
  readonly #rtcpInterval: number;
  readonly #unixNow: () => number;
  readonly #wheel: TimerWheel;
  readonly #tap: MediaTap | null;
  /** Reused decode buffer for the tap (grown to the largest payload seen). */
  #tapPcm = new Int16Array(0);

  /** Binds both port pairs. The relay forwards nothing until `configure`. */
  static async open(o: MediaRelayOptions): Promise<MediaRelay> {
    const callerPair = await o.allocator.allocate();
    let agentPair: RtpPortPair;
    try {
      agentPair = await o.allocator.allocate();
    } catch (e) {
      await callerPair.release();
      throw e;
    }
    return new MediaRelay(callerPair, agentPair, o);
  }

  private constructor(callerPair: RtpPortPair, agentPair: RtpPortPair, o: MediaRelayOptions) {
    this.caller = new Leg(callerPair);
    this.agent = new Leg(agentPair);
    this.#onDigit = o.onDigit;
    this.#maskMode = o.maskMode ?? 'tone';
    this.#now = o.now ?? (() => performance.now());
    this.#reorderDepth = o.reorderDelayPackets ?? 3;
    this.#reorder = new ReorderBuffer<RtpPacket>({ maxDelayPackets: this.#reorderDepth });
    this.#secure = o.secure ?? false;
    this.#rtcpInterval = o.rtcpIntervalMs ?? 5000;
    this.#unixNow = o.unixNow ?? Date.now;
    this.#wheel = o.timerWheel ?? sharedTimerWheel;
    this.#tap = o.tap ?? null;
    this.#callerMasker = new TimelineMasker(() => new DtmfMasker({ mode: this.#maskMode, onDigit: (e) => this.#sink(e.digit, 'inband') }));
    this.#onTrigger = o.onTrigger;
    this.#onReleasedInfo = o.onReleasedInfo;
    this.#agentPath = o.triggers ? {
      // 'silence': the caller hears nothing where the agent pressed a key (a beep per key would say "key pressed")
      masker: new TimelineMasker(() => new DtmfMasker({ mode: 'silence', onDigit: (e) => this.#agentKey(e.digit, { source: 'inband' }) })),
      events: new TelephoneEventReceiver(),
      matcher: new TriggerMatcher<AgentKeyOrigin>(o.triggers),
      inject: [],
    } : null;
    for (const side of ['caller', 'agent'] as const) {
      const leg = this.#leg(side);
      leg.pair.rtp.on('message', (msg, rinfo) => this.#onRtp(side, msg, rinfo));
      leg.pair.rtcp.on('message', (msg, rinfo) => this.#onRtcp(leg, msg, rinfo, false));
      // A send error (ICMP unreachable surfaced on some platforms) must not crash the process.
      leg.pair.rtp.on('error', () => {});
      leg.pair.rtcp.on('error', () => {});
    }
  }

  /** Sets (or updates, after a re-INVITE) what each leg negotiated. */
  configure(caller: LegMedia, agent: LegMedia): void {
    for (const [leg, media] of [[this.caller, caller], [this.agent, agent]] as const) {
      const before = leg.media?.remote;
      // a new far-end address in SDP (transfer, re-INVITE from elsewhere) re-opens symmetric-RTP latching
      if (before && (before.address !== media.remote?.address || before.port !== media.remote?.port)) {
        leg.latched = null;
        leg.rtcpLatched = null;
      }
      leg.media = media;
      // RFC 3550 §6.2: the first report after half the interval, then one per randomised interval
      if (this.#rtcpInterval > 0 && !leg.reportTimer && !this.#closed) this.#scheduleReport(leg, 0.5);
    }
  }

  get secure(): boolean {
    return this.#secure;
  }

  /** Secure mode on/off (API or in-band trigger). See the file comment for the 30 ms at each switch. */
  setSecure(on: boolean): void {
    if (on === this.#secure) return;
    this.#secure = on;
    this.#callerMasker.reset(); // off: the delay line is discarded unheard; on: a fresh masker starts
  }

  /** Whether agent-side triggers are armed (agent keys are held and matched, not passed straight on). */
  get triggersArmed(): boolean {
    return this.#agentPath !== null;
  }

  /**
   * An agent key from SIP INFO (the B2BUA's agent dialog). Returns false when triggers are not armed (the B2BUA
   * then forwards the INFO itself); true when the key was taken by the matcher (held, consumed or released).
   */
  agentInfoKey(digit: DtmfDigit, body: Uint8Array, contentType: string): boolean {
    if (!this.#agentPath || this.#closed) return false;
    this.#agentKey(digit, { source: 'sip-info', body, contentType });
    return true;
  }

  get stats(): MediaRelayStats {
    const s = this.#stats;
    return { ...s, callerToAgent: { ...s.callerToAgent }, agentToCaller: { ...s.agentToCaller } };
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  /**
   * Closes both port pairs (idempotent). Pending telephone-events are delivered first in secure mode; each leg that
   * got media gets a last report with BYE (RFC 3550 §6.6) before its sockets close.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    if (this.#secure) this.#deliverEvents(this.#events.flush());
    const byes: Array<Promise<void>> = [];
    for (const leg of [this.caller, this.agent]) {
      leg.reportTimer?.cancel();
      leg.reportTimer = null;
      if (this.#rtcpInterval > 0) byes.push(this.#sendReport(leg, true));
    }
    this.#closed = Promise.all(byes)
      .then(() => Promise.all([this.caller.pair.release(), this.agent.pair.release()]))
      .then(() => undefined);
    try {
      this.#tap?.close();
    } catch {
      this.#stats.tapErrors++;
    }
    return this.#closed;
  }

  // ---- RTCP -------------------------------------------------------------------------------------------------

  #scheduleReport(leg: Leg, scale: number): void {
    const delay = this.#rtcpInterval * scale * (0.5 + Math.random()); // RFC 3550 §6.3.1: [0.5, 1.5] × T
    leg.reportTimer = this.#wheel.schedule(delay, () => {
      leg.reportTimer = null;
      if (this.#closed) return;
      void this.#sendReport(leg, false);
      this.#scheduleReport(leg, 1);
    });
  }

  /** Builds, protects (SRTCP) and sends this leg's compound; resolves when the datagram left (or failed). */
  #sendReport(leg: Leg, bye: boolean): Promise<void> {
    const dest = leg.rtcpDestination;
    const media = leg.media;
    if (!dest || !media) return Promise.resolve();
    let bytes: Uint8Array;
    try {
      bytes = serializeRtcp(leg.rtcp.report(leg.rewriter.ssrc, this.#now(), this.#unixNow(), { bye }));
      if (media.srtp) bytes = media.srtp.outbound.protectRtcp(bytes);
    } catch {
      this.#stats.processingErrors++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      try {
        dest.socket.send(bytes, dest.to.port, dest.to.address, (err) => {
          if (!err) this.#stats.rtcpSent++;
          resolve();
        });
      } catch {
        resolve(); // the socket closed under us
      }
    });
  }

  /** Incoming RTCP (own port, or muxed on the RTP port): SRTCP-checked, parsed for LSR, then terminated. */
  #onRtcp(leg: Leg, msg: Buffer, from: dgram.RemoteInfo, muxed: boolean): void {
    this.#stats.rtcpReceived++;
    const media = leg.media;
    if (this.#closed || !media) return;
    const latched = muxed ? leg.latched : leg.rtcpLatched;
    if (latched && (latched.address !== from.address || latched.port !== from.port)) {
      this.#stats.rtcpRejected++; // symmetric RTCP: only the far end we latched to
      return;
    }
    try {
      const plain = media.srtp ? media.srtp.inbound.unprotectRtcp(msg) : msg;
      const packets = parseRtcp(plain);
      // Latch (RFC 4961) only to the host the leg's RTP comes from: stray RTCP must not redirect our reports.
      if (!muxed && !leg.rtcpLatched && leg.latched?.address === from.address) leg.rtcpLatched = { address: from.address, port: from.port };
      leg.rtcp.rtcpReceived(packets, this.#now());
    } catch {
      this.#stats.rtcpRejected++;
    }
  }

  #leg(side: Side): Leg {
    return side === 'caller' ? this.caller : this.agent;
  }

  #onRtp(side: Side, msg: Buffer, from: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const leg = this.#leg(side);
    const stats = side === 'caller' ? this.#stats.callerToAgent : this.#stats.agentToCaller;
    const media = leg.media;
    if (!media) {
      stats.dropped++;
      return;
    }
    if (looksLikeRtcp(msg)) { // RFC 5761 §4 demultiplexing: RTCP is terminated
      this.#onRtcp(leg, msg, from, true);
      return;
    }
    let packet: RtpPacket;
    try {
      const plain = media.srtp ? media.srtp.inbound.unprotectRtp(msg) : msg;
      // No copy: node:dgram hands each datagram its own buffer, and unprotectRtp returns a new one.
      packet = parseRtp(plain, { copy: false });
    } catch {
      stats.rejected++;
      return;
    }
    if (!leg.accept(from)) {
      stats.rejected++;
      return;
    }
    stats.received++;
    leg.rtcp.received(packet.ssrc, packet.sequenceNumber, packet.timestamp, this.#now());
    // Runs in a socket callback: anything thrown here would be an uncaught exception and end the process.
    try {
      if (side === 'caller') this.#fromCaller(packet);
      else this.#fromAgent(packet);
    } catch {
      this.#stats.processingErrors++;
    }
  }

  // ---- caller → agent -----------------------------------------------------------------------------------

  #fromCaller(p: RtpPacket): void {
    if (this.#reorderSsrc !== p.ssrc) {
      // A new source restarts the sequence space: deliver what the old one left, then start over.
      const rest = this.#reorder.flush();
      this.#reorder = new ReorderBuffer<RtpPacket>({ maxDelayPackets: this.#reorderDepth });
      this.#reorderSsrc = p.ssrc;
      for (const q of rest) this.#callerInOrder(q);
    }
    for (const q of this.#reorder.push(p.sequenceNumber, p)) this.#callerInOrder(q);
  }

  #callerInOrder(p: RtpPacket): void {
    const callerMedia = this.caller.media;
    const agentMedia = this.agent.media;
    if (!callerMedia || !agentMedia) return;
    const stats = this.#stats.callerToAgent;
    const now = this.#now();
    if (this.#secure) this.#deliverEvents(this.#events.poll(now));
    if (callerMedia.telephoneEventPayloadType !== null && p.payloadType === callerMedia.telephoneEventPayloadType) {
      if (this.#secure) {
        this.#deliverEvents(this.#events.push(p, now));
        this.agent.rewriter.skip(p);
        stats.dropped++;
        return;
      }
      if (agentMedia.telephoneEventPayloadType === null) {
        this.agent.rewriter.skip(p);
        stats.dropped++;
        return;
      }
      this.#send(this.agent, p, agentMedia.telephoneEventPayloadType, p.payload, now, stats);
      return;
    }
    const codec = codecOf(p.payloadType, callerMedia);
    if (codec === null) {
      this.agent.rewriter.skip(p);
      stats.dropped++;
      return;
    }
    let payload: Uint8Array;
    if (this.#secure) {
      const sc = this.#scratch;
      sc.fit(p.payload.length);
      payload = encode(agentMedia.codec, this.#callerMasker.process(decode(codec, p.payload, sc.pcm), p.timestamp, sc.masked), sc.bytes);
    } else if (codec === agentMedia.codec) {
      payload = p.payload; // pass-through, bit-exact
    } else {
      payload = this.#transcode(codec, agentMedia.codec, p.payload);
    }
    this.#send(this.agent, p, agentMedia.payloadType, payload, now, stats);
  }

  #transcode(from: MaskableCodec, to: MaskableCodec, bytes: Uint8Array): Uint8Array {
    const sc = this.#scratch;
    sc.fit(bytes.length);
    return encode(to, decode(from, bytes, sc.pcm), sc.bytes);
  }

  #deliverEvents(notices: ReturnType<TelephoneEventReceiver['poll']>): void {
    for (const n of notices) {
      if (n.type === 'end' && n.key.digit !== null) this.#sink(n.key.digit, 'rfc4733');
    }
  }

  #sink(digit: DtmfDigit, source: SecureDigitSource): void {
    this.#stats.secureDigits++;
    try {
      this.#onDigit(digit, source);
    } catch {
      this.#stats.sinkErrors++; // never echo the digit or the listener's message anywhere
    }
  }

  // ---- agent → caller -----------------------------------------------------------------------------------

  #fromAgent(p: RtpPacket): void {
    const callerMedia = this.caller.media;
    const agentMedia = this.agent.media;
    if (!callerMedia || !agentMedia) return;
    const stats = this.#stats.agentToCaller;
    const now = this.#now();
    const path = this.#agentPath;
    if (path) {
      this.#agentEnded(path.events.poll(now));
      this.#agentStep(path.matcher.poll(now));
    }
    if (agentMedia.telephoneEventPayloadType !== null && p.payloadType === agentMedia.telephoneEventPayloadType) {
      if (path) { // armed: every agent event is held (RFC 4733 §2.5 would carry a trigger digit to the caller)
        this.#agentEnded(path.events.push(p, now));
        this.caller.rewriter.skip(p);
        stats.dropped++;
        return;
      }
      if (callerMedia.telephoneEventPayloadType === null) {
        this.caller.rewriter.skip(p);
        stats.dropped++;
        return;
      }
      this.#send(this.caller, p, callerMedia.telephoneEventPayloadType, p.payload, now, stats);
      return;
    }
    const codec = codecOf(p.payloadType, agentMedia);
    if (codec === null) {
      this.caller.rewriter.skip(p);
      stats.dropped++;
      return;
    }
    let payload: Uint8Array;
    if (path) {
      const sc = this.#scratch;
      sc.fit(p.payload.length);
      const pcm = path.masker.process(decode(codec, p.payload, sc.pcm), p.timestamp, sc.masked);
      payload = encode(callerMedia.codec, this.#injectInto(path, pcm), sc.bytes);
    } else {
      payload = codec === callerMedia.codec ? p.payload : this.#transcode(codec, callerMedia.codec, p.payload);
    }
    this.#send(this.caller, p, callerMedia.payloadType, payload, now, stats);
  }

  #agentEnded(notices: ReturnType<TelephoneEventReceiver['poll']>): void {
    for (const n of notices) {
      if (n.type === 'end' && n.key.digit !== null) this.#agentKey(n.key.digit, { source: 'rfc4733' });
    }
  }

  #agentKey(digit: DtmfDigit, origin: AgentKeyOrigin): void {
    const path = this.#agentPath;
    if (!path) return;
    this.#agentStep(path.matcher.push(digit, origin, this.#now()));
  }

  #agentStep(step: ReturnType<TriggerMatcher<AgentKeyOrigin>['poll']>): void {
    const path = this.#agentPath;
    if (!path) return;
    for (const k of step.released) {
      this.#stats.agentKeysReleased++;
      if (k.tag.source === 'sip-info') {
        try {
          this.#onReleasedInfo?.(k.tag.body, k.tag.contentType);
        } catch {
          this.#stats.processingErrors++;
        }
      } else {
        path.inject.push(generateTone({ digit: k.digit, durationMs: REGEN_ON_MS, levelDbm0: REGEN_LEVEL_DBM0 }), new Int16Array(msToSamples(REGEN_OFF_MS)));
      }
    }
    if (step.matched !== null) {
      this.#stats.triggersMatched++;
      try {
        this.#onTrigger?.(step.matched);
      } catch {
        this.#stats.processingErrors++; // never breaks the media path
      }
    }
  }

  /** Writes queued re-generated key tones over `pcm` (in place) and returns it. */
  #injectInto(path: AgentTriggerPath, pcm: Int16Array): Int16Array {
    let at = 0;
    while (at < pcm.length && path.inject.length > 0) {
      const head = path.inject[0] as Int16Array;
      const n = Math.min(head.length, pcm.length - at);
      pcm.set(head.subarray(0, n), at);
      at += n;
      if (n === head.length) path.inject.shift();
      else path.inject[0] = head.subarray(n);
    }
    return pcm;
  }

  // ---- sending ------------------------------------------------------------------------------------------

  /** Sends `p`'s audio/event as `payloadType` with `payload` on leg `to`, under that leg's SSRC/sequence/timestamp. */
  #send(to: Leg, p: RtpPacket, payloadType: number, payload: Uint8Array, now: number, stats: DirectionStats): void {
    const dest = to.destination;
    if (!dest || !to.media) {
      to.rewriter.skip(p);
      stats.dropped++;
      return;
    }
    const h = to.rewriter.rewrite(p, now);
    // Cardline is the source on this leg: CSRCs and header extensions of the far end are not forwarded.
    // The datagram comes from Node's pooled allocator: a fresh zeroed Uint8Array per packet costs more than the
    // rest of the pass-through path. Not reused by us: dgram may still hold it queued after send() returns.
    let bytes = serializeRtpInto({
      marker: h.marker, payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc,
      csrcs: NO_CSRCS, extension: null, payload, paddingLength: 0,
    }, Buffer.allocUnsafe(RTP_FIXED_HEADER_LENGTH + payload.length));
    if (to.media.srtp) bytes = to.media.srtp.outbound.protectRtp(bytes);
    try {
      to.pair.rtp.send(bytes, dest.port, dest.address);
    } catch {
      stats.dropped++; // the socket closed under us (call teardown)
      return;
    }
    stats.sent++;
    to.rtcp.sent(h.timestamp, payload.length, now);
    // the tap gets what was SENT (`payload`, post-masking) — never `p.payload`, the far end's unmasked input
    if (this.#tap && payloadType === to.media.payloadType) this.#tapAudio(to === this.agent ? 'caller' : 'agent', to.media.codec, payload, h.timestamp);
  }

  /** Hands the sent audio to the tap, decoded from the bytes that went out (see the file comment). */
  #tapAudio(channel: TapChannel, codec: MaskableCodec, payload: Uint8Array, timestamp: number): void {
    if (this.#tapPcm.length < payload.length) this.#tapPcm = new Int16Array(payload.length);
    const pcm = codec === 'PCMU' ? ulawDecode(payload, this.#tapPcm) : alawDecode(payload, this.#tapPcm);
    try {
      this.#tap?.audio(channel, pcm, timestamp);
    } catch {
      this.#stats.tapErrors++;
    }
  }
}

/** The local media endpoint of a leg, for SDP. */
export function legEndpoint(leg: Leg): { address: string; rtpPort: number; rtcpPort: number } {
  return { address: leg.pair.address, rtpPort: leg.pair.rtpPort, rtcpPort: leg.pair.rtcpPort };
}

export type { Leg as RelayLeg };
