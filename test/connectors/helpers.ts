import { CardData } from '../../src/payments/index.ts';
import type { CardBrand, MerchantId, SessionId } from '../../src/payments/index.ts';
import type { ChargeRequest, TokenizeRequest } from '../../src/connectors/index.ts';

export function card(number: string, opts: { cvv?: string | null; postal?: string | null; month?: number; year?: number } = {}): CardData {
  return new CardData({
    number: Buffer.from(number, 'ascii'),
    expiryMonth: opts.month ?? 12,
    expiryYear: opts.year ?? 2031,
    securityCode: opts.cvv === null ? null : Buffer.from(opts.cvv ?? '123', 'ascii'),
    postalCode: opts.postal ? Buffer.from(opts.postal, 'ascii') : null,
  });
}

export function tokenizeReq(number: string, key = 'key-1', extra: Partial<TokenizeRequest> = {}): TokenizeRequest {
  return {
    card: card(number), brand: 'visa' as CardBrand, description: null, reference: null,
    sessionId: 'ps_1' as SessionId, merchantId: 'm-1' as MerchantId, idempotencyKey: key, ...extra,
  };
}

export function chargeReq(number: string, key = 'key-1', extra: Partial<ChargeRequest> = {}): ChargeRequest {
  return { ...tokenizeReq(number, key), amountMinor: 1250, currency: 'USD', ...extra };
}
