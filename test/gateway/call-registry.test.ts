import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Call, CallRegistry, CallState, type SecureChange, validateTriggers } from '../../src/gateway/index.ts';

function answered(): { call: Call; control: { secure: boolean; setSecure(on: boolean): void; hangup(): Promise<void> } } {
  const call = new Call({ sipCallId: 'c1', caller: 'sip:a@x', callee: 'sip:b@x', agent: 'sip:agent@x' });
  const control = { secure: false, setSecure(on: boolean) { this.secure = on; }, hangup: async () => undefined };
  call.control = control;
  call.transition(CallState.Answered);
  return { call, control };
}

describe('Call secure spans', () => {
  it('records one span per secure period with who started and ended it, and tells listeners once per change', () => {
    const { call, control } = answered();
    const seen: Array<Pick<SecureChange, 'on' | 'by'>> = [];
    const off = call.onSecureChange((c) => seen.push({ on: c.on, by: c.by }));
    const reg = new CallRegistry();
    reg.add(call);
    reg.setSecure(call.id, true, 'sess-1');
    reg.setSecure(call.id, true); // no change: no event, no span
    assert.equal(control.secure, true);
    assert.equal(call.paymentSessionId, 'sess-1');
    call.setSecure(false, 'trigger');
    call.noteSecure(true, 'trigger');
    call.transition(CallState.Ended);
    off();
    assert.deepEqual(seen, [{ on: true, by: 'api' }, { on: false, by: 'trigger' }, { on: true, by: 'trigger' }, { on: false, by: 'call-ended' }]);
    const v = call.view();
    assert.equal(v.secureSpans.length, 2);
    assert.equal(v.secureSpans[0]!.startedBy, 'api');
    assert.equal(v.secureSpans[0]!.endedBy, 'trigger');
    assert.equal(v.secureSpans[1]!.endedBy, 'call-ended');
    assert.ok(v.secureSpans.every((s) => s.end !== null));
  });

  it('refuses secure mode on a call that is not answered', () => {
    const call = new Call({ sipCallId: 'c2', caller: 'sip:a@x', callee: 'sip:b@x', agent: 'sip:agent@x' });
    assert.throws(() => call.setSecure(true, 'api'), { code: 'call-state' });
  });

  it('a listener that throws does not break the change', () => {
    const { call, control } = answered();
    call.onSecureChange(() => { throw new Error('boom'); });
    call.setSecure(true, 'api');
    assert.equal(control.secure, true);
    assert.equal(call.view().secureSpans.length, 1);
  });
});

describe('trigger sequences', () => {
  it('accepts legacy triggers and refuses bad ones', () => {
    assert.deepEqual(validateTriggers({ start: '#388*', end: '#388#' }), { start: '#388*', end: '#388#' });
    for (const bad of [{ start: '#', end: '##' }, { start: '#38x', end: '#388#' }, { start: '#388', end: '#388#' }, { start: '*1', end: '*1' }]) {
      assert.throws(() => validateTriggers(bad), { code: 'invalid-config' });
    }
  });
});

describe('secure hangover after the bound payment session ended', () => {
  const until = async (cond: () => boolean): Promise<void> => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > 5000) throw new Error('condition not met');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('unbinds at once, keeps masking for the hangover, then turns secure mode off (session-ended)', async () => {
    const { call, control } = answered();
    const reg = new CallRegistry({ secureHangoverMs: 80 });
    reg.add(call);
    reg.setSecure(call.id, true, 'sess-1');
    assert.deepEqual(reg.paymentSessionEnded('sess-1'), [call.id]);
    assert.deepEqual([call.paymentSessionId, control.secure], [null, true], 'still masking right after the session ended');
    await until(() => !control.secure);
    assert.deepEqual(call.secureSpans.map((s) => [s.startedBy, s.endedBy]), [['api', 'session-ended']]);
  });

  it('a session bound again during the hangover keeps secure mode on; an ended call is left alone', async () => {
    const { call, control } = answered();
    const reg = new CallRegistry({ secureHangoverMs: 30 });
    reg.add(call);
    reg.setSecure(call.id, true, 'sess-1');
    reg.paymentSessionEnded('sess-1');
    reg.setSecure(call.id, true, 'sess-2');
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual([control.secure, call.paymentSessionId], [true, 'sess-2']);
    reg.paymentSessionEnded('sess-2');
    call.transition(CallState.Ended);
    await new Promise((r) => setTimeout(r, 120)); // the timer fires on an ended call: no throw, nothing changes
    assert.equal(call.secureSpans.at(-1)?.endedBy, 'call-ended');
  });
});
