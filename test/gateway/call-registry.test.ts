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
