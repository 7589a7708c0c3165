/**
 * Appends 16-bit PCM frames to a WAV file without holding the recording in memory (RIFF/WAVE, see
 * src/dsp/wav.ts for the layout: the header comes from `serializeWav` of zero frames, so there is one definition).
 *
 * - Writes are asynchronous and queued in order on one file handle: the relay's event loop never waits for the
 *   disk. At most `maxPendingBytes` may wait; beyond that the writer fails with `recording-backlog` (dropping a
 *   chunk would silently shift the rest of the file in time, so it stops instead).
 * - Crash behaviour: the header starts out describing an empty file and its RIFF and data sizes are patched at
 *   most every `patchEveryBytes` of audio and on close. A crash leaves a valid WAV holding the audio up to the last
 *   patch (readers that honour the data size stop there; the tail bytes after it are the following audio).
 * - The file is created exclusively (`wx`) with mode 0600.
 * - On the first failure (open, write, disk full) it stops writing, remembers the error code and reports it once.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { serializeWav } from '../dsp/index.ts';
import { CardlineError, type ErrorCode } from '../errors/index.ts';

export interface WavStreamWriterOptions {
  channels: number;
  sampleRate: number;
  /** Most bytes waiting to be written before the writer gives up. Default 1 MiB (≈ 32 s of 8 kHz stereo). */
  maxPendingBytes?: number;
  /** Patch the header sizes after this many new data bytes. Default 32000 (1 s of 8 kHz stereo 16-bit). */
  patchEveryBytes?: number;
  /** Called once, on the first failure. */
  onError?: (err: CardlineError) => void;
}

const MAX_DATA_BYTES = 0xffffffff - 36;
const LITTLE_ENDIAN = endianness() === 'LE';

export class WavStreamWriter {
  readonly path: string;
  readonly #header: Uint8Array;
  readonly #o: Required<Omit<WavStreamWriterOptions, 'onError'>> & Pick<WavStreamWriterOptions, 'onError'>;
  #fh: FileHandle | null = null;
  #chain: Promise<void>;
  #dataBytes = 0;
  #patchedAt = 0;
  #pending = 0;
  #error: CardlineError | null = null;
  #closed: Promise<void> | null = null;

  constructor(path: string, o: WavStreamWriterOptions) {
    this.path = path;
    this.#o = { maxPendingBytes: 1 << 20, patchEveryBytes: 32_000, ...o };
    const header = serializeWav({ sampleRate: o.sampleRate, channels: Array.from({ length: o.channels }, () => new Int16Array(0)) });
    this.#header = header;
    this.#chain = (async () => {
      this.#fh = await open(path, 'wx', 0o600);
      await this.#fh.write(header, 0, header.length, 0);
    })().catch((err: unknown) => this.#fail('recording-io-error', err));
  }

  /** Bytes of audio accepted so far (frames × block align). */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /** The first failure's code, or null. */
  get error(): ErrorCode | null {
    return this.#error?.code ?? null;
  }

  /** Queues interleaved 16-bit frames (copied). False when the writer has failed or is closed (nothing queued). */
  append(interleaved: Int16Array): boolean {
    if (this.#error || this.#closed) return false;
    const len = interleaved.length * 2;
    if (len === 0) return true;
    if (this.#dataBytes + len > MAX_DATA_BYTES) {
      this.#fail('recording-io-error', new Error('the 4 GiB WAV limit is reached'));
      return false;
    }
    if (this.#pending + len > this.#o.maxPendingBytes) {
      this.#fail('recording-backlog', new Error(`${this.#pending} bytes were still waiting for the disk`));
      return false;
    }
    const bytes = Buffer.allocUnsafe(len);
    const src = Buffer.from(interleaved.buffer, interleaved.byteOffset, len);
    src.copy(bytes);
    if (!LITTLE_ENDIAN) bytes.swap16(); // WAV PCM is little-endian
    const at = this.#header.length + this.#dataBytes;
    this.#dataBytes += len;
    this.#pending += len;
    const patch = this.#dataBytes - this.#patchedAt >= this.#o.patchEveryBytes;
    if (patch) this.#patchedAt = this.#dataBytes;
    const sizeNow = this.#dataBytes;
    this.#chain = this.#chain.then(async () => {
      this.#pending -= len;
      if (this.#error || !this.#fh) return;
      try {
        await this.#fh.write(bytes, 0, len, at);
        if (patch) await this.#patchSizes(sizeNow);
      } catch (err) {
        this.#fail('recording-io-error', err);
      }
    });
    return true;
  }

  /** Writes what is queued, patches the final sizes and closes the file (idempotent). Never rejects. */
  close(): Promise<void> {
    this.#closed ??= this.#chain.then(async () => {
      const fh = this.#fh;
      if (!fh) return;
      try {
        if (!this.#error) await this.#patchSizes(this.#dataBytes);
      } catch (err) {
        this.#fail('recording-io-error', err);
      }
      await fh.close().catch(() => undefined);
      this.#fh = null;
    });
    return this.#closed;
  }

  /** RIFF size at offset 4 and the data chunk's size just before the data (RIFF/WAVE 1991 §3). */
  async #patchSizes(dataBytes: number): Promise<void> {
    const fh = this.#fh;
    if (!fh) return;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(this.#header.length - 8 + dataBytes, 0);
    await fh.write(b, 0, 4, 4);
    const d = Buffer.alloc(4);
    d.writeUInt32LE(dataBytes, 0);
    await fh.write(d, 0, 4, this.#header.length - 4);
  }

  #fail(code: 'recording-io-error' | 'recording-backlog', cause: unknown): void {
    if (this.#error) return;
    const errno = (cause as { code?: unknown } | null)?.code;
    this.#error = new CardlineError(code, typeof errno === 'string' ? errno : cause instanceof Error ? cause.message : 'write failed', { cause });
    try {
      this.#o.onError?.(this.#error);
    } catch {
      // a listener error never breaks the writer
    }
  }
}
