/**
 * The B2BUA between three SIP stacks on 127.0.0.1 (UDP, real timers, short T1): a caller UA → Cardline → an agent
 * UA. Media flows over real RTP sockets through the call's relay.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { alawDecode, alawEncode, detectDtmf, type DtmfDigit, generateSequence, ulawDecode, ulawEncode } from '../../src/dsp/index.ts';
import { whiteNoise } from '../support/audio.ts';
import { B2bua, mapFailure } from '../../src/gateway/b2bua.ts';
import { CallState, type Call } from '../../src/gateway/call-registry.ts';
import { describeMedia, parseRtp, parseSdp, RtpPortAllocator, serializeRtp } from '../../src/media/index.ts';
import { DialogState, type IncomingInvite, UserAgentCore } from '../../src/sip/dialogs/index.ts';
import { SipStack } from '../../src/sip/transactions/index.ts';
import { UdpTransport } from '../../src/sip/transport/index.ts';

const HOST = '127.0.0.1';
const T1 = 20;
const timers = { T1, T2: 8 * T1, T4: 10 * T1, tryingDelay: 0 };
const cores: Array<{ ua: UserAgentCore; stack: SipStack }> = [];
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function core() {
  const stack = new SipStack({ transports: [new UdpTransport()], timers });
  await stack.start();
  const ua = new UserAgentCore({ stack, userAgent: 'cardline-test' });
  cores.push({ ua, stack });
  return { ua, stack, port: stack.layer.transports[0]!.local.port };
}

function bindRtp(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, HOST, () => resolve(s));
  });
}

function sdp(port: number, formats = '0 9 101'): string {
  return `v=0\r\no=- 1 1 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${port} RTP/AVP ${formats}\r\n`
    + 'a=rtpmap:0 PCMU/8000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n';
}

function nextInvite(ua: UserAgentCore): Promise<IncomingInvite> {
  return new Promise((resolve) => {
    ua.onInvite = (inv) => resolve(inv);
  });
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await delay(10);
  }
}

const base = 42000 + (process.pid % 100) * 20;
const allocator = new RtpPortAllocator({ address: HOST, minPort: base, maxPort: base + 19 });
const sockets: dgram.Socket[] = [];

after(async () => {
  for (const c of cores) c.ua.close();
  await Promise.all(cores.map((c) => c.stack.close()));
  await allocator.close();
  for (const s of sockets) s.close();
});

async function world() {
  const caller = await core();
  const cardline = await core();
  const agent = await core();
  const digits: Array<{ call: string; digit: DtmfDigit }> = [];
  const ended: Call[] = [];
  const b2bua = new B2bua({
    ua: cardline.ua, allocator,
    routes: [
      { requestUri: /^sip:nobody@/, target: 'sip:x@192.0.2.1' , headers: [{ name: 'X-Never', pattern: /./ }] },
      { requestUri: /^sip:pay@/, target: `sip:agent@${HOST}:${agent.port}` },
    ],
    onSecureDigit: (call, digit) => digits.push({ call: call.id, digit }),
    onCallEnded: (c) => ended.push(c),
  });
  const callerRtp = await bindRtp();
  const agentRtp = await bindRtp();
  sockets.push(callerRtp, agentRtp);
  return { caller, cardline, agent, b2bua, digits, ended, callerRtp, agentRtp };
}

describe('B2BUA: caller → Cardline → agent', () => {
  it('routes, anchors media, masks DTMF in secure mode, and BYE from the caller ends both legs', async () => {
    const w = await world();
    const inUse = allocator.inUse;
    const incoming = nextInvite(w.agent.ua);
    const call = w.caller.ua.invite({ uri: `sip:pay@${HOST}:${w.cardline.port}`, from: '"Alice" <sip:alice@example.com>', body: sdp(w.callerRtp.address().port) });
    const progress: number[] = [];
    call.onProgress = (r) => progress.push(r.status);
    const inv = await incoming;
    // the agent sees Cardline's media, and no codec Cardline cannot mask
    const offer = describeMedia(parseSdp(dec(inv.request.body)), 0);
    assert.equal(offer.connection?.address, HOST);
    assert.ok(offer.port >= base && offer.port < base + 20, 'agent-side port from the allocator');
    assert.deepEqual(offer.codecs.map((c) => c.name).sort(), ['PCMU', 'telephone-event']);
    assert.equal(w.b2bua.registry.list()[0]?.state, CallState.Routing);
    inv.progress(180);
    await waitFor(() => progress.includes(180));
    assert.equal(w.b2bua.registry.list()[0]?.state, CallState.Ringing);
    const agentDialog = inv.accept({ body: sdp(w.agentRtp.address().port, '0 101') });
    const outcome = await call.outcome;
    assert.equal(outcome.kind, 'answered');
    if (outcome.kind !== 'answered') return;
    const callerDialog = outcome.dialog;
    const answer = describeMedia(parseSdp(dec(outcome.response.body)), 0);
    assert.ok(answer.port >= base && answer.port < base + 20 && answer.port !== offer.port);
    assert.equal(answer.codecs[0]?.name, 'PCMU');
    assert.equal(allocator.inUse, inUse + 2);

    const [view] = w.b2bua.registry.list();
    assert.ok(view);
    assert.equal(view.state, CallState.Answered);
    assert.equal(view.caller, 'sip:alice@example.com');
    assert.equal(view.agent, `sip:agent@${HOST}:${w.agent.port}`);
    assert.equal(view.secure, false);
    assert.equal(w.b2bua.registry.setSecure(view.id, true).secure, true);

    // caller audio with card digits → agent hears none; the call's sink gets them
    const heard: Buffer[] = [];
    w.agentRtp.on('message', (m) => heard.push(m));
    const { samples } = generateSequence('4242', { onMs: 80, offMs: 80 });
    for (let i = 0; i * 160 < samples.length; i++) {
      const pkt = serializeRtp({
        marker: i === 0, payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 42, csrcs: [], extension: null,
        payload: ulawEncode(samples.subarray(i * 160, (i + 1) * 160)), paddingLength: 0,
      });
      w.callerRtp.send(pkt, answer.port, HOST);
      if (i % 10 === 9) await delay(2);
    }
    await waitFor(() => w.digits.length >= 4);
    await waitFor(() => heard.length >= Math.ceil(samples.length / 160) - 3);
    const pkts = heard.map((m) => parseRtp(m, { copy: true })).sort((a, b) => (((a.sequenceNumber - b.sequenceNumber) << 16) >> 16));
    const audio = new Int16Array(pkts.length * 160);
    pkts.forEach((p, k) => audio.set(ulawDecode(p.payload), k * 160));
    assert.deepEqual(detectDtmf(audio), []);
    assert.equal(w.digits.map((d) => d.digit).join(''), '4242');
    assert.ok(w.digits.every((d) => d.call === view.id));

    // agent → caller passes through
    const back: Buffer[] = [];
    w.callerRtp.on('message', (m) => back.push(m));
    w.agentRtp.send(serializeRtp({
      marker: true, payloadType: 0, sequenceNumber: 9, timestamp: 0, ssrc: 7, csrcs: [], extension: null, payload: new Uint8Array(160).fill(0x55), paddingLength: 0,
    }), offer.port, HOST);
    await waitFor(() => back.length === 1);
    assert.deepEqual([...parseRtp(back[0] as Buffer).payload], new Array(160).fill(0x55));

    // SIP INFO DTMF: in secure mode the key goes to the sink and the agent never sees the INFO; off, it is relayed
    const agentInfos: string[] = [];
    agentDialog.onRequest = (tx, req) => {
      agentInfos.push(`${req.method} ${dec(req.body)}`);
      tx.reply(200);
    };
    assert.equal((await callerDialog.info('Signal=9\r\nDuration=160\r\n', 'application/dtmf-relay')).status, 200);
    assert.equal((await callerDialog.info('7', 'application/dtmf')).status, 200);
    assert.equal(w.digits.map((d) => d.digit).join(''), '424297');
    w.b2bua.registry.setSecure(view.id, false);
    assert.equal(w.b2bua.registry.list()[0]?.secure, false);
    assert.equal((await callerDialog.info('Signal=1\r\n', 'application/dtmf-relay')).status, 200);
    await waitFor(() => agentInfos.length === 1);
    assert.deepEqual(agentInfos, ['INFO Signal=1\r\n']);
    assert.equal(w.digits.length, 6);

    const terminated = new Promise<string>((resolve) => { agentDialog.onTerminated = (r) => resolve(r); });
    await callerDialog.bye();
    assert.equal(await terminated, 'bye-received');
    await waitFor(() => w.ended.length === 1);
    await delay(50);
    assert.equal(w.ended.length, 1, 'the call ends once (sending the BYE re-enters end())');
    assert.equal(w.ended[0]?.endReason, 'caller-bye-received');
    assert.equal(w.b2bua.registry.size, 0);
    assert.equal(allocator.inUse, inUse);
  });

  it('re-INVITE and UPDATE from either leg are answered for that leg (codec change transcoded); BYE from the agent ends the caller leg', async () => {
    const w = await world();
    const incoming = nextInvite(w.agent.ua);
    const call = w.caller.ua.invite({ uri: `sip:pay@${HOST}:${w.cardline.port}`, from: '<sip:bob@example.com>', body: sdp(w.callerRtp.address().port) });
    const inv = await incoming;
    const agentDialog = inv.accept({ body: sdp(w.agentRtp.address().port, '0') });
    const outcome = await call.outcome;
    assert.equal(outcome.kind, 'answered');
    if (outcome.kind !== 'answered') return;
    await inv.acked;
    // re-INVITE from the caller switching to PCMA: Cardline answers for that leg; the agent keeps PCMU (transcoded)
    const pcmaOffer = `v=0\r\no=- 1 2 IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${w.callerRtp.address().port} RTP/AVP 8\r\na=sendrecv\r\n`;
    const re = await outcome.dialog.reinvite({ body: pcmaOffer, contentType: 'application/sdp' });
    assert.equal(re.status, 200);
    const reAnswer = parseSdp(dec(re.body));
    const reMedia = describeMedia(reAnswer, 0);
    assert.deepEqual(reMedia.codecs.map((c) => c.name), ['PCMA']);
    assert.equal(reAnswer.origin.sessionVersion, '2', 'RFC 3264 §8: the version goes up');
    const heard: Buffer[] = [];
    w.agentRtp.on('message', (m) => heard.push(m));
    const tone = whiteNoise(160, 3000, 1);
    w.callerRtp.send(serializeRtp({ marker: true, payloadType: 8, sequenceNumber: 1, timestamp: 0, ssrc: 5, csrcs: [], extension: null, payload: alawEncode(tone), paddingLength: 0 }), reMedia.port, HOST);
    await waitFor(() => heard.length === 1);
    const got = parseRtp(heard[0] as Buffer);
    assert.equal(got.payloadType, 0, 'the agent leg still gets PCMU');
    const decoded = ulawDecode(got.payload);
    const expected = alawDecode(alawEncode(tone));
    assert.ok(decoded.every((v, i) => Math.abs(v - (expected[i] as number)) <= Math.abs(expected[i] as number) / 8 + 64), 'transcoded A-law → µ-law');
    // re-INVITE from the agent (e.g. hold): answered by Cardline on the agent leg
    const agentRe = await agentDialog.reinvite({ body: sdp(w.agentRtp.address().port, '0').replace('a=sendrecv', 'a=sendonly'), contentType: 'application/sdp' });
    assert.equal(agentRe.status, 200);
    assert.match(dec(agentRe.body), /a=recvonly/);
    // UPDATE (RFC 3311) from either leg: without a body (an RFC 4028 session refresh) 200 with Contact and no SDP; with
    // an offer, answered for that leg like a re-INVITE (the version goes up again)
    const refresh = await outcome.dialog.update();
    assert.equal(refresh.status, 200);
    assert.equal(refresh.body.length, 0);
    assert.equal(refresh.contacts().length, 1);
    assert.equal((await agentDialog.update()).status, 200);
    const upd = await outcome.dialog.update({ body: pcmaOffer.replace('a=sendrecv', 'a=sendonly'), contentType: 'application/sdp' });
    assert.equal(upd.status, 200);
    const updAnswer = parseSdp(dec(upd.body));
    assert.equal(updAnswer.origin.sessionVersion, '3');
    assert.match(dec(upd.body), /a=recvonly/);
    const agentUpd = await agentDialog.update({ body: sdp(w.agentRtp.address().port, '0'), contentType: 'application/sdp' });
    assert.equal(agentUpd.status, 200);
    assert.match(dec(agentUpd.body), /m=audio \d+ RTP\/AVP 0/);
    assert.equal((await outcome.dialog.update({ body: 'not sdp', contentType: 'application/sdp' })).status, 488);
    const callerEnded = new Promise<string>((resolve) => { outcome.dialog.onTerminated = (r) => resolve(r); });
    await agentDialog.bye();
    assert.equal(await callerEnded, 'bye-received');
    await waitFor(() => w.ended.length === 1);
    assert.equal(w.ended[0]?.endReason, 'agent-bye-received');
    assert.equal(outcome.dialog.state, DialogState.Terminated);
  });

  it('CANCEL before answer reaches the agent; the caller gets 487; ports are freed', async () => {
    const w = await world();
    const inUse = allocator.inUse;
    const incoming = nextInvite(w.agent.ua);
    const call = w.caller.ua.invite({ uri: `sip:pay@${HOST}:${w.cardline.port}`, from: '<sip:carol@example.com>', body: sdp(w.callerRtp.address().port) });
    const inv = await incoming;
    const cancelled = new Promise<void>((resolve) => { inv.onCancel = () => resolve(); });
    inv.progress(180);
    await delay(3 * T1);
    call.cancel();
    const outcome = await call.outcome;
    assert.equal(outcome.response.status, 487);
    await cancelled;
    await waitFor(() => w.ended.length === 1);
    assert.equal(w.ended[0]?.endReason, 'cancelled');
    assert.equal(allocator.inUse, inUse);
  });

  it('no route → 404; agent busy → 486 to the caller; no maskable codec → 488', async () => {
    const w = await world();
    const noRoute = w.caller.ua.invite({ uri: `sip:other@${HOST}:${w.cardline.port}`, from: '<sip:d@example.com>', body: sdp(4000) });
    assert.equal((await noRoute.outcome).response.status, 404);
    const routeNeedsHeader = w.caller.ua.invite({ uri: `sip:nobody@${HOST}:${w.cardline.port}`, from: '<sip:d@example.com>', body: sdp(4000) });
    assert.equal((await routeNeedsHeader.outcome).response.status, 404, 'a rule with an unmatched header does not apply');
    w.agent.ua.onInvite = (inv) => inv.reject(486);
    const busy = w.caller.ua.invite({ uri: `sip:pay@${HOST}:${w.cardline.port}`, from: '<sip:d@example.com>', body: sdp(4000) });
    assert.equal((await busy.outcome).response.status, 486);
    const g722 = w.caller.ua.invite({ uri: `sip:pay@${HOST}:${w.cardline.port}`, from: '<sip:d@example.com>', body: sdp(4000, '9') });
    assert.equal((await g722.outcome).response.status, 488);
    assert.deepEqual([mapFailure(302), mapFailure(407), mapFailure(503), mapFailure(603)], [480, 403, 503, 603]);
    await waitFor(() => w.ended.length === 1); // the busy call
    assert.equal(w.b2bua.registry.size, 0);
  });
});
