import { ManualClock } from '../../src/payments/clock.ts';
import { PaymentSession, type PaymentSessionInit } from '../../src/payments/payment-session.ts';
import { resolveCaptureConfig, type CaptureConfig } from '../../src/payments/session-config.ts';
import type { CallId, MerchantId, SessionEvent, SessionId } from '../../src/payments/types.ts';
import { CardVault } from '../../src/payments/vault.ts';
import type { DtmfDigit } from '../../src/dsp/types.ts';

/** 2030-01-01T00:00:00Z: far from any test card's expiry digits, in the past of 1230/1231 etc. */
export const T0 = Date.UTC(2030, 0, 1);

let n = 0;
export function makeSession(opts: { capture?: CaptureConfig; init?: Partial<PaymentSessionInit> } = {}) {
  const clock = new ManualClock(T0);
  const vault = new CardVault();
  const events: SessionEvent[] = [];
  const session = PaymentSession.create({
    id: `ps_test_${++n}` as SessionId,
    callId: 'CA-1' as CallId,
    merchantId: 'm-1' as MerchantId,
    channel: 'agent-assisted',
    intent: 'charge',
    createdBy: 'agent-7',
    amountMinor: 1250,
    currency: 'USD',
    config: resolveCaptureConfig(opts.capture),
    clock,
    vault,
    onEvent: (e) => events.push(e),
    ...opts.init,
  });
  const feed = (keys: string) => { for (const k of keys) session.feedDigit(k as DtmfDigit); };
  return { session, clock, vault, events, feed, types: () => events.map((e) => e.type) };
}
