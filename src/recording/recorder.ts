/**
 * The built-in call recorder (config `gateway.recording`): one `CallRecorder` per call, created by the B2BUA
 * through `tapFor(call)`; files `<dir>/<call id>.wav` and `<dir>/<call id>.json` (see call-recorder.ts).
 *
 * The directory is created 0700 (and tightened to 0700 if it exists); files are created 0600 and never overwritten.
 * Failures are counted per code and logged once per call with the call id and the code — never audio, never digits.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CardlineError, type ErrorCode } from '../errors/index.ts';
import type { Call, MediaTap } from '../gateway/index.ts';
import type { Logger } from '../log/index.ts';
import { CallRecorder, type RecordingMetadata, type SecureSpanRecording } from './call-recorder.ts';

export interface RecorderOptions {
  /** Directory of the recordings (absolute). */
  dir: string;
  /** `pause` (default): secure spans are cut out; `masked`: the masked audio is recorded through them. */
  secureSpan?: SecureSpanRecording;
  logger?: Logger;
  /** How long audio waits in memory for late packets before it is written. Default 500 ms. */
  lagMs?: number;
  /** How often buffered audio goes to disk. Default 250 ms. */
  flushIntervalMs?: number;
  /** RTP time vs wall time disagreement that re-anchors a channel. Default 1000 ms. */
  toleranceMs?: number;
  /** Per call: bytes waiting for the disk before its recording stops (`recording-backlog`). Default 1 MiB. */
  maxPendingBytes?: number;
  /** Monotonic clock (ms), default performance.now; wall clock, default `new Date()`. */
  now?: () => number;
  wallClock?: () => Date;
}

export interface RecorderStats {
  /** Calls being recorded now. */
  active: number;
  /** Recordings finished with both files written. */
  completed: number;
  /** Calls that ended without any audio (no files). */
  empty: number;
  /** Failures by catalogue code (`recording-io-error`, `recording-backlog`). */
  errors: Partial<Record<ErrorCode, number>>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Finished recordings kept for `finished()` lookups. */
const RECENT_LIMIT = 256;

export class Recorder {
  readonly dir: string;
  readonly secureSpan: SecureSpanRecording;
  readonly #o: RecorderOptions;
  readonly #active = new Map<string, CallRecorder>();
  readonly #recent = new Map<string, RecordingMetadata | null>();
  readonly #stats: RecorderStats = { active: 0, completed: 0, empty: 0, errors: {} };

  constructor(o: RecorderOptions) {
    this.#o = o;
    this.dir = o.dir;
    this.secureSpan = o.secureSpan ?? 'pause';
    // the ring per call holds lag + tolerance + two flush intervals: keep them in sane bounds (memory per call)
    const bounded = (name: string, v: number | undefined, min: number, max: number) => {
      if (v !== undefined && !(Number.isFinite(v) && v >= min && v <= max)) throw new CardlineError('invalid-config', `recorder ${name} must be ${min}-${max}`);
    };
    bounded('lagMs', o.lagMs, 0, 10_000);
    bounded('flushIntervalMs', o.flushIntervalMs, 10, 5_000);
    bounded('toleranceMs', o.toleranceMs, 20, 10_000);
    bounded('maxPendingBytes', o.maxPendingBytes, 4096, 1 << 30);
    try {
      mkdirSync(o.dir, { recursive: true, mode: 0o700 });
      chmodSync(o.dir, 0o700);
    } catch (err) {
      throw new CardlineError('invalid-config', `gateway.recording.dir cannot be created as a private directory (${(err as { code?: string }).code ?? 'error'})`, { cause: err });
    }
  }

  /** The B2BUA hook: a tap that records this call. */
  readonly tapFor = (call: Call): MediaTap => {
    const o = this.#o;
    const rec = new CallRecorder({
      call, dir: this.dir, secureSpan: this.secureSpan,
      now: o.now ?? (() => performance.now()), wallClock: o.wallClock ?? (() => new Date()),
      lagMs: o.lagMs ?? 500, flushIntervalMs: o.flushIntervalMs ?? 250, toleranceMs: o.toleranceMs ?? 1000,
      maxPendingBytes: o.maxPendingBytes ?? 1 << 20,
      onError: (err, c) => {
        this.#stats.errors[err.code] = (this.#stats.errors[err.code] ?? 0) + 1;
        o.logger?.error({ code: err.code, callId: c.id, detail: err.message }, 'call recording failed; the call goes on');
      },
    });
    this.#active.set(call.id, rec);
    void rec.done.then((meta) => {
      this.#active.delete(call.id);
      if (meta) this.#stats.completed++;
      else this.#stats.empty++;
      this.#recent.set(call.id, meta);
      if (this.#recent.size > RECENT_LIMIT) this.#recent.delete(this.#recent.keys().next().value as string);
    });
    return rec;
  };

  stats(): RecorderStats {
    return { ...this.#stats, active: this.#active.size, errors: { ...this.#stats.errors } };
  }

  /**
   * The metadata of a call's recording once its files are complete (null: the call had no audio); undefined when
   * the recorder knows no such call (never recorded, or long finished).
   */
  finished(callId: string): Promise<RecordingMetadata | null> | undefined {
    const rec = this.#active.get(callId);
    if (rec) return rec.done;
    return this.#recent.has(callId) ? Promise.resolve(this.#recent.get(callId) ?? null) : undefined;
  }

  /** The metadata file of a finished recording, or null (no such recording, still recording, or unreadable). */
  async metadata(callId: string): Promise<RecordingMetadata | null> {
    if (!UUID.test(callId)) return null; // call ids are UUIDs: nothing else can name a file here
    try {
      return JSON.parse(await readFile(join(this.dir, `${callId.toLowerCase()}.json`), 'utf8')) as RecordingMetadata;
    } catch {
      return null;
    }
  }

  /** Waits for the recordings of calls that already ended (call after the gateway closed). */
  async close(): Promise<void> {
    await Promise.all([...this.#active.values()].map((r) => r.done));
  }
}
