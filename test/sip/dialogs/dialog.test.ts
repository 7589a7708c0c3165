/** Dialog state and request construction (RFC 3261 §12.1, §12.2.1.1, §13.2.2.4) without a network. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dialog, DialogState, type DialogHost } from '../../../src/sip/dialogs/index.ts';
import { createResponse, headerKey, parseUri, serializeUri, type SipUri } from '../../../src/sip/messages/index.ts';
import { testRequest } from '../support/messages.ts';

const registered: string[] = [];
const host = {
  stack: undefined, logger: undefined,
  register: (d: Dialog) => registered.push(d.key),
  unregister: () => undefined,
} as unknown as DialogHost;
const local = parseUri('sip:cardline@192.0.2.10:5060') as SipUri;

function invite(extra: Array<[string, string]> = []) {
  return testRequest({ method: 'INVITE', uri: 'sip:agent@pbx.example', fromTag: 'ours', cseq: 10, headers: [['Contact', '<sip:caller@192.0.2.20:5070>'], ...extra] });
}

describe('Dialog', () => {
  it('UAC: route set is the 2xx Record-Route reversed; in-dialog requests go to the Contact via loose routes', () => {
    const inv = invite();
    const ok = createResponse(inv, 200, { toTag: 'theirs', headers: [['Record-Route', '<sip:p1.example;lr>, <sip:p2.example;lr>'], ['Contact', '<sip:agent@192.0.2.30:5080>']] });
    const d = Dialog.fromUac(host, inv, ok, local);
    assert.equal(d.state, DialogState.Confirmed);
    assert.deepEqual(d.id, { callId: inv.callId(), localTag: 'ours', remoteTag: 'theirs' });
    assert.deepEqual(d.routeSet.map((r) => serializeUri(r.uri)), ['sip:p2.example;lr', 'sip:p1.example;lr']);
    const bye = d.createRequest('BYE');
    assert.equal(serializeUri(bye.uri), 'sip:agent@192.0.2.30:5080');
    assert.deepEqual(bye.headers.getAll('Route'), ['<sip:p2.example;lr>', '<sip:p1.example;lr>']);
    assert.deepEqual(bye.cseq(), { seq: 11, method: 'BYE' });
    assert.equal(bye.fromTag(), 'ours');
    assert.equal(bye.toTag(), 'theirs');
    assert.equal(bye.callId(), inv.callId());
    assert.equal(bye.headers.has('Contact'), false);
    const upd = d.createRequest('UPDATE', { body: 'v=0\r\n' });
    assert.equal(upd.headers.get('Contact'), '<sip:cardline@192.0.2.10:5060>', 'target refresh requests carry our Contact');
    assert.equal(upd.headers.get('Content-Type'), 'application/sdp');
    assert.equal(upd.cseq().seq, 12);
  });

  it('UAC: a strict router first puts it in the Request-URI and the remote target last in Route', () => {
    const inv = invite();
    const ok = createResponse(inv, 200, { toTag: 't', headers: [['Record-Route', '<sip:strict.example;method=INVITE>'], ['Contact', '<sip:agent@192.0.2.30>']] });
    const d = Dialog.fromUac(host, inv, ok, local);
    const r = d.createRequest('INFO');
    assert.equal(serializeUri(r.uri), 'sip:strict.example', 'method parameter stripped');
    assert.deepEqual(r.headers.getAll('Route'), ['<sip:agent@192.0.2.30>']);
  });

  it('UAS: route set in order, remote target from the INVITE Contact, local CSeq chosen on first use', () => {
    const inv = invite([['Record-Route', '<sip:p1.example;lr>'], ['Record-Route', '<sip:p2.example;lr>']]);
    const d = Dialog.fromUas(host, inv, 'mine', local, DialogState.Early);
    assert.equal(d.role, 'uas');
    assert.deepEqual(d.routeSet.map((r) => serializeUri(r.uri)), ['sip:p1.example;lr', 'sip:p2.example;lr']);
    assert.equal(d.remoteSeq, 10);
    assert.equal(d.localSeq, undefined);
    const info = d.createRequest('INFO', { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' });
    assert.equal(serializeUri(info.uri), 'sip:caller@192.0.2.20:5070');
    assert.ok(d.localSeq! > 0 && d.localSeq! < 2 ** 31);
    assert.equal(info.toTag(), 'ours');
    assert.equal(info.fromTag(), 'mine');
    assert.equal(info.headers.get('Content-Type'), 'application/dtmf-relay');
  });

  it('ACK for 2xx keeps the INVITE CSeq number and its credentials; state changes are checked', () => {
    const inv = invite([['Authorization', 'Digest username="u", realm="r", nonce="n", uri="sip:agent@pbx.example", response="00"']]);
    const early = Dialog.fromUac(host, inv, createResponse(inv, 183, { toTag: 'e1', headers: [['Contact', '<sip:agent@192.0.2.30>']] }), local);
    assert.equal(early.state, DialogState.Early);
    early.confirm(createResponse(inv, 200, { toTag: 'e1', headers: [['Contact', '<sip:agent@192.0.2.31>'], ['Record-Route', '<sip:rr.example;lr>']] }));
    assert.equal(serializeUri(early.remoteTarget), 'sip:agent@192.0.2.31', '2xx Contact replaces the target');
    assert.equal(early.routeSet.length, 1, 'route set recomputed from the 2xx');
    const ack = early.createAck(inv);
    assert.deepEqual(ack.cseq(), { seq: 10, method: 'ACK' });
    assert.equal(ack.headers.get('Authorization'), inv.headers.get('Authorization'));
    early.terminate('bye-sent');
    assert.equal(early.state, DialogState.Terminated);
    assert.throws(() => early.createRequest('INFO'), { code: 'sip-state' });
    assert.throws(() => early.confirm(), { code: 'sip-state' });
  });

  it('compact header names map to their full names (§7.3.3 and extensions)', () => {
    const pairs: Record<string, string> = { i: 'call-id', m: 'contact', f: 'from', t: 'to', v: 'via', l: 'content-length', c: 'content-type', k: 'supported', s: 'subject', e: 'content-encoding', o: 'event', u: 'allow-events', r: 'refer-to', b: 'referred-by', x: 'session-expires', y: 'identity' };
    for (const [c, full] of Object.entries(pairs)) {
      assert.equal(headerKey(c), full);
      assert.equal(headerKey(c.toUpperCase()), full);
    }
  });
});
