/**
 * RFC 4733 telephone-event payloads (§2.3), a receiver state machine that turns a stream of event packets
 * into exactly one key press per event, and a sender that produces a well-formed event packet train.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     event     |E|R| volume    |          duration             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   event     0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash (RFC 4733 §3.2 table 7); others per RFC 4734
 *   E         end of event; the final packet is sent three times (§2.5.1.4)
 *   R         reserved: sent 0, ignored on receipt (§2.3.3)
 *   volume    power level in −dBm0, 0..63 (§2.3.4)
 *   duration  in RTP timestamp units since the event began (§2.3.5); the RTP timestamp of every packet of
 *             an event (segment) is the event's start time (§2.3.1)
 *
 * Card data: while a payment is taken these events ARE the card number. Nothing here logs, and errors carry
 * lengths only. KeyPress objects go to the payment session and nowhere else.
 */
import { isUint, put16, u16 } from './bytes.ts';
import { TelephoneEventParseError } from './errors.ts';
import type { RtpPacket } from './rtp-packet.ts';
import type { DtmfDigit } from '../dsp/index.ts';

export interface TelephoneEvent {
  /** Event code 0..255. */
  event: number;
  /** E bit: this packet ends the event. */
  end: boolean;
  /** Volume in −dBm0, 0..63. */
  volume: number;
  /** Duration so far in RTP timestamp units, 0..65535. */
  duration: number;
}

export const TELEPHONE_EVENT_LENGTH = 4;
/** §2.5.1.3: the largest duration one segment can express. */
export const MAX_SEGMENT_DURATION = 0xffff;
export const EVENT_FLASH = 16;

const EVENT_DIGITS: readonly DtmfDigit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

/** The DTMF key for event codes 0..15, or null for anything else (flash, RFC 4734 tones). */
export function eventToDigit(event: number): DtmfDigit | null {
  return EVENT_DIGITS[event] ?? null;
}

export function digitToEvent(digit: DtmfDigit): number {
  return EVENT_DIGITS.indexOf(digit);
}

/**
 * Parses a telephone-event payload. It must be exactly 4 octets: RFC 4733 carries one event per packet
 * (several only through RFC 2198 redundancy, which is a different payload type and is not negotiated here).
 */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent {
  if (payload.length !== TELEPHONE_EVENT_LENGTH) {
    throw new TelephoneEventParseError(`payload of ${payload.length} octets, expected ${TELEPHONE_EVENT_LENGTH}`, 0);
  }
  const b1 = payload[1] as number;
  return { event: payload[0] as number, end: (b1 & 0x80) !== 0, volume: b1 & 0x3f, duration: u16(payload, 2) };
}

export function serializeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  if (!isUint(e.event, 8)) throw new TelephoneEventParseError(`cannot serialize event code ${e.event}`);
  if (!isUint(e.volume, 6)) throw new TelephoneEventParseError(`cannot serialize volume ${e.volume} (0..63)`);
  if (!isUint(e.duration, 16)) throw new TelephoneEventParseError(`cannot serialize duration ${e.duration}`);
  const out = new Uint8Array(TELEPHONE_EVENT_LENGTH);
  out[0] = e.event;
  out[1] = (e.end ? 0x80 : 0) | e.volume; // R stays 0 (§2.3.3)
  put16(out, 2, e.duration);
  return out;
}

// ---- receiver -----------------------------------------------------------------------------------------

/** One key press, reported once per event however many packets carried it. */
export interface KeyPress {
  event: number;
  /** The DTMF key, or null for a non-DTMF event (flash, …). Card data in secure mode. */
  digit: DtmfDigit | null;
  /** RTP timestamp at which the event began (its first segment's timestamp). */
  startTimestamp: number;
  /** Total length in RTP timestamp units, over all segments. */
  durationSamples: number;
  /** (startTimestamp + durationSamples) mod 2^32. */
  endTimestamp: number;
  /** Volume of the last packet, −dBm0. */
  volume: number;
  /** True when an E-bit packet was received; false when the event was closed by a newer one or by timeout. */
  endReceived: boolean;
}

export type TelephoneEventNotice =
  | { type: 'begin'; event: number; digit: DtmfDigit | null; startTimestamp: number }
  | { type: 'end'; key: KeyPress };

export interface TelephoneEventReceiverOptions {
  /** Close an event whose end never arrived after this long without a packet for it (ms). Default 500. */
  timeoutMs?: number;
  /** Finished event timestamps remembered to drop late retransmissions. Default 16. */
  historySize?: number;
}

export interface TelephoneEventReceiverStats {
  packets: number;
  malformed: number;
  /** Retransmitted end packets and late updates of finished events. */
  duplicates: number;
  /** Packets of events older than the current one that were never seen (dropped, not reported). */
  late: number;
  /** Packets with the current event's timestamp but another event code (ignored). */
  conflicts: number;
  /** Events whose E packets were all lost (closed by a newer event, timeout or flush). */
  endsMissing: number;
  /** Events whose first packet(s) were lost (the first one seen had no marker and a non-zero duration). */
  startsMissing: number;
}

interface Current {
  event: number;
  startTimestamp: number;
  /** Timestamp of the segment being received (§2.5.1.3 long events start new segments). */
  segmentTimestamp: number;
  /** Duration of all completed segments before this one. */
  previousSegments: number;
  segmentDuration: number;
  volume: number;
  lastSeenMs: number;
}

/** Serial-number comparison on 32-bit RTP timestamps (RFC 3550 §5.1: they wrap). */
function tsAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}

/**
 * RFC 4733 §2.5.2 receiver. Feed it every packet of the telephone-event payload type, in arrival order;
 * it returns notices: `begin` when an event is first seen (the relay may start suppressing) and `end` exactly
 * once per event with the complete key press.
 *
 * - Same RTP timestamp = same event (§2.5.1.2); the duration only grows; the E packet is sent 3 times
 *   (§2.5.1.4) and later copies are duplicates.
 * - Lost start packets: any packet of an unseen event starts it; the timestamp is the event start anyway.
 * - A newer timestamp ends a current event whose E packets were lost, then begins the new one (§2.5.2.2).
 * - Long events (§2.5.1.3, §2.5.2.3): a packet of the same event, without marker, whose timestamp is the
 *   current segment's + 0xFFFF continues the event instead of starting a new key press.
 * - An event whose end never comes is closed by `poll(now)` after `timeoutMs` without packets, or by `flush()`.
 * - Packets of an older, unseen event are dropped (`late`): reporting it after a newer key would reorder
 *   the card number, which is worse than losing one digit (the Luhn check catches a lost digit).
 */
export class TelephoneEventReceiver {
  readonly #timeoutMs: number;
  readonly #historySize: number;
  #current: Current | null = null;
  /** Timestamps of finished segments, newest last; the newest defines "older" for late packets. */
  readonly #history: number[] = [];
  readonly #stats: TelephoneEventReceiverStats = { packets: 0, malformed: 0, duplicates: 0, late: 0, conflicts: 0, endsMissing: 0, startsMissing: 0 };

  constructor(options: TelephoneEventReceiverOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 500;
    this.#historySize = options.historySize ?? 16;
    if (!(this.#timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    if (!Number.isInteger(this.#historySize) || this.#historySize < 1) throw new RangeError('historySize must be a positive integer');
  }

  get stats(): Readonly<TelephoneEventReceiverStats> {
    return { ...this.#stats };
  }

  /** True while an event has begun and not yet ended. */
  get active(): boolean {
    return this.#current !== null;
  }

  /** Feeds one RTP packet of the telephone-event payload type. A malformed payload is counted and ignored. */
  push(packet: Pick<RtpPacket, 'timestamp' | 'marker' | 'payload'>, nowMs: number): TelephoneEventNotice[] {
    let e: TelephoneEvent;
    try {
      e = parseTelephoneEvent(packet.payload);
    } catch {
      this.#stats.packets++;
      this.#stats.malformed++;
      return this.poll(nowMs);
    }
    return this.pushEvent(packet.timestamp, packet.marker, e, nowMs);
  }

  /** Feeds one already-parsed event. */
  pushEvent(timestamp: number, marker: boolean, e: TelephoneEvent, nowMs: number): TelephoneEventNotice[] {
    this.#stats.packets++;
    const out = this.poll(nowMs);
    const cur = this.#current;
    if (cur && timestamp === cur.segmentTimestamp) {
      if (e.event !== cur.event) {
        this.#stats.conflicts++;
        return out;
      }
      this.#update(cur, e, nowMs);
      if (e.end) out.push(this.#finish(true));
      return out;
    }
    if (this.#history.includes(timestamp)) {
      this.#stats.duplicates++;
      return out;
    }
    if (cur && !marker && e.event === cur.event && timestamp === ((cur.segmentTimestamp + MAX_SEGMENT_DURATION) >>> 0)) {
      // §2.5.2.3: next segment of a long event — same key press.
      this.#history.push(cur.segmentTimestamp);
      this.#trimHistory();
      cur.previousSegments += MAX_SEGMENT_DURATION;
      cur.segmentTimestamp = timestamp;
      cur.segmentDuration = 0;
      this.#update(cur, e, nowMs);
      if (e.end) out.push(this.#finish(true));
      return out;
    }
    const newest = cur ? cur.segmentTimestamp : this.#history[this.#history.length - 1];
    if (newest !== undefined && !tsAfter(timestamp, newest)) {
      this.#stats.late++;
      return out;
    }
    if (cur) out.push(this.#finish(false));
    if (!marker && e.duration > 0) this.#stats.startsMissing++;
    const next: Current = {
      event: e.event, startTimestamp: timestamp, segmentTimestamp: timestamp, previousSegments: 0, segmentDuration: 0, volume: e.volume, lastSeenMs: nowMs,
    };
    this.#current = next;
    this.#update(next, e, nowMs);
    out.push({ type: 'begin', event: e.event, digit: eventToDigit(e.event), startTimestamp: timestamp });
    if (e.end) out.push(this.#finish(true));
    return out;
  }

  /** Closes the current event if no packet arrived for it within the timeout. */
  poll(nowMs: number): TelephoneEventNotice[] {
    const cur = this.#current;
    if (cur && nowMs - cur.lastSeenMs >= this.#timeoutMs) return [this.#finish(false)];
    return [];
  }

  /** Closes the current event now (stream ended, payload type changed, call torn down). */
  flush(): TelephoneEventNotice[] {
    return this.#current ? [this.#finish(false)] : [];
  }

  #update(cur: Current, e: TelephoneEvent, nowMs: number): void {
    if (e.duration > cur.segmentDuration) cur.segmentDuration = e.duration;
    cur.volume = e.volume;
    cur.lastSeenMs = nowMs;
  }

  #finish(endReceived: boolean): TelephoneEventNotice {
    const cur = this.#current as Current;
    this.#current = null;
    this.#history.push(cur.segmentTimestamp);
    this.#trimHistory();
    if (!endReceived) this.#stats.endsMissing++;
    const durationSamples = cur.previousSegments + cur.segmentDuration;
    return {
      type: 'end',
      key: {
        event: cur.event, digit: eventToDigit(cur.event), startTimestamp: cur.startTimestamp, durationSamples,
        endTimestamp: (cur.startTimestamp + durationSamples) >>> 0, volume: cur.volume, endReceived,
      },
    };
  }

  #trimHistory(): void {
    while (this.#history.length > this.#historySize) this.#history.shift();
  }
}

// ---- sender -------------------------------------------------------------------------------------------

export interface TelephoneEventSendOptions {
  event: number;
  /** Event length in RTP timestamp units (e.g. 800 = 100 ms at 8 kHz). */
  durationSamples: number;
  payloadType: number;
  ssrc: number;
  /** RTP timestamp of the event start. */
  startTimestamp: number;
  /** Sequence number of the first packet; later packets count up from it (mod 2^16). */
  startSequence: number;
  volume?: number;
  clockRate?: number;
  /** Interval between updates, ms (§2.5.1.2 suggests 50 ms for DTMF). Default 50. */
  packetIntervalMs?: number;
  /** How many E-bit packets to send (§2.5.1.4: three). Default 3. */
  endRepeats?: number;
  /** Spacing of the repeated end packets, ms. Default 20. */
  endSpacingMs?: number;
}

export interface ScheduledRtpPacket {
  /** When to send it, ms after the event start. */
  offsetMs: number;
  packet: RtpPacket;
}

/**
 * The packets a well-behaved RFC 4733 sender emits for one event: the first with the marker bit (§2.5.1.1)
 * and the duration so far, an update every `packetIntervalMs` carrying the growing duration, new segments
 * every 0xFFFF units for long events (§2.5.1.3, marker clear), and `endRepeats` identical E-bit packets
 * with the final duration (§2.5.1.4). Used by tests and by Cardline's own prompts towards the caller.
 */
export function buildTelephoneEventPackets(o: TelephoneEventSendOptions): ScheduledRtpPacket[] {
  const clockRate = o.clockRate ?? 8000;
  const intervalMs = o.packetIntervalMs ?? 50;
  const repeats = o.endRepeats ?? 3;
  const endSpacing = o.endSpacingMs ?? 20;
  const volume = o.volume ?? 10;
  if (!isUint(o.event, 8) || !isUint(volume, 6) || !isUint(o.payloadType, 7) || !isUint(o.ssrc, 32) || !isUint(o.startTimestamp, 32) || !isUint(o.startSequence, 16)) {
    throw new RangeError('telephone-event sender: a field is out of range');
  }
  if (!Number.isInteger(o.durationSamples) || o.durationSamples < 1) throw new RangeError('durationSamples must be a positive integer');
  if (!(intervalMs > 0) || !(clockRate > 0) || !Number.isInteger(repeats) || repeats < 1) throw new RangeError('telephone-event sender: bad timing options');
  const step = Math.max(1, Math.round((intervalMs * clockRate) / 1000));
  const out: ScheduledRtpPacket[] = [];
  let seq = o.startSequence;
  let first = true;
  const push = (segTs: number, duration: number, end: boolean, offsetMs: number): void => {
    out.push({
      offsetMs,
      packet: {
        marker: first, payloadType: o.payloadType, sequenceNumber: seq, timestamp: segTs >>> 0, ssrc: o.ssrc, csrcs: [], extension: null, paddingLength: 0,
        payload: serializeTelephoneEvent({ event: o.event, end, volume, duration }),
      },
    });
    first = false;
    seq = (seq + 1) & 0xffff;
  };
  const msOf = (samples: number): number => (samples * 1000) / clockRate;
  let segStart = 0; // elapsed units at which the current segment began
  for (let elapsed = 0; elapsed < o.durationSamples; elapsed += step) {
    // Close full segments first (§2.5.1.3): a packet saying 0xFFFF, then the next segment starts.
    while (elapsed - segStart >= MAX_SEGMENT_DURATION) {
      push(o.startTimestamp + segStart, MAX_SEGMENT_DURATION, false, msOf(segStart + MAX_SEGMENT_DURATION));
      segStart += MAX_SEGMENT_DURATION;
    }
    push(o.startTimestamp + segStart, elapsed - segStart, false, msOf(elapsed));
  }
  while (o.durationSamples - segStart > MAX_SEGMENT_DURATION) {
    push(o.startTimestamp + segStart, MAX_SEGMENT_DURATION, false, msOf(segStart + MAX_SEGMENT_DURATION));
    segStart += MAX_SEGMENT_DURATION;
  }
  for (let r = 0; r < repeats; r++) {
    push(o.startTimestamp + segStart, o.durationSamples - segStart, true, msOf(o.durationSamples) + r * endSpacing);
  }
  return out;
}
