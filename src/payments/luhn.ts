/**
 * Luhn mod-10 check (ISO/IEC 7812-1 Annex B), the check digit that ends every payment card number.
 *
 * The functions take ASCII digit bytes (`Uint8Array`, as kept by the vault) or a string (tests, fixtures):
 * the vault never turns a PAN into a string just to check it.
 * A non-digit anywhere makes the input not valid; nothing here throws, logs, or keeps what it read.
 */

const ZERO = 0x30;
const NINE = 0x39;

type Digits = Uint8Array | string;

function digitAt(d: Digits, i: number): number {
  const code = typeof d === 'string' ? d.charCodeAt(i) : (d[i] ?? -1);
  return code >= ZERO && code <= NINE ? code - ZERO : -1;
}

/** Sum of the Luhn-weighted digits, doubling every second digit counted from the right (rightmost not doubled). */
function luhnSum(d: Digits, doubleRightmost: boolean): number {
  let sum = 0;
  let double = doubleRightmost;
  for (let i = d.length - 1; i >= 0; i--) {
    const v = digitAt(d, i);
    if (v < 0) return -1;
    if (double) {
      const x = v * 2;
      sum += x > 9 ? x - 9 : x;
    } else {
      sum += v;
    }
    double = !double;
  }
  return sum;
}

/** True when `digits` is all ASCII digits (at least two) and passes the Luhn check. */
export function isLuhnValid(digits: Digits): boolean {
  if (digits.length < 2) return false;
  const sum = luhnSum(digits, false);
  return sum >= 0 && sum % 10 === 0;
}

/**
 * The check digit (0-9) that makes `payload + digit` Luhn-valid, or -1 if `payload` has a non-digit or is empty.
 * Used to build test card numbers; the check digit position is not doubled, so the payload's rightmost is.
 */
export function luhnCheckDigit(payload: Digits): number {
  if (payload.length === 0) return -1;
  const sum = luhnSum(payload, true);
  if (sum < 0) return -1;
  return (10 - (sum % 10)) % 10;
}
