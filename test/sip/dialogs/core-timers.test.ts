/**
 * UA-core timing against a hand-driven UDP peer (RFC 3261 §13.2.2.4, §13.3.1.4, §14, §12.2.2): the 2xx is
 * retransmitted until the ACK and the session is ended with BYE when no ACK ever comes; the UAC re-sends its ACK for
 * every 2xx copy; a second fork's 2xx is ACKed and BYEd; glare gets 491; out-of-order CSeq gets 500; a BYE on the
 * early dialog cancels the INVITE with 487.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { UserAgentCore } from '../../../src/sip/dialogs/index.ts';
import { createResponse, type SipRequest } from '../../../src/sip/messages/index.ts';
import { SipStack } from '../../../src/sip/transactions/index.ts';
import { UdpTransport } from '../../../src/sip/transport/index.ts';
import { delay } from '../support/messages.ts';
import { UdpPeer } from '../support/udp-peer.ts';

const T1 = 20;
const timers = { T1, T2: 4 * T1, T4: 5 * T1, tryingDelay: 0 };
const stacks: SipStack[] = [];
const peers: UdpPeer[] = [];
after(async () => {
  for (const p of peers) p.close();
  await Promise.all(stacks.map((s) => s.close()));
});

async function setup() {
  const stack = new SipStack({ transports: [new UdpTransport()], timers });
  await stack.start();
  stacks.push(stack);
  const ua = new UserAgentCore({ stack });
  const peer = await UdpPeer.open();
  peers.push(peer);
  return { ua, stack, port: stack.layer.transports[0]!.local.port, peer };
}

/** An INVITE (or in-dialog request) written by the peer. */
function peerRequest(peerPort: number, o: { method: string; branch: string; callId: string; cseq: number; toTag?: string; fromTag?: string; uri?: string }): string {
  return `${o.method} ${o.uri ?? 'sip:agent@127.0.0.1'} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK${o.branch};rport\r\n`
    + `Max-Forwards: 70\r\nFrom: <sip:peer@example.com>;tag=${o.fromTag ?? 'peer1'}\r\nTo: <sip:agent@example.com>${o.toTag ? `;tag=${o.toTag}` : ''}\r\n`
    + `Call-ID: ${o.callId}\r\nCSeq: ${o.cseq} ${o.method}\r\nContact: <sip:peer@127.0.0.1:${peerPort}>\r\nContent-Length: 0\r\n\r\n`;
}

describe('UAS core (§13.3.1.4)', () => {
  it('retransmits the 2xx no sooner than T1, 2T1 … (intervals capped at T2) until the ACK arrives, then stops', async () => {
    const { ua, port, peer } = await setup();
    ua.onInvite = (inv) => { inv.accept(); };
    const sentAt = peer.now();
    await peer.send(peerRequest(peer.port, { method: 'INVITE', branch: 'r1', callId: 'ret-1', cseq: 1 }), port);
    await peer.until(() => peer.responses(200).length >= 5);
    // Copy k leaves no earlier than T1·(1 + 2 + …) with each interval capped at T2: 0, T1, 3T1, 7T1, 11T1. Measured
    // from our INVITE, not between arrivals — a loaded machine can delay one arrival and not the next, which makes
    // an arrival gap look short; a timer never fires early (1 ms clock slack).
    const t = peer.responses(200).map((r) => r.at - sentAt);
    const earliest = [0, T1, 3 * T1, 7 * T1, 11 * T1];
    assert.ok(t.every((x, k) => k >= earliest.length || x >= earliest[k]! - 1), `copies at ${t.join(',')} ms`);
    const toTag = peer.responses(200)[0]!.message.toTag()!;
    await peer.send(peerRequest(peer.port, { method: 'ACK', branch: 'ack1', callId: 'ret-1', cseq: 1, toTag }), port);
    await delay(2 * T1);
    const n = peer.responses(200).length;
    await delay(8 * T1);
    assert.equal(peer.responses(200).length, n, 'retransmission stops with the ACK');
    assert.equal(ua.dialogs.length, 1);
  });

  it('no ACK within 64*T1: the session is ended with BYE', async () => {
    const { ua, port, peer } = await setup();
    let failed = false;
    ua.onInvite = (inv) => {
      inv.accept();
      inv.acked.catch(() => { failed = true; });
    };
    await peer.send(peerRequest(peer.port, { method: 'INVITE', branch: 'n1', callId: 'noack-1', cseq: 1 }), port);
    await peer.until(() => peer.requests('BYE').length >= 1, 64 * T1 + 2000);
    assert.ok(failed);
    assert.ok(peer.responses(200).length >= 8);
    const bye = peer.requests('BYE')[0]!.message as SipRequest;
    assert.equal(bye.callId(), 'noack-1');
    assert.equal(bye.toTag(), 'peer1');
    assert.equal(bye.uri.kind === 'sip' && bye.uri.port, peer.port, 'BYE goes to the remote target (Contact)');
    await peer.send(createResponse(bye, 200), port);
    await delay(2 * T1);
    assert.equal(ua.dialogs.length, 0);
  });

  it('glare: a re-INVITE while ours is pending gets 491; a lower CSeq gets 500; BYE on the early dialog → 487', async () => {
    const { ua, port, peer } = await setup();
    const dialogs: Array<import('../../../src/sip/dialogs/index.ts').Dialog> = [];
    ua.onInvite = (inv) => { dialogs.push(inv.accept()); };
    await peer.send(peerRequest(peer.port, { method: 'INVITE', branch: 'g1', callId: 'glare-1', cseq: 5 }), port);
    await peer.until(() => peer.responses(200).length >= 1);
    const toTag = peer.responses(200)[0]!.message.toTag()!;
    await peer.send(peerRequest(peer.port, { method: 'ACK', branch: 'g1a', callId: 'glare-1', cseq: 5, toTag }), port);
    await delay(2 * T1);
    const d = dialogs[0]!;
    const ours = d.reinvite({ body: 'v=0\r\n' }); // the peer never answers it
    await peer.until(() => peer.requests('INVITE').length >= 1);
    await peer.send(peerRequest(peer.port, { method: 'INVITE', branch: 'g2', callId: 'glare-1', cseq: 6, toTag }), port);
    await peer.until(() => peer.responses(491).length >= 1);
    await peer.send(peerRequest(peer.port, { method: 'INFO', branch: 'g3', callId: 'glare-1', cseq: 2, toTag }), port);
    await peer.until(() => peer.responses(500).length >= 1);
    assert.equal(peer.responses(500)[0]!.message.headers.get('Retry-After'), '1');
    const ourInvite = peer.requests('INVITE')[0]!.message as SipRequest;
    await peer.send(createResponse(ourInvite, 200, { toTag: 'peer1', headers: [['Contact', `<sip:peer@127.0.0.1:${peer.port}>`]] }), port);
    assert.equal((await ours).status, 200);
    await peer.until(() => peer.requests('ACK').length >= 1);

    // A new call: the caller BYEs while it is still ringing (early dialog) → 200 to BYE and 487 to the INVITE
    ua.onInvite = (inv) => { inv.progress(180); };
    await peer.send(peerRequest(peer.port, { method: 'INVITE', branch: 'e1', callId: 'early-1', cseq: 1 }), port);
    await peer.until(() => peer.responses(180).length >= 1);
    const earlyTag = peer.responses(180)[0]!.message.toTag()!;
    await peer.send(peerRequest(peer.port, { method: 'BYE', branch: 'e2', callId: 'early-1', cseq: 2, toTag: earlyTag }), port);
    await peer.until(() => peer.responses(487).length >= 1);
    assert.ok(peer.responses(200).some((r) => r.message.cseq().method === 'BYE'));
  });
});

describe('UAC core (§13.2.2.4)', () => {
  it('re-sends the ACK for each 2xx copy (also after the transaction ended); a second fork is ACKed and BYEd', async () => {
    const { ua, port, peer } = await setup();
    const call = ua.invite({ uri: `sip:agent@127.0.0.1:${peer.port}`, from: '<sip:cardline@example.com>' });
    await peer.until(() => peer.requests('INVITE').length >= 1);
    const invite = peer.requests('INVITE')[0]!.message as SipRequest;
    const contact: [string, string] = ['Contact', `<sip:fork@127.0.0.1:${peer.port}>`];
    const ok1 = createResponse(invite, 200, { toTag: 'fork-a', headers: [contact] });
    await peer.send(ok1, port);
    const o = await call.outcome;
    assert.equal(o.kind === 'answered' && o.dialog.remoteTag, 'fork-a');
    await peer.until(() => peer.requests('ACK').length >= 1);
    await peer.send(ok1, port);
    await peer.until(() => peer.requests('ACK').length >= 2);
    const [ack1, ack2] = peer.requests('ACK').map((r) => r.message as SipRequest);
    assert.equal(ack1!.topVia().params.get('branch'), ack2!.topVia().params.get('branch'), 'the same ACK again');
    assert.notEqual(ack1!.topVia().params.get('branch'), invite.topVia().params.get('branch'), 'an ACK for 2xx is a new transaction');
    assert.deepEqual(ack1!.cseq(), { seq: invite.cseq().seq, method: 'ACK' });
    // another branch answers too (within Timer M)
    await peer.send(createResponse(invite, 200, { toTag: 'fork-b', headers: [contact] }), port);
    await peer.until(() => peer.requests('BYE').length >= 1);
    const bye = peer.requests('BYE')[0]!.message as SipRequest;
    assert.equal(bye.toTag(), 'fork-b');
    assert.ok(peer.requests('ACK').some((r) => r.message.toTag() === 'fork-b'));
    assert.equal(ua.dialogs.filter((d) => d.remoteTag === 'fork-a').length, 1, 'the first dialog lives on');
    await delay(64 * T1 + 100); // the INVITE transaction is gone (Timer M): the copy arrives as a stray response
    const acks = peer.requests('ACK').filter((r) => r.message.toTag() === 'fork-a').length;
    await peer.send(ok1, port);
    await peer.until(() => peer.requests('ACK').filter((r) => r.message.toTag() === 'fork-a').length > acks);
  });
});
