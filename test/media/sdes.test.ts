import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  chooseCrypto, generateCrypto, parseCryptoAttribute, serializeCryptoAttribute, srtpOptionsFromCrypto, unsupportedReason,
} from '../../src/media/sdes.ts';
import { SdpParseError } from '../../src/media/errors.ts';
import { SrtpContext } from '../../src/media/srtp-context.ts';

// RFC 4568 §4 example (key from the RFC text).
const RFC_EXAMPLE = 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4';
const KEY = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';

test('parses the RFC 4568 example: tag, suite, key||salt, lifetime 2^20, MKI 1 of 4 octets', () => {
  const c = parseCryptoAttribute(RFC_EXAMPLE);
  assert.equal(c.tag, 1);
  assert.equal(c.suite, 'AES_CM_128_HMAC_SHA1_80');
  assert.equal(c.keys.length, 1);
  assert.equal(c.keys[0]!.keySalt.length, 30);
  assert.equal(c.keys[0]!.lifetime, 2 ** 20);
  assert.deepEqual(c.keys[0]!.mki, { value: 1, length: 4 });
  assert.equal(`a=crypto:${serializeCryptoAttribute(c)}`, RFC_EXAMPLE);
  const opts = srtpOptionsFromCrypto(c);
  assert.deepEqual([...opts.mki!], [0, 0, 0, 1]);
  assert.equal(opts.keyLifetime, 2 ** 20);
  assert.equal(opts.masterKey.length, 16);
  assert.equal(opts.masterSalt.length, 14);
  assert.deepEqual(Buffer.concat([opts.masterKey, opts.masterSalt]), Buffer.from(KEY, 'base64'));
});

test('session parameters, several keys, and what Cardline accepts', () => {
  const multi = parseCryptoAttribute(`2 AES_CM_128_HMAC_SHA1_32 inline:${KEY}|1:1;inline:${KEY}|2:1 KDR=0 WSH=128`);
  assert.equal(multi.keys.length, 2);
  assert.deepEqual(multi.sessionParams, ['KDR=0', 'WSH=128']);
  assert.equal(unsupportedReason(multi), 'more than one master key');
  const offers = [
    parseCryptoAttribute(`1 AES_256_CM_HMAC_SHA1_80 inline:${Buffer.alloc(46).toString('base64')}`),
    parseCryptoAttribute(`2 AES_CM_128_HMAC_SHA1_80 inline:${KEY} UNENCRYPTED_SRTP`),
    parseCryptoAttribute(`3 AES_CM_128_HMAC_SHA1_80 inline:${KEY} KDR=4`),
    parseCryptoAttribute(`4 AES_CM_128_HMAC_SHA1_32 inline:${KEY} KDR=0 WSH=256`),
    parseCryptoAttribute(`5 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`),
  ];
  assert.equal(chooseCrypto(offers)?.tag, 4);
  assert.equal(chooseCrypto(offers, ['AES_CM_128_HMAC_SHA1_80'])?.tag, 5);
  assert.equal(chooseCrypto(offers.slice(0, 3)), null);
  assert.throws(() => srtpOptionsFromCrypto(offers[0]!), (e: unknown) => e instanceof SdpParseError && e.code === 'sdes-malformed');
});

test('malformed attributes are refused with sdes-malformed, and the key never appears in the message', () => {
  const bad = [
    '', 'x AES_CM_128_HMAC_SHA1_80 inline:' + KEY, '1234567890 AES_CM_128_HMAC_SHA1_80 inline:' + KEY, '1', '1 AES_CM_128_HMAC_SHA1_80',
    '1 AES-CM inline:' + KEY, '1 AES_CM_128_HMAC_SHA1_80 key:' + KEY, '1 AES_CM_128_HMAC_SHA1_80 inline:',
    '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY.slice(0, 39), '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY.replace('P', '*'),
    '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY + '|2^20|1:4|7', '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY + '|1:0',
    '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY + '|256:1', '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY + '|1:4|2^20',
    '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY + '|0', '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY + '|abc',
    '1 AES_CM_128_HMAC_SHA1_80 inline:' + KEY + ' \u0001',
  ];
  for (const b of bad) {
    assert.throws(() => parseCryptoAttribute(b), (e: unknown) => {
      assert.ok(e instanceof SdpParseError, b);
      assert.equal(e.code, 'sdes-malformed');
      assert.ok(!e.message.includes(KEY.slice(0, 12)), 'key material in an error message');
      return true;
    }, b);
  }
});

test('generated keys are random, well-formed and usable by the SRTP context', () => {
  const a = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
  const b = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
  assert.notDeepEqual(a.keys[0]!.keySalt, b.keys[0]!.keySalt);
  assert.equal(a.keys[0]!.keySalt.length, 30);
  const text = serializeCryptoAttribute(a);
  assert.match(text, /^1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/);
  assert.deepEqual(parseCryptoAttribute(text), a);
  assert.ok(new SrtpContext(srtpOptionsFromCrypto(a)));
  const fixed = generateCrypto(7, 'AES_CM_128_HMAC_SHA1_32', (n) => new Uint8Array(n).fill(1));
  assert.equal(serializeCryptoAttribute(fixed), `7 AES_CM_128_HMAC_SHA1_32 inline:${Buffer.alloc(30, 1).toString('base64')}`);
});

test('fuzz: parse never throws anything but SdpParseError; accepted values round-trip', () => {
  const piece = fc.constantFrom('1', ' ', 'AES_CM_128_HMAC_SHA1_80', 'inline:', KEY, '|', '2^20', '1:4', ';', 'KDR=0', '=', 'WSH=64', '^', ':');
  const arb = fc.oneof(fc.string({ maxLength: 120 }), fc.array(piece, { maxLength: 12 }).map((a) => a.join('')));
  fc.assert(fc.property(arb, (s) => {
    try {
      const c = parseCryptoAttribute(s);
      assert.deepEqual(parseCryptoAttribute(serializeCryptoAttribute(c)), c);
    } catch (e) {
      assert.ok(e instanceof SdpParseError, String(e));
    }
  }), { numRuns: 2000 });
});
