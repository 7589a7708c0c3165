/**
 * The RTCP reports of one RTP session as Cardline takes part in it (RFC 3550 §6): what it sends on one leg of an
 * anchored call, and what it receives from that leg's far end. No I/O — the relay feeds it and sends what it builds.
 *
 * - Sender information (§6.4.1): Cardline's SSRC on the leg, its packet and payload-octet counts, and an NTP
 *   timestamp with "the same time as the NTP timestamp (above), but in the same units and with the same random
 *   offset as the RTP timestamps": the last RTP timestamp sent, advanced by the wall time elapsed since it was sent.
 * - An SR when Cardline sent data since the report before last (§6.4: "if a participant has sent any data packets
 *   during the interval since issuing the last report or the one before"), else an RR.
 * - One report block about the far end's source once it is valid (RFC 3550 A.1 probation): fraction lost since the
 *   previous report, cumulative loss, extended highest sequence, interarrival jitter (A.3, A.8 via
 *   `RtpSourceStats`), LSR = the middle 32 bits of the NTP timestamp of the last SR received from that source, DLSR =
 *   the delay since, in 1/65536 s (0 when no SR was received).
 * - Every compound carries SDES with a CNAME (§6.5.1, §6.1 "MUST be included in each compound RTCP packet"); the
 *   last one adds BYE (§6.6).
 */
import type { RtcpPacket, RtcpReportBlock, RtcpSdes } from './rtcp-packet.ts';
import { sdesWithCname } from './rtcp-packet.ts';
import { RtpSourceStats } from './rtp-source-stats.ts';

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970), RFC 5905 §6. */
const NTP_UNIX_OFFSET = 2_208_988_800;

export interface RtcpReporterOptions {
  /** CNAME for this leg (RFC 7022: a random, per-session identifier is fine). */
  cname: string;
  /** RTP clock rate of what is sent and received. Default 8000. */
  clockRate?: number;
}

/** An NTP timestamp (RFC 5905 §6) from Unix milliseconds. */
export function ntpFromUnixMs(ms: number): { seconds: number; fraction: number } {
  const whole = Math.floor(ms / 1000);
  const fraction = Math.floor(((ms - whole * 1000) / 1000) * 0x1_0000_0000);
  return { seconds: (whole + NTP_UNIX_OFFSET) >>> 0, fraction: Math.min(fraction, 0xffffffff) >>> 0 };
}

/** The middle 32 bits of an NTP timestamp, as LSR carries it (RFC 3550 §6.4.1). */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

export class RtcpReporter {
  readonly cname: string;
  readonly #clockRate: number;
  #packets = 0;
  #octets = 0;
  #lastTs: number | null = null;
  #lastSentAt = 0;
  /** Packet count at the previous report and at the one before it (for the SR/RR choice). */
  #sentAtReports: [number, number] = [0, 0];
  #source: RtpSourceStats | null = null;
  #lsr = 0;
  #lsrAt: number | null = null;
  /** The SDES packet for the last SSRC reported (the CNAME is encoded once, not every interval). */
  #sdes: RtcpSdes | null = null;

  constructor(o: RtcpReporterOptions) {
    if (o.cname.length === 0 || Buffer.byteLength(o.cname) > 255) throw new RangeError('cname must be 1..255 octets');
    this.cname = o.cname;
    this.#clockRate = o.clockRate ?? 8000;
  }

  get packetsSent(): number {
    return this.#packets;
  }

  get octetsSent(): number {
    return this.#octets;
  }

  /** The far end's source as seen so far, or null. */
  get source(): RtpSourceStats | null {
    return this.#source;
  }

  /** A packet Cardline sent on this leg (`payloadOctets` excludes header and padding, §6.4.1). */
  sent(timestamp: number, payloadOctets: number, nowMs: number): void {
    this.#packets = (this.#packets + 1) >>> 0;
    this.#octets = (this.#octets + payloadOctets) >>> 0;
    this.#lastTs = timestamp >>> 0;
    this.#lastSentAt = nowMs;
  }

  /** A valid RTP packet received from the far end of this leg. A new SSRC starts new statistics. */
  received(ssrc: number, sequenceNumber: number, timestamp: number, nowMs: number): void {
    let s = this.#source;
    if (!s || s.ssrc !== ssrc) {
      s = this.#source = new RtpSourceStats(ssrc, sequenceNumber);
      this.#lsrAt = null;
    }
    if (s.updateSeq(sequenceNumber)) s.updateJitter(timestamp, Math.round((nowMs * this.#clockRate) / 1000));
  }

  /** RTCP received from the far end: an SR from the source we report on sets LSR (§6.4.1). */
  rtcpReceived(packets: readonly RtcpPacket[], nowMs: number): void {
    for (const p of packets) {
      if (p.type !== 'sr') continue;
      if (this.#source?.ssrc !== p.ssrc) continue; // only the source we report on (§6.4.1 "from source SSRC_n")
      this.#lsr = ntpMiddle32(p.ntpSeconds, p.ntpFraction);
      this.#lsrAt = nowMs;
    }
  }

  /**
   * The next compound for `ssrc` (Cardline's SSRC on this leg): SR or RR, SDES CNAME, and BYE when `bye`.
   * `nowMs` is the monotonic clock the other calls used; `unixMs` the wall clock for the NTP timestamp.
   */
  report(ssrc: number, nowMs: number, unixMs: number, o: { bye?: boolean } = {}): RtcpPacket[] {
    const blocks: RtcpReportBlock[] = [];
    const s = this.#source;
    if (s?.valid) {
      const dlsr = this.#lsrAt === null ? 0 : Math.min(0xffffffff, Math.max(0, Math.round(((nowMs - this.#lsrAt) * 65536) / 1000)));
      blocks.push(s.reportBlock(this.#lsrAt === null ? 0 : this.#lsr, dlsr));
    }
    const wasSender = this.#packets !== this.#sentAtReports[0];
    this.#sentAtReports = [this.#sentAtReports[1], this.#packets];
    const empty = new Uint8Array(0);
    let first: RtcpPacket;
    if (wasSender && this.#lastTs !== null) {
      const ntp = ntpFromUnixMs(unixMs);
      const rtpTimestamp = (this.#lastTs + Math.round(((nowMs - this.#lastSentAt) * this.#clockRate) / 1000)) >>> 0;
      first = {
        type: 'sr', ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp,
        packetCount: this.#packets, octetCount: this.#octets, reports: blocks, extension: empty,
      };
    } else {
      first = { type: 'rr', ssrc, reports: blocks, extension: empty };
    }
    if (this.#sdes?.chunks[0]?.ssrc !== ssrc) this.#sdes = sdesWithCname(ssrc, this.cname);
    const out: RtcpPacket[] = [first, this.#sdes];
    if (o.bye) out.push({ type: 'bye', ssrcs: [ssrc], reason: null });
    return out;
  }
}
