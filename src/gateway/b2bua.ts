/**
 * The back-to-back user agent (RFC 3261 §6 "B2BUA", RFC 7092 §3.1 signalling-only plus media anchoring): each call
 * from the carrier side (the "caller leg", where Cardline is UAS) is routed by config rules to a target URI and
 * re-originated towards the contact centre (the "agent leg", where Cardline is UAC). The two dialogs share
 * nothing but the `Call` and its `MediaRelay`.
 *
 * - Routing: the first rule whose request-URI pattern and header patterns all match gives the target.
 *   No match → 404.
 * - Offer/answer: only the early-offer INVITE is supported (the SDP offer in the INVITE); a late offer (no body)
 *   is refused with 488. The caller's offer is rewritten for the agent leg by `rewriteForAnchor` (Cardline's
 *   agent-side ports, codecs it cannot mask removed). The agent's answer fixes the codec; the caller gets
 *   `createAnswer` preferring that codec (so audio is rarely transcoded), with SRTP on the caller leg when the
 *   caller offered SDES.
 * - SRTP on the agent leg is independent of the caller leg (`agentSrtp`, per route or for all): 'sdes' offers
 *   RTP/SAVP with one a=crypto per supported suite (RFC 4568 §6.1: AES_CM_128_HMAC_SHA1_80 tag 1, _32 tag 2, fresh
 *   keys per call); the agent's answer picks one, its key unprotects what the agent sends and ours (same tag)
 *   protects what we send (§6.1: each side's key is for what it sends). 'optional' does the same but, when the
 *   agent refuses the offer with 488 (RFC 3264 §6 / RFC 4568 §7.1.3 — it cannot do SAVP), re-offers plain RTP/AVP
 *   in a new INVITE. An agent re-INVITE/UPDATE keeps SRTP ('sdes' requires it, answered with a new key of ours).
 * - Provisional responses of the agent leg (180/183) are relayed as the same status without a body: early media
 *   is not anchored yet, so the caller hears local ringback.
 * - CANCEL from the caller propagates as CANCEL to the agent leg (the IncomingInvite answers 487).
 * - BYE from either side ends the other dialog with BYE and frees the relay's ports.
 * - Failures map to final responses: no route 404, no ports 503, nothing maskable 488, the agent's own final
 *   failure passed on (3xx → 480 since redirects are not followed; 401/407 after our digest → 403; a local
 *   408/503 of our transaction → 408/503); the agent leg cancelled by the no-answer timer → 480 "No Answer".
 *
 * - SIP INFO DTMF from the caller: in secure mode read and sent to the sink, never forwarded (see onRequest).
 * - Policy per call (`policy`, a `PolicySource`): read ONCE when the INVITE arrives; the call keeps it (an admin's
 *   change applies to new calls). `secureByDefault` starts the relay in secure mode (span 'policy') and pins it:
 *   neither the API nor the end of a payment session turns it off. Agent-side `triggers` arm the relay's trigger
 *   path (see media-relay.ts) — but not on a secure-by-default call: it is always secure, so a trigger has nothing
 *   to switch, and the agent → caller path keeps its cheap pass-through. A completed trigger turns secure mode
 *   on/off through the Call (span source 'trigger'). If the policy source throws, the call is set up fail-safe:
 *   secure by default, no triggers (masking too much is a nuisance; masking too little leaks card data).
 * - SIP INFO DTMF from the agent: with triggers armed it goes to the relay's matcher (never forwarded while it may
 *   be a trigger; forwarded to the caller once it is not); otherwise INFO is relayed to the caller.
 *
 * Secure digits of a call go to `onSecureDigit(call, …)` only — never to logs.
 */
import { timingSafeEqual } from 'node:crypto';
import { CardlineError } from '../errors/index.ts';
import type { DtmfDigit, MaskMode } from '../dsp/index.ts';
import { DEFAULT_MASKING_POLICY, type MaskingPolicy, type PolicySource } from './policy.ts';
import {
  createAnswer, generateCrypto, negotiated, parseSdp, rewriteForAnchor, type SdesCrypto, serializeSdp, SrtpContext,
  srtpOptionsFromCrypto, SUPPORTED_SUITES, type NegotiatedAudio, type RtpPortAllocator, type SessionDescription,
} from '../media/index.ts';
import {
  type Dialog, DialogState, type IncomingInvite, type OutgoingInvite, type ServerTransaction, serializeNameAddr, serializeUri,
  type SipRequest, type UserAgentCore,
} from '../sip/index.ts';
import { Call, CallRegistry, CallState } from './call-registry.ts';
import { isDtmfInfoType, parseInfoDtmf } from './info-dtmf.ts';
import {
  addRelayStats, emptyRelayStats, type LegMedia, MediaRelay, type MediaRelayStats, type MediaTap, type SecureDigitSource,
} from './media-relay.ts';

export interface RouteRule {
  /** Matched against the serialized Request-URI. */
  requestUri?: RegExp;
  /** Every listed header (case-insensitive name) must have a value matching its pattern. */
  headers?: ReadonlyArray<{ name: string; pattern: RegExp }>;
  /** Request-URI of the agent leg (e.g. `sip:queue@pbx.example.com`). */
  target: string;
  /** SRTP on this route's agent leg; default the B2BUA's `agentSrtp`. */
  agentSrtp?: AgentSrtpMode;
}

/** SRTP on the agent leg: none, SDES required, or SDES offered with a plain-RTP fallback. */
export type AgentSrtpMode = 'off' | 'sdes' | 'optional';

/** Cardline's a=crypto lines for an agent-leg offer: one per supported suite, each with its own fresh key. */
function agentCrypto(): SdesCrypto[] {
  return SUPPORTED_SUITES.map((suite, i) => generateCrypto(i + 1, suite));
}

export interface B2buaOptions {
  ua: UserAgentCore;
  allocator: RtpPortAllocator;
  routes: readonly RouteRule[];
  /** Address written in SDP; default the allocator's bind address (set it when binding 0.0.0.0). */
  mediaAddress?: string;
  registry?: CallRegistry;
  /**
   * The masking policy, read once per new call (config, or the admin's settings store). Default: built from
   * `secureByDefault` / `maskMode` below, no triggers.
   */
  policy?: PolicySource;
  /** Without `policy`: every call starts in secure mode (mask DTMF on every call all the time). Default false. */
  secureByDefault?: boolean;
  /** Without `policy`: what replaces a masked key press. */
  maskMode?: MaskMode;
  /** Agent-side trigger inter-digit timeout, ms (default 3000, see trigger-matcher.ts). */
  triggerTimeoutMs?: number;
  /** CANCEL the agent leg after this long without an answer. */
  noAnswerTimeoutMs?: number;
  /** Mean interval of Cardline's own RTCP reports on each leg (see MediaRelay); 0 = none. Default 5000. */
  rtcpIntervalMs?: number;
  /** SRTP on the agent leg for routes that do not set their own. Default 'off'. */
  agentSrtp?: AgentSrtpMode;
  /** The secure sink of each call (later bound to its payment session). */
  onSecureDigit?: (call: Call, digit: DtmfDigit, source: SecureDigitSource) => void;
  /** Called once per call when it ends (tests, metrics). */
  onCallEnded?: (call: Call) => void;
  /** Called once per new call, before its media opens (observers such as the recorder webhooks subscribe here). */
  onCallStarted?: (call: Call) => void;
  /** A tap for the audio the call's relay sends (the call recorder), or null for none. */
  tapFor?: (call: Call) => MediaTap | null;
}

function matches(rule: RouteRule, invite: IncomingInvite): boolean {
  if (rule.requestUri && !rule.requestUri.test(serializeUri(invite.request.uri))) return false;
  for (const h of rule.headers ?? []) {
    const values = invite.request.headers.getAll(h.name);
    if (!values.some((v) => h.pattern.test(v))) return false;
  }
  return true;
}

/** What to answer the caller when the agent leg failed with `status`. */
export function mapFailure(status: number): number {
  if (status >= 300 && status < 400) return 480;
  if (status === 401 || status === 407) return 403;
  if (status < 300 || status > 699) return 500;
  return status;
}

let originCounter = Date.now() % 1_000_000_000;

function origin(): { sessionId: string; sessionVersion: string } {
  originCounter++;
  return { sessionId: String(originCounter), sessionVersion: '1' };
}

/** SRTP contexts for a leg where Cardline was the answerer (the far end offered). */
function srtpFor(n: NegotiatedAudio): LegMedia['srtp'] {
  // Caller leg: the offerer sends with its key (unprotect with it), Cardline answered with its own key.
  if (!n.srtp || !n.offerer.crypto || !n.answerer.crypto) return null;
  return { inbound: new SrtpContext(srtpOptionsFromCrypto(n.offerer.crypto)), outbound: new SrtpContext(srtpOptionsFromCrypto(n.answerer.crypto)) };
}

/** The same SRTP master key and salt for the same suite (RFC 4568 §7.1.4: a re-offer may keep its key). */
function sameKey(a: SdesCrypto, b: SdesCrypto): boolean {
  const ka = a.keys[0]?.keySalt;
  const kb = b.keys[0]?.keySalt;
  return a.suite === b.suite && ka !== undefined && kb !== undefined && ka.length === kb.length && timingSafeEqual(ka, kb);
}

/**
 * A re-offer (re-INVITE/UPDATE) that repeats the far end's SDES key keeps that leg's inbound context, so its
 * rollover counter survives (RFC 3711 §3.3.1; RFC 4568 §7.1.4 lets a re-offer keep its key): a fresh context would
 * guess ROC 0 and reject every packet after the first sequence wrap (~22 minutes at 50 packets/s). A new key
 * starts a new context.
 */
function keepInboundIfSameKey(next: LegMedia['srtp'], before: LegMedia['srtp'] | undefined, oldKey: SdesCrypto | null, offered: SdesCrypto | null): LegMedia['srtp'] {
  if (next && before && oldKey && offered && sameKey(oldKey, offered)) return { inbound: before.inbound, outbound: next.outbound };
  return next;
}

/** SRTP contexts for a leg where Cardline offered: unprotect with the answerer's key, protect with our own. */
function srtpAsOfferer(n: NegotiatedAudio): LegMedia['srtp'] {
  if (!n.srtp || !n.offerer.crypto || !n.answerer.crypto) return null;
  return { inbound: new SrtpContext(srtpOptionsFromCrypto(n.answerer.crypto)), outbound: new SrtpContext(srtpOptionsFromCrypto(n.offerer.crypto)) };
}

/** The leg whose SDP was the offer (Cardline answered it): send with its payload types, to its address. */
function legFromOfferer(n: NegotiatedAudio, srtp: LegMedia['srtp']): LegMedia {
  return {
    codec: n.codec, payloadType: n.offerer.codecPayloadType, telephoneEventPayloadType: n.offerer.telephoneEventPayloadType,
    remote: { address: n.offerer.address, port: n.offerer.port }, srtp,
    rtcpRemote: { address: n.offerer.rtcpAddress, port: n.offerer.rtcpPort }, rtcpMux: n.offerer.rtcpMux,
  };
}

/** Answers a re-INVITE's offer for one leg (`answerOffer` reconfigures the relay); no usable offer → 488. */
function answerReinvite(re: IncomingInvite, answerOffer: (body: Uint8Array) => string): void {
  try {
    if (re.request.body.length === 0) throw new CardlineError('sdp-not-acceptable', 'late-offer re-INVITE');
    re.accept({ body: answerOffer(re.request.body) });
  } catch {
    if (!re.tx.finalSent) re.reject(488);
  }
}

/**
 * UPDATE in a confirmed dialog (RFC 3311 §5.2): with an SDP offer, answered like a re-INVITE for that leg; without a
 * body (a session refresh) 200 with no SDP. The 2xx carries our Contact (§5.2: "the UAS MUST include a Contact").
 */
function answerUpdate(tx: ServerTransaction, req: SipRequest, dialog: Dialog, answerOffer: (body: Uint8Array) => string): void {
  const contact: [string, string] = ['Contact', `<${serializeUri(dialog.localTarget)}>`];
  if (req.body.length === 0) {
    tx.reply(200, { headers: [contact] });
    return;
  }
  try {
    tx.reply(200, { headers: [contact], body: new TextEncoder().encode(answerOffer(req.body)), contentType: 'application/sdp' });
  } catch {
    tx.reply(488);
  }
}

/**
 * An in-dialog request other than re-INVITE, BYE and ACK on one leg (each leg is answered by Cardline, not bridged):
 * UPDATE answered for that leg, OPTIONS 200, INFO acknowledged (RFC 6086 §4.2.2: 200 once the body is accepted) and
 * handed to `onInfo`, anything else 501.
 */
function inDialogRequest(
  tx: ServerTransaction, req: SipRequest, dialog: Dialog, answerOffer: (body: Uint8Array) => string,
  onInfo: (contentType: string | undefined, body: Uint8Array) => void,
): void {
  if (req.method === 'UPDATE') {
    answerUpdate(tx, req, dialog, answerOffer);
    return;
  }
  if (req.method !== 'INFO') {
    tx.reply(req.method === 'OPTIONS' ? 200 : 501);
    return;
  }
  tx.reply(200);
  onInfo(req.headers.get('Content-Type'), req.body);
}

export class B2bua {
  readonly registry: CallRegistry;
  readonly #o: B2buaOptions;
  readonly #address: string;
  readonly #live = new Set<ActiveCall>();
  readonly #policy: PolicySource;
  #policyErrors = 0;

  constructor(o: B2buaOptions) {
    this.#o = o;
    this.registry = o.registry ?? new CallRegistry();
    this.#address = o.mediaAddress ?? o.allocator.address;
    const fixed: MaskingPolicy = { ...DEFAULT_MASKING_POLICY, secureByDefault: o.secureByDefault ?? false, maskMode: o.maskMode ?? 'tone' };
    this.#policy = o.policy ?? (() => fixed);
    o.ua.onInvite = (invite) => {
      // A bug or a hostile message must never become an unhandled rejection (it would end the process).
      this.#handle(invite).catch((err: unknown) => {
        this.#handlerErrors++;
        o.ua.logger?.error({ err: { message: err instanceof Error ? err.message : String(err) }, callId: invite.request.callId() }, 'gateway INVITE handling failed');
        try {
          if (!invite.tx.finalSent) invite.reject(500);
        } catch {
          // already answered
        }
      });
    };
  }

  #handlerErrors = 0;

  /** INVITEs whose handling threw (answered 500). */
  get handlerErrors(): number {
    return this.#handlerErrors;
  }

  /** Times the policy source threw (those calls were set up secure by default, see the file comment). */
  get policyErrors(): number {
    return this.#policyErrors;
  }

  #readPolicy(): MaskingPolicy {
    try {
      const p = this.#policy();
      return { secureByDefault: p.secureByDefault, maskMode: p.maskMode, triggers: p.triggers ? { ...p.triggers } : null };
    } catch {
      this.#policyErrors++;
      return { ...DEFAULT_MASKING_POLICY, secureByDefault: true };
    }
  }

  /** Hangs up every call (BYE both legs) and frees the media. */
  async close(): Promise<void> {
    await Promise.all([...this.#live].map((c) => c.hangup()));
  }

  async #handle(invite: IncomingInvite): Promise<void> {
    const rule = this.#o.routes.find((r) => matches(r, invite));
    if (!rule) {
      invite.reject(404);
      return;
    }
    if (invite.request.body.length === 0) {
      invite.reject(488, { reason: 'Late offer not supported' });
      return;
    }
    let offer: SessionDescription;
    try {
      offer = parseSdp(new TextDecoder().decode(invite.request.body));
    } catch {
      invite.reject(400, { reason: 'Bad SDP' });
      return;
    }
    const call = new Call({
      sipCallId: invite.request.callId(),
      caller: serializeUri(invite.request.from().uri),
      callee: serializeUri(invite.request.uri),
      agent: rule.target,
    });
    let tap: MediaTap | null = null;
    try {
      this.#o.onCallStarted?.(call);
      tap = this.#o.tapFor?.(call) ?? null;
    } catch {
      // an observer's error never refuses a call (house style 5)
    }
    const policy = this.#readPolicy();
    const triggers = policy.secureByDefault || !policy.triggers ? null : {
      ...policy.triggers, ...(this.#o.triggerTimeoutMs !== undefined ? { interDigitTimeoutMs: this.#o.triggerTimeoutMs } : {}),
    };
    let relay: MediaRelay;
    let active: ActiveCall | null = null;
    try {
      relay = await MediaRelay.open({
        tap,
        allocator: this.#o.allocator,
        secure: policy.secureByDefault,
        maskMode: policy.maskMode,
        triggers,
        ...(this.#o.rtcpIntervalMs !== undefined ? { rtcpIntervalMs: this.#o.rtcpIntervalMs } : {}),
        onDigit: (digit, source) => this.#secureDigit(call, digit, source),
        onTrigger: (which) => this.#trigger(call, which),
        onReleasedInfo: (body, type) => {
          const d = active?.callerDialog;
          if (d && d.state === DialogState.Confirmed) d.info(body, type).catch(() => undefined);
        },
      });
    } catch (e) {
      try {
        tap?.close(); // the relay never owned it
      } catch {
        // never breaks the answer
      }
      if (!invite.tx.finalSent) invite.reject(e instanceof CardlineError && e.code === 'media-ports-exhausted' ? 503 : 500);
      return;
    }
    const srtpMode = rule.agentSrtp ?? this.#o.agentSrtp ?? 'off';
    const agentOrigin0 = origin();
    const anchorAgent = (srtp: boolean): SessionDescription => rewriteForAnchor(offer, {
      address: this.#address, port: relay.agent.pair.rtpPort, rtcpPort: relay.agent.pair.rtcpPort, rtcpMux: true,
      srtp: srtp ? { crypto: agentCrypto() } : null, origin: agentOrigin0,
    });
    let agentOffer: SessionDescription;
    try {
      agentOffer = anchorAgent(srtpMode !== 'off');
    } catch (e) {
      await relay.close();
      if (!invite.tx.finalSent) invite.reject(e instanceof CardlineError && e.code === 'sdp-not-acceptable' ? 488 : 400);
      return;
    }
    if (invite.tx.finalSent) { // cancelled while we were binding ports
      await relay.close();
      return;
    }
    call.media = { callerRtpPort: relay.caller.pair.rtpPort, agentRtpPort: relay.agent.pair.rtpPort };
    active = new ActiveCall(this, call, relay, invite, policy);
    const live = active;
    this.#live.add(live);
    this.registry.add(call);
    const from = invite.request.from();
    const dial = (sdp: SessionDescription): OutgoingInvite => {
      const out = this.#o.ua.invite({
        uri: rule.target,
        from: serializeNameAddr({ displayName: from.displayName, uri: from.uri, params: new Map() }),
        body: serializeSdp(sdp),
        ...(this.#o.noAnswerTimeoutMs !== undefined ? { noAnswerTimeoutMs: this.#o.noAnswerTimeoutMs } : {}),
      });
      live.agentInvite = out;
      invite.onCancel = () => out.cancel();
      out.onProgress = (r) => {
        if (r.status <= 100 || invite.tx.finalSent) return;
        if (call.state === CallState.Routing) call.transition(CallState.Ringing);
        try {
          invite.progress(r.status);
        } catch {
          // the caller's transaction ended meanwhile; the outcome handler cleans up
        }
      };
      return out;
    };
    let outcome = await dial(agentOffer).outcome;
    if (outcome.kind === 'failed' && !outcome.cancelled && outcome.response.status === 488 && srtpMode === 'optional' && !invite.tx.finalSent) {
      // The agent side cannot do RTP/SAVP: offer plain RTP/AVP instead (a new INVITE, same ports).
      agentOffer = anchorAgent(false);
      outcome = await dial(agentOffer).outcome;
    }
    if (outcome.kind === 'failed') {
      // Cancelled while the caller's INVITE is still open = our no-answer timer cancelled the agent leg (a caller's
      // CANCEL answers the caller 487 first). The agent's 487 is not the caller's answer: RFC 3261 §21.4.18 480
      // Temporarily Unavailable ("No Answer", the reason our CANCEL carried, RFC 3326).
      if (!invite.tx.finalSent) {
        if (outcome.cancelled) invite.reject(480, { reason: 'No Answer' });
        else invite.reject(mapFailure(outcome.response.status));
      }
      await live.end(outcome.cancelled ? 'cancelled' : `agent-${outcome.response.status}`);
      return;
    }
    const agentDialog = outcome.dialog;
    live.agentDialog = agentDialog;
    if (invite.tx.finalSent) { // the caller cancelled as the agent answered (§9.1 race): hang up the agent
      await live.end('cancelled');
      return;
    }
    let callerAnswer: SessionDescription;
    const callerOrigin = origin();
    let agentNeg: NegotiatedAudio;
    let callerLeg: LegMedia;
    let agentLeg: LegMedia;
    // The caller's current SDES key: a re-offer that repeats it keeps the inbound context (see keepInboundIfSameKey).
    let callerKey: SdesCrypto | null = null;
    try {
      agentNeg = negotiated(agentOffer, new TextDecoder().decode(outcome.response.body));
      const answered = createAnswer(offer, {
        address: this.#address, port: relay.caller.pair.rtpPort, rtcpPort: relay.caller.pair.rtcpPort, origin: callerOrigin,
        codecs: agentNeg.codec === 'PCMU' ? ['PCMU', 'PCMA'] : ['PCMA', 'PCMU'], preferLocal: true,
      });
      callerAnswer = answered.answer;
      const callerNeg = answered.negotiated;
      callerKey = callerNeg.offerer.crypto;
      callerLeg = legFromOfferer(callerNeg, srtpFor(callerNeg));
      agentLeg = {
        codec: agentNeg.codec, payloadType: agentNeg.answerer.codecPayloadType,
        telephoneEventPayloadType: agentNeg.answerer.telephoneEventPayloadType,
        remote: { address: agentNeg.answerer.address, port: agentNeg.answerer.port }, srtp: srtpAsOfferer(agentNeg),
        rtcpRemote: { address: agentNeg.answerer.rtcpAddress, port: agentNeg.answerer.rtcpPort }, rtcpMux: agentNeg.answerer.rtcpMux,
      };
      relay.configure(callerLeg, agentLeg);
    } catch {
      invite.reject(488);
      await live.end('sdp-not-acceptable');
      return;
    }
    const callerDialog = invite.accept({ body: serializeSdp(callerAnswer) });
    live.callerDialog = callerDialog;
    call.transition(CallState.Answered);
    call.control = live;
    if (relay.secure) call.noteSecure(true, 'policy'); // secure by default: the span starts at answer
    callerDialog.onTerminated = (reason) => void live.end(`caller-${reason}`);
    // re-INVITE or UPDATE (hold, session refresh, codec change) from either side is answered by Cardline for that leg
    // only: the other leg keeps its media and the relay transcodes if the G.711 laws now differ. RFC 3264 §8: same o=
    // session id, version + 1 for each new answer. A re-INVITE without an offer (late offer) is refused 488; an UPDATE
    // without a body (RFC 3311 §5.2 — e.g. an RFC 4028 session refresh by a carrier) is answered 200 with no SDP.
    let callerVersion = 1;
    // RFC 3264 §8: answers on the agent leg keep the o= session id Cardline offered with there.
    // The agent's current SDES key: a re-offer that repeats it keeps the inbound context (see keepInboundIfSameKey).
    let agentKey = agentNeg.answerer.crypto;
    let agentVersion = 1;
    const answerCallerOffer = (body: Uint8Array): string => {
      const o = parseSdp(new TextDecoder().decode(body));
      const { answer, negotiated: n } = createAnswer(o, {
        address: this.#address, port: relay.caller.pair.rtpPort, rtcpPort: relay.caller.pair.rtcpPort,
        origin: { sessionId: callerOrigin.sessionId, sessionVersion: String(callerVersion + 1) },
        codecs: agentNeg.codec === 'PCMU' ? ['PCMU', 'PCMA'] : ['PCMA', 'PCMU'], preferLocal: true,
      });
      const srtp = keepInboundIfSameKey(srtpFor(n), relay.caller.media?.srtp, callerKey, n.offerer.crypto);
      relay.configure(legFromOfferer(n, srtp), relay.agent.media ?? agentLeg);
      callerKey = n.offerer.crypto;
      callerVersion++;
      return serializeSdp(answer);
    };
    const answerAgentOffer = (body: Uint8Array): string => {
      const o = parseSdp(new TextDecoder().decode(body));
      const { answer, negotiated: n } = createAnswer(o, {
        address: this.#address, port: relay.agent.pair.rtpPort, rtcpPort: relay.agent.pair.rtcpPort,
        srtp: srtpMode === 'sdes' ? 'required' : srtpMode === 'optional' ? 'optional' : 'off',
        origin: { sessionId: agentOrigin0.sessionId, sessionVersion: String(agentVersion + 1) },
      });
      const srtp = keepInboundIfSameKey(srtpFor(n), relay.agent.media?.srtp, agentKey, n.offerer.crypto);
      relay.configure(relay.caller.media ?? callerLeg, legFromOfferer(n, srtp));
      agentKey = n.offerer.crypto;
      agentVersion++;
      return serializeSdp(answer);
    };
    callerDialog.onReinvite = (re) => answerReinvite(re, answerCallerOffer);
    agentDialog.onReinvite = (re) => answerReinvite(re, answerAgentOffer);
    // In-dialog requests from the caller. INFO DTMF (RFC 6086 with application/dtmf-relay or application/dtmf): in
    // secure mode the key goes to the secure sink only and the INFO is NOT forwarded; otherwise INFO is relayed to
    // the agent.
    callerDialog.onRequest = (tx, req) => inDialogRequest(tx, req, callerDialog, answerCallerOffer, (type, body) => {
      if (relay.secure && isDtmfInfoType(type)) {
        const digit = parseInfoDtmf(type, body);
        if (digit !== null) this.#secureDigit(call, digit, 'sip-info');
        return;
      }
      if (agentDialog.state === DialogState.Confirmed) agentDialog.info(body, type ?? 'application/octet-stream').catch(() => undefined);
    });
    // In-dialog requests from the agent: UPDATE answered for that leg; INFO DTMF goes to the relay's trigger matcher
    // when triggers are armed (never forwarded while it may be a trigger), any other INFO is relayed to the caller.
    agentDialog.onRequest = (tx, req) => inDialogRequest(tx, req, agentDialog, answerAgentOffer, (type, body) => {
      if (isDtmfInfoType(type)) {
        const digit = parseInfoDtmf(type, body);
        if (digit !== null && relay.agentInfoKey(digit, body, type ?? 'application/dtmf-relay')) return;
      }
      if (callerDialog.state === DialogState.Confirmed) callerDialog.info(body, type ?? 'application/octet-stream').catch(() => undefined);
    });
    agentDialog.onTerminated = (reason) => void live.end(`agent-${reason}`);
  }

  /** The agent completed a trigger sequence: secure mode on/off through the Call (span source 'trigger'). */
  #trigger(call: Call, which: 'start' | 'end'): void {
    if (call.state !== CallState.Answered || !call.control) return; // media before answer: nothing to switch yet
    call.setSecure(which === 'start', 'trigger');
  }

  #secureDigit(call: Call, digit: DtmfDigit, source: SecureDigitSource): void {
    try {
      this.#o.onSecureDigit?.(call, digit, source);
    } catch {
      // a sink error never breaks the call, and its message (which might hold the digit) goes nowhere
    }
  }

  /** Relay counters summed over every call since start (live calls and ended ones): packets in/out per direction. */
  mediaStats(): MediaRelayStats {
    const total = addRelayStats(emptyRelayStats(), this.#endedMedia);
    for (const c of this.#live) addRelayStats(total, c.relay.stats);
    return total;
  }

  readonly #endedMedia = emptyRelayStats();

  /** Internal: an ended call leaves the live set. */
  forget(c: ActiveCall): void {
    if (this.#live.delete(c)) addRelayStats(this.#endedMedia, c.relay.stats);
    this.registry.remove(c.call.id);
    try {
      this.#o.onCallEnded?.(c.call);
    } catch {
      // a listener error never breaks teardown (house style 5)
    }
  }
}

/** One anchored call: both legs and the relay. Internal to the B2BUA. */
class ActiveCall {
  readonly call: Call;
  readonly relay: MediaRelay;
  readonly #b2bua: B2bua;
  readonly #invite: IncomingInvite;
  /** The masking policy read when this call was set up (kept for its whole life). */
  readonly policy: MaskingPolicy;
  agentInvite: OutgoingInvite | undefined;
  agentDialog: Dialog | undefined;
  callerDialog: Dialog | undefined;
  #ended: Promise<void> | null = null;

  constructor(b2bua: B2bua, call: Call, relay: MediaRelay, invite: IncomingInvite, policy: MaskingPolicy) {
    this.#b2bua = b2bua;
    this.policy = policy;
    this.call = call;
    this.relay = relay;
    this.#invite = invite;
  }

  get secure(): boolean {
    return this.relay.secure;
  }

  /** Secure by default (policy): secure mode stays on for the whole call. */
  get pinnedSecure(): boolean {
    return this.policy.secureByDefault;
  }

  setSecure(on: boolean): void {
    this.relay.setSecure(on);
  }

  hangup(): Promise<void> {
    return this.end('hangup');
  }

  /** Ends both legs (BYE to whichever dialog is still up) and frees the ports; idempotent. */
  end(reason: string): Promise<void> {
    if (this.#ended) return this.#ended;
    // Set before any work: sending a BYE terminates that dialog synchronously, whose onTerminated calls end() again.
    let done!: () => void;
    this.#ended = new Promise<void>((resolve) => { done = resolve; });
    this.#end(reason).then(done, done); // teardown is best effort: a failure must not leave end() pending
    return this.#ended;
  }

  async #end(reason: string): Promise<void> {
    if (this.call.state !== CallState.Ended) {
      this.call.endReason = reason;
      this.call.transition(CallState.Ended);
    }
    if (!this.#invite.tx.finalSent) this.#invite.reject(reason === 'hangup' ? 503 : 500);
    this.agentInvite?.cancel();
    const byes: Promise<unknown>[] = [];
    for (const d of [this.callerDialog, this.agentDialog]) {
      if (d && d.state !== DialogState.Terminated) byes.push(d.bye().catch(() => undefined));
    }
    // The call leaves the registry once its ports are free; the BYE transactions may take up to Timer F longer.
    await this.relay.close();
    this.#b2bua.forget(this);
    await Promise.all(byes);
  }
}
