import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DtmfDigit } from '../../src/dsp/index.ts';
import { Call, CallState, PaymentDigitBinder, type DigitFeeder } from '../../src/gateway/index.ts';
import { CardlineError } from '../../src/errors/index.ts';

function answeredCall(): Call {
  const c = new Call({ sipCallId: 'x', caller: 'sip:a@b', callee: 'sip:p@c', agent: 'sip:g@h' });
  c.transition(CallState.Answered);
  return c;
}

describe('PaymentDigitBinder', () => {
  it('feeds a bound call\'s digits in order even when feeding is slow; unbound digits are dropped', async () => {
    const fed: string[] = [];
    let n = 0;
    const feeder: DigitFeeder = {
      async feedDigits(id, keys) {
        await new Promise((r) => setTimeout(r, (n++ % 3) * 5)); // uneven latency must not reorder
        fed.push(`${id}:${keys.join('')}`);
      },
    };
    const binder = new PaymentDigitBinder(feeder);
    const call = answeredCall();
    binder.sink(call, '1');
    call.paymentSessionId = 'ps_1';
    for (const d of '4111111111111111') binder.sink(call, d as DtmfDigit);
    await binder.idle();
    assert.deepEqual(fed, [...'4111111111111111'].map((d) => `ps_1:${d}`));
    assert.deepEqual(binder.stats, { delivered: 16, unbound: 1, failed: 0 });
  });

  it('a failed feed is reported by code only and later digits still flow', async () => {
    const errors: unknown[][] = [];
    const feeder: DigitFeeder = {
      async feedDigits(_id, keys) {
        if (keys[0] === '#') throw new CardlineError('session-not-found', 'digit # refused');
      },
    };
    const binder = new PaymentDigitBinder(feeder, { onError: (...a) => { errors.push(a); } });
    const call = answeredCall();
    call.paymentSessionId = 'ps_2';
    for (const d of '2#2') binder.sink(call, d as DtmfDigit);
    await binder.idle();
    assert.deepEqual(errors, [[call.id, 'session-not-found']]);
    assert.ok(!JSON.stringify(errors).includes('#'), 'no digit in what is reported');
    assert.deepEqual(binder.stats, { delivered: 2, unbound: 0, failed: 1 });
  });
});
