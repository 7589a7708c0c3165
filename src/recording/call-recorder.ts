/**
 * Records one call: a `MediaTap` on its relay (what was SENT on each leg, i.e. post-masking) → one stereo 16-bit
 * 8 kHz WAV (left = caller, as the agent heard it; right = agent, as the caller heard it) plus a JSON metadata file.
 *
 * Timeline: see channel-timeline.ts (RTP timestamps against one wall clock). Audio sits in a `StereoRing` for
 * `lagMs` (so late and reordered packets still land in place) and is then drained to the file every
 * `flushIntervalMs`; gaps on either channel are silence. File time 0 is the first audio packet of the call.
 *
 * Secure spans (card entry), `secureSpan` setting:
 * - `pause`: nothing of the span is recorded on EITHER channel: audio arriving during it is dropped on receipt and
 *   the span is cut out of the file, so the file is shorter than the call by the spans' length. The metadata's
 *   `pauses` give each cut's position in file time (`fileOffsetMs`) and its wall-clock start/end and length.
 * - `masked`: the relay's masked audio is recorded through the span (keypad tones replaced as the agent heard
 *   them); file time = call time. The metadata gives each span's position in file time.
 *
 * Never blocks or breaks the call: all file I/O is asynchronous (wav-stream-writer.ts); a failure stops this
 * call's recording, is reported once via `onError` (`recording-io-error` / `recording-backlog`) and is written to
 * the metadata (`complete: false`). No digits ever reach this module: only masked audio and counts.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CardlineError, type ErrorCode } from '../errors/index.ts';
import type { Call, MediaTap, SecureChange, SecureSpanView, TapChannel } from '../gateway/index.ts';
import { ChannelTimeline } from './channel-timeline.ts';
import { StereoRing } from './stereo-ring.ts';
import { WavStreamWriter } from './wav-stream-writer.ts';

export const RECORDING_SAMPLE_RATE = 8000;

/** What happens to a secure span in the built-in recording (see the file comment). */
export type SecureSpanRecording = 'pause' | 'masked';

export interface CallRecorderOptions {
  call: Call;
  dir: string;
  secureSpan: SecureSpanRecording;
  /** Monotonic clock in ms. */
  now: () => number;
  /** Wall clock (metadata timestamps). */
  wallClock: () => Date;
  lagMs: number;
  flushIntervalMs: number;
  /** Re-anchor a channel when RTP time and wall time differ by more than this. */
  toleranceMs: number;
  maxPendingBytes: number;
  onError: (err: CardlineError, call: Call) => void;
}

/** Where one secure span lies in the file (ms of file time). In `pause` mode start = end: the cut point. */
export interface SecureSpanInFile extends SecureSpanView {
  fileStartMs: number | null;
  fileEndMs: number | null;
}

export interface RecordingPause {
  /** Where the cut is, in file time. */
  fileOffsetMs: number;
  /** Call time cut out. */
  durationMs: number;
  start: string;
  end: string;
}

/** The JSON written next to the WAV (`<call id>.json`). Masked by construction: no digits, no card data. */
export interface RecordingMetadata {
  version: 1;
  callId: string;
  sipCallId: string;
  caller: string;
  callee: string;
  agent: string;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  recording: {
    file: string;
    format: 'wav';
    sampleRate: number;
    bitsPerSample: 16;
    /** Left, right. */
    channels: ['caller', 'agent'];
    secureSpan: SecureSpanRecording;
    /** Wall-clock time of file time 0. */
    startedAt: string;
    durationMs: number;
    frames: number;
    complete: boolean;
    error: ErrorCode | null;
    /** Samples that arrived after their place had been written (later than `lagMs`), dropped. */
    lateSamples: number;
    /** Times a channel was re-anchored to the wall clock (see channel-timeline.ts). */
    reanchors: number;
  };
  /** The call's secure spans, each with its position in file time. */
  secureSpans: SecureSpanInFile[];
  /** `pause` mode: the cuts, in file time. Empty in `masked` mode. */
  pauses: RecordingPause[];
}

interface Span {
  from: number;
  to: number | null;
  start: Date;
  end: Date | null;
}

const CHANNEL_INDEX: Record<TapChannel, 0 | 1> = { caller: 0, agent: 1 };
const RATE_PER_MS = RECORDING_SAMPLE_RATE / 1000;

export class CallRecorder implements MediaTap {
  readonly call: Call;
  readonly #o: CallRecorderOptions;
  readonly #t0: number;
  readonly #lag: number;
  readonly #timelines: [ChannelTimeline, ChannelTimeline];
  /** Secure spans in timeline positions (both modes; in `pause` mode they are also the cuts). */
  readonly #spans: Span[] = [];
  readonly #unsubscribe: () => void;
  #ring: StereoRing | null = null;
  #writer: WavStreamWriter | null = null;
  #origin = 0;
  #startedAt: Date | null = null;
  #maxEnd = 0;
  #lateSamples = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #done: Promise<RecordingMetadata | null>;
  #resolve!: (m: RecordingMetadata | null) => void;

  constructor(o: CallRecorderOptions) {
    this.#o = o;
    this.call = o.call;
    this.#t0 = o.now();
    this.#lag = Math.round(o.lagMs * RATE_PER_MS);
    const tolerance = Math.round(o.toleranceMs * RATE_PER_MS);
    this.#timelines = [new ChannelTimeline(tolerance), new ChannelTimeline(tolerance)];
    this.#done = new Promise((resolve) => { this.#resolve = resolve; });
    this.#unsubscribe = o.call.onSecureChange((c) => this.#onSecureChange(c));
  }

  /** Resolves when the files are complete: the metadata, or null when the call carried no audio (no files). */
  get done(): Promise<RecordingMetadata | null> {
    return this.#done;
  }

  get wavPath(): string {
    return join(this.#o.dir, `${this.call.id}.wav`);
  }

  get metadataPath(): string {
    return join(this.#o.dir, `${this.call.id}.json`);
  }

  get #paused(): boolean {
    return this.#o.secureSpan === 'pause' && this.#spans.at(-1)?.to === null;
  }

  // ---- MediaTap ------------------------------------------------------------------------------------------

  audio(channel: TapChannel, pcm: Int16Array, rtpTimestamp: number): void {
    if (this.#closed || this.#paused || pcm.length === 0) return;
    const wall = this.#wallPos();
    const c = CHANNEL_INDEX[channel];
    const pos = (this.#timelines[c] as ChannelTimeline).place(rtpTimestamp, pcm.length, wall);
    let ring = this.#ring;
    if (!ring) ring = this.#begin(pos);
    if (this.#writer?.error) return;
    const end = pos + pcm.length;
    if (end > ring.end) this.#drain(end - ring.capacity); // a packet far ahead: make room (what it passes is final)
    this.#lateSamples += ring.write(c, pos, pcm);
    if (end > this.#maxEnd) this.#maxEnd = end;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const open = this.#spans.at(-1);
    if (open && open.to === null) this.#endSpan(this.#o.wallClock());
    const writer = this.#writer;
    if (!this.#ring || !writer) {
      this.#resolve(null);
      return;
    }
    this.#drain(Math.max(this.#maxEnd, this.#wallPos()));
    void this.#finish(writer);
  }

  // ---- internals -----------------------------------------------------------------------------------------

  #wallPos(): number {
    return Math.round((this.#o.now() - this.#t0) * RATE_PER_MS);
  }

  #begin(origin: number): StereoRing {
    this.#origin = origin;
    this.#maxEnd = origin;
    this.#startedAt = new Date(this.#o.wallClock().getTime() - (this.#wallPos() - origin) / RATE_PER_MS);
    // the window: `lag` behind the wall clock, plus the re-anchoring tolerance ahead of it, plus a flush interval
    const capacity = this.#lag + (this.#timelines[0].toleranceSamples) + Math.round(this.#o.flushIntervalMs * RATE_PER_MS) * 2 + RECORDING_SAMPLE_RATE / 10;
    const ring = this.#ring = new StereoRing(capacity, origin);
    this.#writer = new WavStreamWriter(this.wavPath, {
      channels: 2, sampleRate: RECORDING_SAMPLE_RATE, maxPendingBytes: this.#o.maxPendingBytes,
      onError: (err) => this.#o.onError(err, this.call),
    });
    this.#timer = setInterval(() => this.#drain(this.#wallPos() - this.#lag), this.#o.flushIntervalMs);
    this.#timer.unref();
    return ring;
  }

  #drain(upTo: number): void {
    const ring = this.#ring;
    const writer = this.#writer;
    if (!ring || !writer) return;
    ring.drain(upTo, (frames, fromPos) => {
      if (writer.error) return;
      if (this.#o.secureSpan === 'masked') {
        writer.append(frames);
        return;
      }
      // pause: leave out every frame inside a secure span (an open span reaches to infinity)
      const end = fromPos + frames.length / 2;
      let cursor = fromPos;
      for (const s of this.#spans) {
        const to = s.to ?? Number.POSITIVE_INFINITY;
        if (to <= cursor || s.from >= end) continue;
        if (s.from > cursor) writer.append(frames.subarray((cursor - fromPos) * 2, (s.from - fromPos) * 2));
        cursor = Math.min(end, to);
        if (cursor >= end) return;
      }
      writer.append(frames.subarray((cursor - fromPos) * 2));
    });
  }

  #onSecureChange(c: SecureChange): void {
    if (this.#closed) return;
    if (c.on) {
      if (this.#spans.at(-1)?.to === null) return;
      this.#spans.push({ from: this.#wallPos(), to: null, start: c.at, end: null });
    } else {
      this.#endSpan(c.at);
    }
  }

  #endSpan(at: Date): void {
    const open = this.#spans.at(-1);
    if (!open || open.to !== null) return;
    open.to = Math.max(open.from, this.#wallPos());
    open.end = at;
  }

  /** File time (frames) of timeline position `pos`: after the origin, minus every cut before it. */
  #fileFrames(pos: number): number {
    let f = Math.max(0, pos - this.#origin);
    if (this.#o.secureSpan === 'pause') {
      for (const s of this.#spans) {
        const from = Math.max(s.from, this.#origin);
        const to = Math.min(s.to ?? pos, pos);
        if (to > from) f -= to - from;
      }
    }
    return Math.max(0, f);
  }

  async #finish(writer: WavStreamWriter): Promise<void> {
    await writer.close();
    const meta = this.#metadata(writer);
    try {
      await writeFile(this.metadataPath, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      const errno = (err as { code?: unknown }).code;
      this.#o.onError(new CardlineError('recording-io-error', typeof errno === 'string' ? errno : 'metadata write failed', { cause: err }), this.call);
    }
    this.#resolve(meta);
  }

  #metadata(writer: WavStreamWriter): RecordingMetadata {
    const v = this.call.view();
    const ms = (frames: number) => Math.round(frames / RATE_PER_MS * 1000) / 1000;
    const frames = writer.dataBytes / 4;
    const spans = this.#spans;
    const secureSpans: SecureSpanInFile[] = v.secureSpans.map((s, i) => {
      const mine = spans.length === v.secureSpans.length ? spans[i] : undefined;
      return {
        ...s,
        fileStartMs: mine ? ms(this.#fileFrames(mine.from)) : null,
        fileEndMs: mine ? ms(this.#fileFrames(mine.to ?? mine.from)) : null,
      };
    });
    const pauses: RecordingPause[] = this.#o.secureSpan !== 'pause' ? [] : spans.map((s) => ({
      fileOffsetMs: ms(this.#fileFrames(s.from)),
      durationMs: ms((s.to ?? s.from) - s.from),
      start: s.start.toISOString(),
      end: (s.end ?? s.start).toISOString(),
    }));
    return {
      version: 1, callId: v.id, sipCallId: v.sipCallId, caller: v.caller, callee: v.callee, agent: v.agent,
      startedAt: v.startedAt, answeredAt: v.answeredAt, endedAt: v.endedAt, endReason: v.endReason,
      recording: {
        file: `${this.call.id}.wav`, format: 'wav', sampleRate: RECORDING_SAMPLE_RATE, bitsPerSample: 16, channels: ['caller', 'agent'],
        secureSpan: this.#o.secureSpan, startedAt: (this.#startedAt ?? this.call.startedAt).toISOString(), durationMs: ms(frames), frames,
        complete: writer.error === null, error: writer.error, lateSamples: this.#lateSamples,
        reanchors: this.#timelines[0].reanchors + this.#timelines[1].reanchors,
      },
      secureSpans,
      pauses,
    };
  }
}
