/**
 * The transaction layer over real UDP on 127.0.0.1 with real timers and a short T1 (RFC 3261 §17 timing), against
 * a hand-driven peer that drops what we want dropped.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createResponse, type SipRequest } from '../../../src/sip/messages/index.ts';
import {
  InviteServerTransaction, SipStack, TransactionState, type InviteClientTransaction, type SipStackOptions,
} from '../../../src/sip/transactions/index.ts';
import { UdpTransport } from '../../../src/sip/transport/index.ts';
import { delay, rawRequest, testRequest } from '../support/messages.ts';
import { UdpPeer } from '../support/udp-peer.ts';

const T1 = 40;
const stacks: SipStack[] = [];
const peers: UdpPeer[] = [];
after(async () => {
  for (const p of peers) p.close();
  await Promise.all(stacks.map((s) => s.close()));
});

async function stack(opts: Partial<SipStackOptions> = {}): Promise<SipStack> {
  const s = new SipStack({ transports: [new UdpTransport()], timers: { T1, T2: 4 * T1, T4: 5 * T1 }, ...opts });
  stacks.push(s);
  await s.start();
  return s;
}
async function peer(): Promise<UdpPeer> {
  const p = await UdpPeer.open();
  peers.push(p);
  return p;
}
const port = (s: SipStack) => s.layer.transport('udp')!.local.port;

describe('client transactions over real UDP', () => {
  it('INVITE is retransmitted at T1, 2T1, 4T1 while responses are lost; a late 180 stops it; 200 is passed up', async () => {
    const slow = 100; // a longer T1 keeps the gaps measurable on a loaded machine
    const a = await stack({ timers: { T1: slow, T2: 4 * slow, T4: 5 * slow } });
    const p = await peer();
    const seen: number[] = [];
    const tx = await a.sendRequest(testRequest({ method: 'INVITE', uri: `sip:bob@127.0.0.1:${p.port}` }), { onResponse: (r) => seen.push(r.status) });
    await p.until(() => p.requests('INVITE').length >= 4);
    const times = p.requests('INVITE').map((r) => r.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // nominal gaps 100, 200, 400 ms; allow scheduling jitter on a busy machine
    assert.ok(gaps[0]! >= slow * 0.6 && gaps[1]! >= slow * 1.5 && gaps[2]! >= slow * 3, `gaps ${gaps.join(',')}`);
    assert.ok(gaps[1]! > gaps[0]! && gaps[2]! > gaps[1]!);
    const invite = p.requests('INVITE')[0]!.message as SipRequest;
    await p.send(createResponse(invite, 180, { toTag: 'b1' }), port(a));
    await p.until(() => seen.includes(180));
    const n = p.requests('INVITE').length;
    await delay(5 * slow);
    assert.equal(p.requests('INVITE').length, n, 'no retransmission in Proceeding');
    await p.send(createResponse(invite, 200, { toTag: 'b1' }), port(a));
    assert.equal((await tx.finalResponse).status, 200);
    assert.equal(tx.state, TransactionState.Accepted);
  });

  it('Timer B: an INVITE nobody answers times out after 64*T1 with sip-timeout', async () => {
    const a = await stack();
    const p = await peer();
    const t0 = Date.now();
    let timedOut = false;
    const tx = await a.sendRequest(testRequest({ method: 'INVITE', uri: `sip:bob@127.0.0.1:${p.port}` }), { onTimeout: () => { timedOut = true; } });
    await assert.rejects(tx.finalResponse, { code: 'sip-timeout' });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 64 * T1 - 5, `elapsed ${elapsed}`);
    assert.ok(timedOut);
    assert.ok(p.requests('INVITE').length >= 6);
    assert.equal(a.transactionCount.client, 0, 'terminated transactions are forgotten');
  });

  it('non-2xx final: the stack ACKs each retransmission of it', async () => {
    const a = await stack();
    const p = await peer();
    const tx = await a.sendRequest(testRequest({ method: 'INVITE', uri: `sip:bob@127.0.0.1:${p.port}` }));
    await p.until(() => p.requests('INVITE').length >= 1);
    const busy = createResponse(p.requests('INVITE')[0]!.message as SipRequest, 486, { toTag: 'x' });
    await p.send(busy, port(a));
    await p.send(busy, port(a));
    await p.until(() => p.requests('ACK').length >= 2);
    assert.equal((await tx.finalResponse).status, 486);
    assert.equal(p.requests('ACK')[0]!.message.toTag(), 'x');
  });
});

describe('server transactions over real UDP', () => {
  it('Timer G retransmits a 486 until the ACK arrives; then it stops', async () => {
    const b = await stack();
    b.handlers.onRequest = (tx) => tx.reply(486);
    const p = await peer();
    const inv = rawRequest({ method: 'INVITE', via: `SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKg1`, callId: 'g1' });
    await p.send(inv, port(b));
    await p.until(() => p.responses(486).length >= 3);
    const times = p.responses(486).map((r) => r.at);
    assert.ok(times[2]! - times[1]! > times[1]! - times[0]!, 'G doubles');
    await p.send(rawRequest({ method: 'ACK', via: `SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKg1`, callId: 'g1' }), port(b));
    await delay(2 * T1);
    const n = p.responses(486).length;
    await delay(10 * T1);
    assert.equal(p.responses(486).length, n, 'no retransmission once Confirmed');
  });

  it('100 Trying after 200 ms of TU silence; INVITE retransmission gets the 100 again; 487 after CANCEL', async () => {
    const b = await stack({ timers: { T1, T2: 4 * T1, T4: 5 * T1, tryingDelay: 200 } });
    let cancelled = false;
    b.handlers.onRequest = (tx) => {
      if (tx instanceof InviteServerTransaction) tx.onCancel = () => { cancelled = true; };
    };
    const p = await peer();
    const inv = rawRequest({ method: 'INVITE', via: `SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKc1`, callId: 'c1' });
    const t0 = Date.now();
    await p.send(inv, port(b));
    await p.until(() => p.responses(100).length >= 1);
    assert.ok(Date.now() - t0 >= 190, '100 Trying waited for the TU');
    await p.send(inv, port(b));
    await p.until(() => p.responses(100).length >= 2);
    await p.send(rawRequest({ method: 'CANCEL', via: `SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKc1`, callId: 'c1' }), port(b));
    await p.until(() => p.responses(487).length >= 1 && p.responses(200).length >= 1);
    assert.ok(cancelled);
    const ok = p.responses(200)[0]!.message;
    const terminated = p.responses(487)[0]!.message;
    assert.equal(ok.cseq().method, 'CANCEL');
    assert.equal(ok.toTag(), terminated.toTag(), '§9.2: same To tag on the 200 (CANCEL) and the 487');
  });

  it('stray requests: 481 for an unmatched CANCEL, 405 + Allow, 501, 420, 482, 500 when the TU throws; stray ACK to onAck', async () => {
    const acks: string[] = [];
    const b = await stack();
    b.handlers.onRequest = (tx, req) => {
      if (req.method === 'INFO') throw new Error('TU bug');
      if (req.method === 'INVITE') return; // leave it proceeding
      tx.reply(200);
    };
    b.handlers.onAck = (ack) => acks.push(ack.callId());
    const p = await peer();
    const via = (br: string) => `SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bK${br}`;
    await p.send(rawRequest({ method: 'CANCEL', via: via('none'), callId: 'x1' }), port(b));
    await p.send(rawRequest({ method: 'SUBSCRIBE', via: via('s1'), callId: 'x2' }), port(b));
    await p.send(rawRequest({ method: 'FOOBAR', via: via('f1'), callId: 'x3' }), port(b));
    await p.send(rawRequest({ via: via('r1'), callId: 'x4', extra: 'Require: 100rel, foo\r\n' }), port(b));
    await p.send(rawRequest({ method: 'INFO', via: via('i1'), callId: 'x5' }), port(b));
    await p.send(rawRequest({ method: 'INVITE', via: via('m1'), callId: 'x6' }), port(b));
    await p.send(rawRequest({ method: 'INVITE', via: via('m2'), callId: 'x6' }), port(b)); // same From tag/Call-ID/CSeq, other branch
    await p.send(rawRequest({ method: 'ACK', via: via('a1'), callId: 'x7' }), port(b));
    await p.until(() => p.responses().filter((r) => r.message.kind === 'response' && r.message.status >= 400).length >= 6);
    const byCall = new Map(p.responses().map((r) => [r.message.callId(), r.message]));
    const st = (c: string) => { const m = byCall.get(c); return m?.kind === 'response' ? m.status : undefined; };
    assert.equal(st('x1'), 481);
    assert.equal(st('x2'), 405);
    assert.equal(byCall.get('x2')?.headers.getAll('Allow').join(', '), 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE');
    assert.equal(st('x3'), 501);
    assert.equal(st('x4'), 420);
    assert.deepEqual(byCall.get('x4')?.headers.getAll('Unsupported'), ['100rel', 'foo']);
    assert.equal(st('x5'), 500);
    assert.equal(st('x6'), 482);
    assert.deepEqual(acks, ['x7']);
  });
});

describe('CANCEL between two stacks (§9)', () => {
  it('a CANCEL requested before any 1xx waits for it; the INVITE ends 487 and is ACKed', async () => {
    const a = await stack();
    const b = await stack();
    let ist: InviteServerTransaction | undefined;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => { release = r; });
    b.handlers.onRequest = (tx) => {
      if (tx instanceof InviteServerTransaction) {
        ist = tx;
        void gate.then(() => tx.reply(180));
      }
    };
    const tx = (await a.sendRequest(testRequest({ method: 'INVITE', uri: `sip:bob@127.0.0.1:${port(b)}` }))) as InviteClientTransaction;
    a.cancel(tx, 'SIP;cause=487;text="caller hung up"');
    await delay(3 * T1);
    assert.equal(ist?.cancelled, false, 'no CANCEL before a provisional response');
    release();
    const final = await tx.finalResponse;
    assert.equal(final.status, 487);
    await delay(3 * T1);
    assert.equal(ist?.cancelled, true);
    assert.equal(ist?.state === TransactionState.Confirmed || ist?.state === TransactionState.Terminated, true, 'the 487 was ACKed');
  });
});
