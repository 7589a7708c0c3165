/** Test card numbers (public test PANs from processors' docs and Luhn-built ones). Not real cards. */
import { luhnCheckDigit } from '../../src/payments/luhn.ts';

export const TEST_PANS = {
  visa16: '4111111111111111',
  visa13: '4222222222222',
  visa19: '4000000000000000006',
  mastercard: '5555555555554444',
  mastercard2: '2223003122003222',
  amex: '378282246310005',
  amex2: '371449635398431',
  discover: '6011111111111117',
  discover644: '6445644564456445',
  discoverUnionPay: '6221260000000000',
  jcb: '3566002020360505',
  diners14: '36227206271667',
  diners300: '30569309025904',
  unionpay: '6200000000000005',
  maestro: '6759649826438453',
  maestro50: '5018000000000009',
} as const;

/** A Luhn-valid card number: `prefix`, random fill from `rand`, then the check digit. */
export function makePan(prefix: string, length: number, rand: () => number = Math.random): string {
  let body = prefix;
  while (body.length < length - 1) body += String(Math.floor(rand() * 10));
  return body + String(luhnCheckDigit(body));
}
