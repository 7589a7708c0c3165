/**
 * Message framing on a byte stream (RFC 3261 §18.3): "In the case of stream-oriented transports such as TCP,
 * the Content-Length header field indicates the size of the body", and §7.5: CRLFs before a start line are
 * ignored. RFC 5626 §3.5.1 gives those CRLFs a meaning: a double CRLF is a keep-alive "ping" to be answered
 * with a single CRLF "pong".
 *
 * The framer accepts chunks of any size (a message split over many reads, several messages in one read) and
 * bounds memory: a header section or message larger than `maxMessageSize` is an error, after which the stream
 * cannot be re-synchronised and the connection must be closed.
 */
import { SipParseError } from '../messages/index.ts';

export type FramerEvent =
  | { kind: 'message'; bytes: Uint8Array }
  | { kind: 'ping' }
  /** Framing is lost: answer if `bytes` can be salvaged, then close the connection. */
  | { kind: 'error'; error: SipParseError; bytes: Uint8Array };

const CL_LINE = /^(?:content-length|l)[ \t]*:[ \t]*(.*?)[ \t]*$/i;
const latin1 = new TextDecoder('latin1');

export class StreamFramer {
  readonly maxMessageSize: number;
  #buf: Buffer = Buffer.alloc(0);
  /** Where the search for the end of the header section resumes (bytes before it hold no blank line). */
  #scanFrom = 0;
  #failed = false;

  constructor(maxMessageSize: number) {
    this.maxMessageSize = maxMessageSize;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Uint8Array): FramerEvent[] {
    if (this.#failed) return [];
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const out: FramerEvent[] = [];
    for (;;) {
      const ev = this.#next();
      if (!ev) break;
      out.push(ev);
      if (ev.kind === 'error') {
        this.#failed = true;
        this.#buf = Buffer.alloc(0);
        break;
      }
    }
    return out;
  }

  #next(): FramerEvent | undefined {
    // Leading CR/LF: keep-alives (RFC 5626 §3.5.1) or the §7.5 CRLFs to ignore.
    while (this.#buf.length > 0 && (this.#buf[0] === 0x0d || this.#buf[0] === 0x0a)) {
      if (this.#buf.length >= 4 && this.#buf.readUInt32BE(0) === 0x0d0a0d0a) {
        this.#consume(4);
        return { kind: 'ping' };
      }
      if (this.#buf[0] === 0x0a) {
        this.#consume(1);
        continue;
      }
      if (this.#buf.length < 4 && this.#buf.every((b) => b === 0x0d || b === 0x0a)) return undefined; // wait: ping or pong?
      this.#consume(this.#buf[1] === 0x0a ? 2 : 1);
    }
    if (this.#buf.length === 0) return undefined;
    const end = this.#findHeaderEnd();
    if (end === undefined) {
      if (this.#buf.length > this.maxMessageSize) return this.#error('Message Too Large', 'sip-message-too-large');
      return undefined;
    }
    const lengths: string[] = [];
    for (const line of latin1.decode(this.#buf.subarray(0, end.headerEnd)).split(/\r?\n/)) {
      const m = CL_LINE.exec(line.replace(/\r$/, ''));
      if (m) lengths.push(m[1]!);
    }
    if (lengths.length === 0) return this.#error('Missing Content-Length');
    if (new Set(lengths).size > 1) return this.#error('Multiple Content-Length headers');
    if (!/^[0-9]{1,10}$/.test(lengths[0]!)) return this.#error('Content-Length: bad value');
    const total = end.bodyStart + Number(lengths[0]);
    if (total > this.maxMessageSize) return this.#error('Message Too Large', 'sip-message-too-large');
    if (this.#buf.length < total) return undefined;
    const bytes = new Uint8Array(this.#buf.subarray(0, total));
    this.#consume(total);
    return { kind: 'message', bytes };
  }

  #findHeaderEnd(): { headerEnd: number; bodyStart: number } | undefined {
    const b = this.#buf;
    for (let i = Math.max(0, this.#scanFrom); i < b.length; i++) {
      if (b[i] !== 0x0a) continue;
      if (b[i + 1] === 0x0a) return { headerEnd: i, bodyStart: i + 2 };
      if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return { headerEnd: i, bodyStart: i + 3 };
      if (i + 1 >= b.length || (b[i + 1] === 0x0d && i + 2 >= b.length)) {
        this.#scanFrom = i; // the blank line may complete in the next chunk
        return undefined;
      }
    }
    this.#scanFrom = b.length;
    return undefined;
  }

  #consume(n: number): void {
    this.#buf = this.#buf.subarray(n);
    this.#scanFrom = 0;
  }

  #error(reason: string, code?: 'sip-message-too-large'): FramerEvent {
    const bytes = new Uint8Array(this.#buf.subarray(0, Math.min(this.#buf.length, this.maxMessageSize)));
    return { kind: 'error', error: new SipParseError(reason, code), bytes };
  }
}
