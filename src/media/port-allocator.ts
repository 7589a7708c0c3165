/**
 * RTP/RTCP port pairs from the configured media port range, bound with node:dgram on the media address.
 *
 * RFC 3550 §11: "RTP SHOULD use an even destination port number and the corresponding RTCP stream SHOULD
 * use the next higher (odd) destination port number". Pairs are handed out round-robin from a cursor
 * rather than lowest-first, so a port just released is not reused at once: late packets of the previous
 * call (and its SRTP keys' replay state at the far end) then land on a closed port instead of a new call.
 * A port another process holds (EADDRINUSE/EACCES) is skipped; when every pair has been tried the
 * allocation fails with `media-ports-exhausted` (SIP 503 upstream).
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { CardlineError } from '../errors/index.ts';

export interface PortAllocatorOptions {
  /** Local address to bind (e.g. 0.0.0.0, 127.0.0.1, ::). */
  address: string;
  /** Lowest port of the range (inclusive). */
  minPort: number;
  /** Highest port of the range (inclusive). */
  maxPort: number;
}

export interface RtpPortPair {
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
  /** Closes both sockets and returns the pair to the pool (idempotent). */
  release(): Promise<void>;
}

function bindSocket(type: 'udp4' | 'udp6', address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type, reuseAddr: false });
    const onError = (err: Error): void => {
      try {
        s.close();
      } catch {
        // a socket whose bind failed may already count as closed
      }
      reject(err);
    };
    s.once('error', onError);
    s.bind({ address, port, exclusive: true }, () => {
      s.off('error', onError);
      resolve(s);
    });
  });
}

function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

export class RtpPortAllocator {
  readonly address: string;
  readonly minPort: number;
  readonly maxPort: number;
  readonly #type: 'udp4' | 'udp6';
  /** Even RTP ports of the range. */
  readonly #pairs: number[];
  readonly #busy = new Set<number>();
  readonly #live = new Set<RtpPortPair>();
  #cursor = 0;
  #closed = false;

  constructor(o: PortAllocatorOptions) {
    const family = isIP(o.address);
    if (family === 0) throw new CardlineError('invalid-config', 'media address must be an IP address');
    if (!Number.isInteger(o.minPort) || !Number.isInteger(o.maxPort) || o.minPort < 1024 || o.maxPort > 65535 || o.minPort > o.maxPort) {
      throw new CardlineError('invalid-config', 'media port range must be within 1024..65535 with min ≤ max');
    }
    this.address = o.address;
    this.minPort = o.minPort;
    this.maxPort = o.maxPort;
    this.#type = family === 6 ? 'udp6' : 'udp4';
    this.#pairs = [];
    for (let p = o.minPort + (o.minPort % 2); p + 1 <= o.maxPort; p += 2) this.#pairs.push(p);
    if (this.#pairs.length === 0) throw new CardlineError('invalid-config', 'media port range holds no even/odd port pair');
  }

  /** Number of pairs in the range. */
  get capacity(): number {
    return this.#pairs.length;
  }

  /** Pairs currently handed out. */
  get inUse(): number {
    return this.#live.size;
  }

  /** Binds the next free even/odd pair. Throws `media-ports-exhausted` when none is left. */
  async allocate(): Promise<RtpPortPair> {
    if (this.#closed) throw new CardlineError('media-ports-exhausted', 'the allocator is closed');
    const n = this.#pairs.length;
    for (let tried = 0; tried < n; tried++) {
      const port = this.#pairs[this.#cursor] as number;
      this.#cursor = (this.#cursor + 1) % n;
      if (this.#busy.has(port)) continue;
      this.#busy.add(port); // reserved synchronously: concurrent allocate() calls never share a pair
      let rtp: dgram.Socket | null = null;
      try {
        rtp = await bindSocket(this.#type, this.address, port);
        const rtcp = await bindSocket(this.#type, this.address, port + 1);
        return this.#pair(port, rtp, rtcp);
      } catch (e) {
        if (rtp) await closeSocket(rtp);
        this.#busy.delete(port);
        const code = errno(e);
        if (code === 'EADDRINUSE' || code === 'EACCES') continue; // someone else's port: try the next pair
        throw new CardlineError('io-error', `cannot bind the media address (${code ?? 'unknown error'})`, { cause: e });
      }
    }
    throw new CardlineError('media-ports-exhausted', `all ${n} pairs of ${this.minPort}-${this.maxPort} are in use`);
  }

  /** Releases every pair still handed out and refuses further allocations. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#live].map((p) => p.release()));
  }

  #pair(port: number, rtp: dgram.Socket, rtcp: dgram.Socket): RtpPortPair {
    let released: Promise<void> | null = null;
    const pair: RtpPortPair = {
      address: this.address,
      rtpPort: port,
      rtcpPort: port + 1,
      rtp,
      rtcp,
      release: () => {
        released ??= Promise.all([closeSocket(rtp), closeSocket(rtcp)]).then(() => {
          this.#live.delete(pair);
          this.#busy.delete(port);
        });
        return released;
      },
    };
    this.#live.add(pair);
    return pair;
  }
}
