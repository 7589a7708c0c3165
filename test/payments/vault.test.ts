import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { type CardData, CardVault } from '../../src/payments/vault.ts';
import type { CardField, SessionId } from '../../src/payments/types.ts';
import { isCardlineError } from '../../src/errors/index.ts';

const ID = 'ps_vault_test' as SessionId;

function spyRandom() {
  const handed: Buffer[] = [];
  const drawnHex: string[] = [];
  const fn = (n: number): Buffer => {
    const b = randomBytes(n);
    handed.push(b);
    drawnHex.push(b.toString('hex'));
    return b;
  };
  return { fn, handed, drawnHex };
}

function type(v: CardVault, id: SessionId, field: CardField, digits: string): void {
  for (const ch of digits) v.append(id, field, ch.charCodeAt(0));
}

const isZero = (b: Buffer): boolean => b.every((x) => x === 0);

test('append/length/inspect round-trip; each write uses a fresh IV', () => {
  const r = spyRandom();
  const v = new CardVault({ randomBytes: r.fn });
  v.open(ID);
  assert.equal(r.handed[0]?.length, 32, 'first draw is the 256-bit key');
  type(v, ID, 'card-number', '4111111111111111');
  assert.equal(v.length(ID, 'card-number'), 16);
  assert.equal(v.length(ID, 'expiry'), 0);
  const ivs = r.handed.slice(1);
  assert.equal(ivs.length, 16, 'one IV per key press');
  assert.ok(ivs.every((iv) => iv.length === 12));
  assert.equal(new Set(r.drawnHex.slice(1)).size, 16, 'IVs never repeat');
  assert.ok(ivs.slice(0, 15).every(isZero), 'material of superseded ciphertexts is zeroed');
  let seen: Buffer | undefined;
  const text = v.inspect(ID, 'card-number', (d) => {
    seen = d;
    return d.toString('ascii');
  });
  assert.equal(text, '4111111111111111');
  assert.ok(seen && isZero(seen), 'the plaintext handed to inspect is zeroed afterwards');
});

test('inspect zeroes its plaintext even when the callback throws', () => {
  const v = new CardVault();
  v.open(ID);
  type(v, ID, 'security-code', '737');
  let seen: Buffer | undefined;
  assert.throws(() => v.inspect(ID, 'security-code', (d) => { seen = d; throw new Error('boom'); }), /boom/);
  assert.ok(seen && seen.length === 3 && isZero(seen));
});

test('withCard hands the card to the callback and zeroes every buffer when it settles', async () => {
  const v = new CardVault();
  v.open(ID);
  type(v, ID, 'card-number', '5555555555554444');
  type(v, ID, 'expiry', '0731');
  type(v, ID, 'security-code', '737');
  type(v, ID, 'postal-code', '94107');
  let kept: CardData | undefined;
  const out = await v.withCard(ID, async (card) => {
    kept = card;
    assert.equal(card.number.toString('ascii'), '5555555555554444');
    assert.equal(card.expiryMonth, 7);
    assert.equal(card.expiryYear, 2031);
    assert.equal(card.securityCode?.toString('ascii'), '737');
    assert.equal(card.postalCode?.toString('ascii'), '94107');
    await new Promise((r) => setImmediate(r));
    return 'done';
  });
  assert.equal(out, 'done');
  assert.ok(kept);
  assert.ok(isZero(kept.number) && kept.number.length === 16);
  assert.ok(kept.securityCode && isZero(kept.securityCode));
  assert.ok(kept.postalCode && isZero(kept.postalCode));
  // the vault still holds the (encrypted) card for a retry
  assert.equal(v.length(ID, 'card-number'), 16);
});

test('withCard zeroes on rejection too, and needs card number and expiry', async () => {
  const v = new CardVault();
  v.open(ID);
  type(v, ID, 'card-number', '4111111111111111');
  await assert.rejects(v.withCard(ID, async () => 'x'), (e) => isCardlineError(e) && e.code === 'vault-error');
  type(v, ID, 'expiry', '1230');
  let kept: CardData | undefined;
  await assert.rejects(v.withCard(ID, async (c) => { kept = c; throw new Error('connector crashed'); }), /connector crashed/);
  assert.ok(kept && isZero(kept.number));
  assert.equal(kept.securityCode, null);
});

test('card data never prints: JSON and util.inspect show placeholders', async () => {
  const v = new CardVault();
  v.open(ID);
  type(v, ID, 'card-number', '4111111111111111');
  type(v, ID, 'expiry', '1230');
  type(v, ID, 'security-code', '123');
  await v.withCard(ID, async (card) => {
    const json = JSON.stringify({ card });
    const shown = inspect({ card }, { depth: 5 });
    for (const s of [json, shown]) {
      assert.ok(!s.includes('4111') && !s.includes('52,52'), s);
      assert.ok(!s.includes('49,49,49'), 'no byte dump');
    }
  });
});

test('wipe zeroes the key and forgets the session; later use is a vault-error', () => {
  const r = spyRandom();
  const v = new CardVault({ randomBytes: r.fn });
  v.open(ID);
  type(v, ID, 'card-number', '4111');
  const key = r.handed[0] as Buffer;
  const lastIv = r.handed[r.handed.length - 1] as Buffer;
  assert.ok(!isZero(key));
  v.wipe(ID);
  assert.ok(isZero(key), 'key zeroed');
  assert.ok(isZero(lastIv), 'sealed field material zeroed');
  assert.equal(v.has(ID), false);
  assert.equal(v.size, 0);
  assert.throws(() => v.append(ID, 'card-number', 0x31), (e) => isCardlineError(e) && e.code === 'vault-error');
  v.wipe(ID); // idempotent
});

test('clear forgets one field; only digits are accepted; duplicate open refused; wipeAll', () => {
  const v = new CardVault();
  v.open(ID);
  type(v, ID, 'expiry', '12');
  v.clear(ID, 'expiry');
  assert.equal(v.length(ID, 'expiry'), 0);
  assert.equal(v.inspect(ID, 'expiry', (d) => d.length), 0);
  assert.throws(() => v.append(ID, 'expiry', '#'.charCodeAt(0)), (e) => isCardlineError(e) && e.code === 'vault-error');
  assert.throws(() => v.open(ID), (e) => isCardlineError(e) && e.code === 'vault-error');
  v.open('ps_other' as SessionId);
  v.wipeAll();
  assert.equal(v.size, 0);
});

test('error messages from the vault never contain digits', () => {
  const v = new CardVault();
  v.open(ID);
  type(v, ID, 'card-number', '4111111111111111');
  try {
    v.append(ID, 'card-number', 0x41);
  } catch (e) {
    assert.ok(isCardlineError(e));
    assert.ok(!/\d{4}/.test(e.message));
  }
});
