/**
 * Dialogs and the user agent core between two stacks on 127.0.0.1 (UDP, real timers, short T1): call set-up with
 * early dialogs, in-dialog INFO/UPDATE/re-INVITE/BYE, CANCEL, no-answer, digest challenges, out-of-order CSeq,
 * 481 after the dialog ends.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DigestServer } from '../../../src/sip/auth/index.ts';
import {
  DialogState, isLocalResponse, UserAgentCore, type Dialog, type IncomingInvite,
} from '../../../src/sip/dialogs/index.ts';
import { SipStack } from '../../../src/sip/transactions/index.ts';
import { TcpTransport, UdpTransport } from '../../../src/sip/transport/index.ts';
import { dec, delay } from '../support/messages.ts';

const T1 = 20;
const timers = { T1, T2: 8 * T1, T4: 10 * T1, tryingDelay: 0 };
const cores: Array<{ ua: UserAgentCore; stack: SipStack }> = [];
after(async () => {
  for (const c of cores) c.ua.close();
  await Promise.all(cores.map((c) => c.stack.close()));
});

async function core(opts: { credentials?: Array<{ username: string; password: string; realm?: string }>; tcp?: boolean } = {}) {
  const stack = new SipStack({ transports: [opts.tcp ? new TcpTransport() : new UdpTransport()], timers });
  await stack.start();
  const ua = new UserAgentCore({ stack, userAgent: 'cardline-test', ...(opts.credentials ? { credentials: opts.credentials } : {}) });
  cores.push({ ua, stack });
  return { ua, stack, port: stack.layer.transports[0]!.local.port };
}

const SDP_A = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n';
const SDP_B = SDP_A.replace('4000', '5000');

function nextInvite(ua: UserAgentCore): Promise<IncomingInvite> {
  return new Promise((resolve) => {
    ua.onInvite = (inv) => resolve(inv);
  });
}

describe('user agent core: a call between two stacks', () => {
  it('INVITE → 180 (early dialog) → 200 → ACK; INFO, UPDATE, re-INVITE, BYE in the dialog; 481 afterwards', async () => {
    const a = await core();
    const b = await core();
    const incoming = nextInvite(b.ua);
    const progress: number[] = [];
    const call = a.ua.invite({ uri: `sip:agent@127.0.0.1:${b.port}`, from: '"Caller" <sip:caller@example.com>', body: SDP_A });
    call.onProgress = (r, d) => progress.push(r.status * (d?.state === DialogState.Early ? -1 : 1));
    const inv = await incoming;
    assert.equal(dec(inv.request.body), SDP_A);
    assert.equal(inv.request.headers.get('User-Agent'), 'cardline-test');
    const early = inv.progress(180);
    assert.equal(early?.state, DialogState.Early);
    await delay(5 * T1);
    const bDialog = inv.accept({ body: SDP_B });
    const outcome = await call.outcome;
    assert.equal(outcome.kind, 'answered');
    if (outcome.kind !== 'answered') return;
    const aDialog = outcome.dialog;
    // (a loaded machine may retransmit the INVITE at T1 = 20 ms, and each copy gets the last provisional again)
    assert.deepEqual([...new Set(progress)], [100, -180]);
    assert.equal(bDialog, early, 'the early dialog is the one confirmed');
    assert.equal(dec(outcome.response.body), SDP_B);
    assert.equal((await inv.acked).method, 'ACK');
    assert.equal(aDialog.state, DialogState.Confirmed);
    assert.equal(bDialog.state, DialogState.Confirmed);
    assert.equal(aDialog.callId, bDialog.callId);
    assert.equal(aDialog.localTag, bDialog.remoteTag);
    assert.equal(aDialog.remoteTag, bDialog.localTag);
    assert.equal(a.ua.dialogs.length, 1);

    // INFO with a DTMF relay body (RFC 6086), answered by the application
    const infos: string[] = [];
    bDialog.onRequest = (tx, req) => {
      infos.push(`${req.method}:${dec(req.body)}`);
      tx.reply(200);
    };
    const seq0 = aDialog.localSeq!;
    const infoRes = await aDialog.info('Signal=5\r\nDuration=160\r\n', 'application/dtmf-relay');
    assert.equal(infoRes.status, 200);
    assert.deepEqual(infos, ['INFO:Signal=5\r\nDuration=160\r\n']);
    assert.equal(aDialog.localSeq, seq0 + 1);

    // UPDATE from the callee side (RFC 3311) with the default handler on A: an offer cannot be answered (488); a
    // session refresh without a body is accepted with A's Contact (§5.2)
    const upd = await bDialog.update({ body: SDP_B });
    assert.equal(upd.status, 488);
    const refresh = await bDialog.update();
    assert.equal(refresh.status, 200);
    assert.equal(refresh.contacts().length, 1);

    // re-INVITE from A: B answers with a new SDP, the ACK arrives at B
    const reinvites: IncomingInvite[] = [];
    bDialog.onReinvite = (ri) => {
      reinvites.push(ri);
      ri.accept({ body: SDP_B.replace('5000', '5002') });
    };
    const re = await aDialog.reinvite({ body: SDP_A.replace('4000', '4002') });
    assert.equal(re.status, 200);
    assert.match(dec(re.body), /m=audio 5002/);
    assert.equal((await reinvites[0]!.acked).method, 'ACK');
    assert.equal(reinvites[0]!.dialog, bDialog);

    // BYE from the callee (after its ACK), then the dialog is gone on both sides
    const ended = new Promise<string>((r) => { aDialog.onTerminated = r; });
    const bye = await bDialog.bye();
    assert.equal(bye.status, 200);
    assert.equal(await ended, 'bye-received');
    assert.equal(bDialog.endReason, 'bye-sent');
    assert.equal(a.ua.dialogs.length, 0);
    assert.equal(b.ua.dialogs.length, 0);
    await assert.rejects(aDialog.info('x', 'text/plain'), { code: 'sip-state' });
  });

  it('486 ends the early dialog; the outcome carries the response', async () => {
    const a = await core();
    const b = await core();
    b.ua.onInvite = (inv) => {
      inv.progress(183, { body: SDP_B });
      setTimeout(() => inv.reject(486), 3 * T1);
    };
    let early: Dialog | undefined;
    const call = a.ua.invite({ uri: `sip:agent@127.0.0.1:${b.port}`, from: '<sip:caller@example.com>', body: SDP_A });
    call.onProgress = (_r, d) => { early = d ?? early; };
    const o = await call.outcome;
    assert.equal(o.kind, 'failed');
    assert.equal(o.response.status, 486);
    assert.equal(early?.state, DialogState.Terminated);
    assert.equal(early?.endReason, 'rejected');
    assert.equal(a.ua.dialogs.length + b.ua.dialogs.length, 0);
  });

  it('CANCEL before answer: the callee hears onCancel, the caller gets 487; no-answer timeout cancels by itself', async () => {
    const a = await core();
    const b = await core();
    const cancelledOnB: string[] = [];
    b.ua.onInvite = (inv) => {
      inv.onCancel = (c) => cancelledOnB.push(c.method);
      inv.progress(180);
    };
    const call = a.ua.invite({ uri: `sip:agent@127.0.0.1:${b.port}`, from: '<sip:caller@example.com>' });
    await new Promise<void>((r) => { call.onProgress = (res) => { if (res.status === 180) r(); }; });
    call.cancel();
    const o = await call.outcome;
    assert.deepEqual([o.kind, o.response.status, o.kind === 'failed' && o.cancelled], ['failed', 487, true]);
    assert.deepEqual(cancelledOnB, ['CANCEL']);
    await delay(2 * T1);
    assert.equal(b.ua.dialogs.length, 0, 'the early dialog ended with the 487');

    const ring = a.ua.invite({ uri: `sip:agent@127.0.0.1:${b.port}`, from: '<sip:caller@example.com>', noAnswerTimeoutMs: 10 * T1 });
    const o2 = await ring.outcome;
    assert.equal(o2.response.status, 487);
    assert.ok(o2.kind === 'failed' && o2.cancelled);
  });

  it('an INVITE to nobody fails with a local 408 after Timer B; an unknown dialog gets 481', async () => {
    const a = await core();
    const silent = await core();
    silent.stack.layer.transports[0]!.setHandler({ packet: () => undefined, error: () => undefined }); // drops everything
    const call = a.ua.invite({ uri: `sip:x@127.0.0.1:${silent.port}`, from: '<sip:caller@example.com>' });
    const o = await call.outcome;
    assert.equal(o.response.status, 408);
    assert.ok(isLocalResponse(o.response));

    const b = await core();
    const res = await a.ua.request({ method: 'BYE', uri: `sip:x@127.0.0.1:${b.port}`, from: '<sip:caller@example.com>', to: '<sip:x@example.com>;tag=nosuch' });
    assert.equal(res.status, 481);
    const opt = await a.ua.request({ method: 'OPTIONS', uri: `sip:x@127.0.0.1:${b.port}`, from: '<sip:caller@example.com>' });
    assert.equal(opt.status, 200);
    assert.match(opt.headers.getAll('Allow').join(','), /INVITE.*BYE/);
  });

  it('digest: INVITE challenged with 401 is retried with credentials and answered; OPTIONS challenged with 407 too', async () => {
    const server = new DigestServer({ realm: 'pbx.example', password: (u) => (u === 'cardline' ? 'pw-123' : undefined) });
    const a = await core({ credentials: [{ realm: 'pbx.example', username: 'cardline', password: 'pw-123' }] });
    const b = await core();
    const seen: string[] = [];
    b.ua.onInvite = (inv) => {
      const creds = inv.request.authHeaders('Authorization')[0];
      seen.push(creds ? 'with-credentials' : 'without');
      if (!creds) return inv.reject(401, { headers: server.challenges().map((c) => ['WWW-Authenticate', c] as [string, string]) });
      if (!server.verify(inv.request, creds).ok) return inv.reject(403);
      inv.accept({ body: SDP_B });
    };
    b.ua.onRequest = (tx, req) => {
      const creds = req.authHeaders('Proxy-Authorization')[0];
      if (!creds) return void tx.reply(407, { headers: server.challenges().map((c) => ['Proxy-Authenticate', c] as [string, string]) });
      tx.reply(server.verify(req, creds).ok ? 200 : 403);
    };
    const call = a.ua.invite({ uri: `sip:agent@127.0.0.1:${b.port}`, from: '<sip:caller@example.com>', body: SDP_A });
    const o = await call.outcome;
    assert.equal(o.kind, 'answered');
    assert.deepEqual(seen, ['without', 'with-credentials']);
    assert.ok(call.request.headers.has('Authorization'), 'the INVITE as last sent carries credentials');
    const opt = await a.ua.request({ method: 'OPTIONS', uri: `sip:agent@127.0.0.1:${b.port}`, from: '<sip:caller@example.com>' });
    assert.equal(opt.status, 200);
    if (o.kind === 'answered') await o.dialog.bye();
  });

  it('without matching credentials the 401 is final', async () => {
    const a = await core({ credentials: [{ realm: 'elsewhere', username: 'u', password: 'p' }] });
    const b = await core();
    b.ua.onInvite = (inv) => inv.reject(401, { headers: [['WWW-Authenticate', 'Digest realm="pbx.example", nonce="abc", qop="auth"']] });
    const o = await a.ua.invite({ uri: `sip:agent@127.0.0.1:${b.port}`, from: '<sip:caller@example.com>' }).outcome;
    assert.equal(o.response.status, 401);
  });

  it('over TCP too', async () => {
    const a = await core({ tcp: true });
    const b = await core({ tcp: true });
    b.ua.onInvite = (inv) => { inv.accept({ body: SDP_B }); };
    const o = await a.ua.invite({ uri: `sip:agent@127.0.0.1:${b.port};transport=tcp`, from: '<sip:caller@example.com>', body: SDP_A }).outcome;
    assert.equal(o.kind, 'answered');
    if (o.kind !== 'answered') return;
    assert.match(o.dialog.localTarget.params.get('transport') ?? '', /tcp/);
    assert.equal((await o.dialog.bye()).status, 200);
  });
});
