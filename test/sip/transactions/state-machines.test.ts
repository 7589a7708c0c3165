/**
 * Each transaction's state diagram on a fake clock (RFC 3261 §17, RFC 6026): retransmission schedules, the timers
 * that end each state, what reaches the TU, and illegal moves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createResponse, type SipResponse } from '../../../src/sip/messages/index.ts';
import {
  InviteClientTransaction, InviteServerTransaction, NonInviteClientTransaction, NonInviteServerTransaction,
  timerConfig, TransactionState as S, type ClientTransaction, type TransactionContext,
} from '../../../src/sip/transactions/index.ts';
import type { TransportProtocol } from '../../../src/sip/transport/index.ts';
import { FakeClock, flush } from '../support/fake-clock.ts';
import { FakeTransport } from '../support/fake-transport.ts';
import { testRequest } from '../support/messages.ts';

const T = timerConfig(); // T1 500, T2 4000, T4 5000
const target = { protocol: 'udp' as const, address: '127.0.0.1', port: 5070 };

function setup(protocol: TransportProtocol = 'udp') {
  const clock = new FakeClock();
  const transport = new FakeTransport(() => clock.now(), protocol);
  const terminated: string[] = [];
  const ctx: TransactionContext = { transport, clock, timers: T, onTerminated: (tx) => terminated.push(tx.id) };
  return { clock, transport, ctx, terminated };
}

function tuRecorder() {
  const seen: { responses: number[]; timeouts: number; errors: number } = { responses: [], timeouts: 0, errors: 0 };
  return {
    seen,
    user: {
      onResponse: (r: SipResponse) => seen.responses.push(r.status),
      onTimeout: () => { seen.timeouts++; },
      onTransportError: () => { seen.errors++; },
    },
  };
}

function respond(tx: ClientTransaction, status: number, toTag = 'callee') {
  const r = createResponse(tx.request, status, { toTag });
  tx.receiveResponse(r);
  return r;
}

describe('INVITE client transaction (§17.1.1)', () => {
  it('Timer A doubles from T1 without cap; Timer B (64*T1) times out in Calling', async () => {
    const { clock, transport, ctx, terminated } = setup();
    const { seen, user } = tuRecorder();
    const tx = new InviteClientTransaction('ict1', testRequest({ method: 'INVITE' }), target, ctx, user);
    tx.start();
    await flush();
    assert.deepEqual(tx.activeTimers, ['A', 'B']);
    clock.advance(64 * T.T1);
    assert.deepEqual(transport.times('resend'), [500, 1500, 3500, 7500, 15500, 31500]);
    assert.equal(tx.state, S.Terminated);
    assert.equal(seen.timeouts, 1);
    assert.deepEqual(terminated, ['ict1']);
    await assert.rejects(tx.finalResponse, { code: 'sip-timeout' });
  });

  it('1xx → Proceeding stops A and B; 2xx → Accepted passes retransmissions up; Timer M ends it', async () => {
    const { clock, transport, ctx } = setup();
    const { seen, user } = tuRecorder();
    const tx = new InviteClientTransaction('ict2', testRequest({ method: 'INVITE' }), target, ctx, user);
    tx.start();
    await flush();
    clock.advance(600);
    respond(tx, 180);
    assert.equal(tx.state, S.Proceeding);
    assert.deepEqual(tx.activeTimers, []);
    clock.advance(60_000);
    assert.equal(transport.times('resend').length, 1, 'no retransmission after a provisional response');
    assert.equal(tx.state, S.Proceeding, 'no Timer B in Proceeding');
    respond(tx, 200);
    assert.equal(tx.state, S.Accepted);
    assert.deepEqual(tx.activeTimers, ['M']);
    respond(tx, 200);
    respond(tx, 486); // not a 2xx: absorbed in Accepted
    assert.deepEqual(seen.responses, [180, 200, 200]);
    assert.equal((await tx.finalResponse).status, 200);
    assert.equal(transport.log.filter((s) => s.method === 'ACK').length, 0, 'the ACK for 2xx is the TU\'s job');
    clock.advance(64 * T.T1);
    assert.equal(tx.state, S.Terminated);
  });

  it('300-699 → Completed: ACK built per §17.1.1.3, re-sent for each retransmission, Timer D ends it', async () => {
    const { clock, transport, ctx } = setup();
    const { seen, user } = tuRecorder();
    const invite = testRequest({ method: 'INVITE', cseq: 7, headers: [['Route', '<sip:proxy.example;lr>']] });
    const tx = new InviteClientTransaction('ict3', invite, target, ctx, user);
    tx.start();
    await flush();
    respond(tx, 486, 'busy-tag');
    await flush();
    assert.equal(tx.state, S.Completed);
    const ack = transport.log.find((s) => s.method === 'ACK')!.message!;
    assert.ok(ack.kind === 'request');
    assert.equal(ack.headers.getAll('Via').length, 1);
    assert.equal(ack.topVia().params.get('branch'), invite.topVia().params.get('branch'));
    assert.deepEqual(ack.cseq(), { seq: 7, method: 'ACK' });
    assert.equal(ack.toTag(), 'busy-tag');
    assert.equal(ack.headers.get('Route'), '<sip:proxy.example;lr>');
    assert.equal(ack.headers.get('From'), invite.headers.get('From'));
    respond(tx, 486, 'busy-tag');
    respond(tx, 486, 'busy-tag');
    await flush();
    assert.equal(transport.log.filter((s) => s.kind === 'resend' && s.method === 'ACK').length, 2);
    assert.deepEqual(seen.responses, [486], 'retransmissions are not passed up');
    assert.deepEqual(tx.activeTimers, ['D']);
    clock.advance(64 * T.T1);
    assert.equal(tx.state, S.Terminated);
  });

  it('over a reliable transport: no Timer A, and Completed ends at once (Timer D = 0)', async () => {
    const { clock, transport, ctx } = setup('tcp');
    const tx = new InviteClientTransaction('ict4', testRequest({ method: 'INVITE' }), { ...target, protocol: 'tcp' }, ctx, {});
    tx.start();
    await flush();
    assert.deepEqual(tx.activeTimers, ['B']);
    clock.advance(10_000);
    assert.equal(transport.times('resend').length, 0);
    respond(tx, 603);
    assert.equal(tx.state, S.Terminated);
  });

  it('a transport error terminates and tells the TU (§17.1.4)', async () => {
    const { transport, ctx } = setup();
    transport.failSends = true;
    const { seen, user } = tuRecorder();
    const tx = new InviteClientTransaction('ict5', testRequest({ method: 'INVITE' }), target, ctx, user);
    tx.start();
    await flush();
    assert.equal(tx.state, S.Terminated);
    assert.equal(seen.errors, 1);
    await assert.rejects(tx.finalResponse, /network unreachable/);
  });
});

describe('non-INVITE client transaction (§17.1.2)', () => {
  it('Timer E: T1 doubling to T2 in Trying; Timer F times out', async () => {
    const { clock, transport, ctx } = setup();
    const { seen, user } = tuRecorder();
    const tx = new NonInviteClientTransaction('n1', testRequest(), target, ctx, user);
    tx.start();
    await flush();
    clock.advance(64 * T.T1);
    assert.deepEqual(transport.times('resend'), [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.equal(tx.state, S.Terminated);
    assert.equal(seen.timeouts, 1);
  });

  it('1xx → Proceeding retransmits every T2; final → Completed; Timer K (T4) ends it; later responses absorbed', async () => {
    const { clock, transport, ctx } = setup();
    const { seen, user } = tuRecorder();
    const tx = new NonInviteClientTransaction('n2', testRequest({ method: 'BYE' }), target, ctx, user);
    tx.start();
    await flush();
    clock.advance(100);
    respond(tx, 100);
    assert.equal(tx.state, S.Proceeding);
    clock.advance(12_000);
    // the 100 came before the first E: in Proceeding E still fires at T1, then every T2
    assert.deepEqual(transport.times('resend'), [500, 4500, 8500]);
    respond(tx, 200);
    assert.equal(tx.state, S.Completed);
    assert.deepEqual(tx.activeTimers, ['K']);
    respond(tx, 200);
    assert.deepEqual(seen.responses, [100, 200]);
    clock.advance(T.T4);
    assert.equal(tx.state, S.Terminated);
    assert.equal((await tx.finalResponse).status, 200);
  });

  it('over TCP: no Timer E, Completed ends at once (K = 0)', async () => {
    const { clock, transport, ctx } = setup('tcp');
    const tx = new NonInviteClientTransaction('n3', testRequest(), target, ctx, {});
    tx.start();
    await flush();
    clock.advance(20_000);
    assert.equal(transport.times('resend').length, 0);
    respond(tx, 200);
    assert.equal(tx.state, S.Terminated);
  });
});

describe('INVITE server transaction (§17.2.1)', () => {
  const flow = (t: FakeTransport) => t.flow();

  it('sends 100 Trying after 200 ms when the TU is silent, and not when it answers first', () => {
    const a = setup();
    const tx = new InviteServerTransaction('s1', testRequest({ method: 'INVITE' }), flow(a.transport), a.ctx);
    tx.start();
    a.clock.advance(199);
    assert.equal(a.transport.log.length, 0);
    a.clock.advance(1);
    assert.deepEqual(a.transport.log.map((s) => s.status), [100]);
    const b = setup();
    const tx2 = new InviteServerTransaction('s2', testRequest({ method: 'INVITE' }), flow(b.transport), b.ctx);
    tx2.start();
    b.clock.advance(50);
    tx2.reply(180);
    b.clock.advance(1000);
    assert.deepEqual(b.transport.log.map((s) => s.status), [180]);
    assert.equal(tx.state, S.Proceeding);
  });

  it('INVITE retransmissions get the last provisional; non-2xx: Timer G T1→T2, Timer H tells the TU', () => {
    const { clock, transport, ctx } = setup();
    const invite = testRequest({ method: 'INVITE' });
    const tx = new InviteServerTransaction('s3', invite, flow(transport), ctx);
    let ackTimeouts = 0;
    tx.onAckTimeout = () => { ackTimeouts++; };
    tx.start();
    tx.reply(180);
    tx.receiveRequest(invite);
    assert.deepEqual(transport.log.map((s) => s.status), [180, 180]);
    tx.reply(486);
    assert.equal(tx.state, S.Completed);
    tx.receiveRequest(invite);
    clock.advance(64 * T.T1);
    const finals = transport.times('response', (s) => s.status === 486);
    assert.deepEqual(finals, [0, 0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.equal(tx.state, S.Terminated);
    assert.equal(ackTimeouts, 1);
    assert.throws(() => tx.reply(200), { code: 'sip-state' });
  });

  it('ACK → Confirmed stops G/H, absorbs, Timer I (T4) ends it; the 486 carries the transaction To tag', () => {
    const { clock, transport, ctx } = setup();
    const invite = testRequest({ method: 'INVITE' });
    const tx = new InviteServerTransaction('s4', invite, flow(transport), ctx);
    tx.start();
    const r = tx.reply(486);
    assert.equal(r.toTag(), tx.toTag);
    clock.advance(700);
    tx.receiveRequest(testRequest({ method: 'ACK', branch: invite.topVia().params.get('branch')! }));
    assert.equal(tx.state, S.Confirmed);
    assert.deepEqual(tx.activeTimers, ['I']);
    const sent = transport.log.length;
    tx.receiveRequest(invite);
    clock.advance(T.T4);
    assert.equal(transport.log.length, sent, 'nothing sent in Confirmed');
    assert.equal(tx.state, S.Terminated);
  });

  it('2xx → Accepted (RFC 6026): TU 2xx retransmissions pass, INVITEs absorbed, ACK to TU, Timer L ends it', () => {
    const { clock, transport, ctx } = setup();
    const invite = testRequest({ method: 'INVITE' });
    const tx = new InviteServerTransaction('s5', invite, flow(transport), ctx);
    const acks: string[] = [];
    tx.onAck = (a) => acks.push(a.method);
    tx.start();
    const ok = tx.reply(200);
    assert.equal(tx.state, S.Accepted);
    tx.respond(ok);
    tx.receiveRequest(invite);
    tx.receiveRequest(testRequest({ method: 'ACK' }));
    assert.deepEqual(transport.log.map((s) => s.status), [200, 200]);
    assert.deepEqual(acks, ['ACK']);
    assert.throws(() => tx.reply(486), { code: 'sip-state' });
    clock.advance(64 * T.T1);
    assert.equal(tx.state, S.Terminated);
  });

  it('over TCP: no Timer G, ACK ends it at once (I = 0)', () => {
    const { clock, transport, ctx } = setup('tcp');
    const invite = testRequest({ method: 'INVITE' });
    const tx = new InviteServerTransaction('s6', invite, flow(transport), ctx);
    tx.start();
    tx.reply(404);
    assert.deepEqual(tx.activeTimers, ['H']);
    clock.advance(10_000);
    assert.equal(transport.times('response').length, 1);
    tx.receiveRequest(testRequest({ method: 'ACK' }));
    assert.equal(tx.state, S.Terminated);
  });
});

describe('non-INVITE server transaction (§17.2.2)', () => {
  it('Trying absorbs, Proceeding and Completed resend the last response, Timer J ends it', () => {
    const { clock, transport, ctx } = setup();
    const req = testRequest({ method: 'INFO' });
    const tx = new NonInviteServerTransaction('ns1', req, transport.flow(), ctx);
    tx.receiveRequest(req);
    assert.equal(transport.log.length, 0);
    tx.reply(100);
    assert.equal(tx.state, S.Proceeding);
    tx.receiveRequest(req);
    tx.reply(200);
    assert.equal(tx.state, S.Completed);
    tx.receiveRequest(req);
    assert.deepEqual(transport.log.map((s) => s.status), [100, 100, 200, 200]);
    assert.throws(() => tx.reply(500), { code: 'sip-state' });
    clock.advance(64 * T.T1 - 1);
    assert.equal(tx.state, S.Completed);
    clock.advance(1);
    assert.equal(tx.state, S.Terminated);
  });

  it('over TCP, J = 0', () => {
    const { transport, ctx } = setup('tcp');
    const tx = new NonInviteServerTransaction('ns2', testRequest(), transport.flow(), ctx);
    tx.reply(200);
    assert.equal(tx.state, S.Terminated);
  });

  it('transition() refuses illegal moves', () => {
    class Probe extends NonInviteServerTransaction {
      force(s: S) {
        this.transition(s);
      }
    }
    const { transport, ctx } = setup();
    const p = new Probe('p', testRequest(), transport.flow(), ctx);
    assert.throws(() => p.force(S.Confirmed), { code: 'sip-state' });
    assert.throws(() => p.force(S.Accepted), { code: 'sip-state' });
    p.force(S.Completed);
    assert.throws(() => p.force(S.Proceeding), { code: 'sip-state' });
    p.force(S.Terminated);
    assert.throws(() => p.force(S.Terminated), { code: 'sip-state' });
  });
});
