/**
 * Property tests (house style 2): hostile bytes never escape as anything but `SipParseError`, whatever the parser
 * accepts it can forward, and generated messages survive serialize → parse → serialize unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  parseSipMessage, salvageRequest, serializeNameAddr, serializeSipMessage, serializeUri, serializeVia, SipHeaders,
  SipParseError, SipRequest, SipResponse, sipUri, type SipMessage, type SipUri,
} from '../../../src/sip/messages/index.ts';
import * as F from './fixtures/rfc4475.ts';

function parsesOrTypedError(bytes: Uint8Array): SipMessage | undefined {
  try {
    return parseSipMessage(bytes);
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return undefined;
  }
}

const fixtures = [...Object.values(F.VALID), ...Object.values(F.INVALID).map(([t]) => t)].map(F.crlf);

/** One mutation of a byte string: flip, delete, insert, duplicate or truncate. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant('insertText' as const), at: fc.nat(), text: fc.constantFrom(':', ';', ',', '"', '<', '>', '\r\n', '\r\n ', '\n', ' ', '%', '@', '[', ']', '=', '\\', 'Content-Length: 99999\r\n', 'v: SIP/2.0/UDP x\r\n', '\r\n\r\n') }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

interface Mutation { kind: string; at: number; byte?: number; len?: number; bytes?: Uint8Array; text?: string }

function mutate(src: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Array.from(src);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'set' && b.length > 0) b[at % b.length] = m.byte!;
    else if (m.kind === 'delete') b.splice(at, m.len!);
    else if (m.kind === 'insert') b.splice(at, 0, ...m.bytes!);
    else if (m.kind === 'insertText') b.splice(at, 0, ...new TextEncoder().encode(m.text!));
    else if (m.kind === 'truncate') b = b.slice(0, at);
  }
  return new Uint8Array(b);
}

describe('SIP parser fuzzing', () => {
  it('random bytes: only SipParseError, and salvage never throws', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
      parsesOrTypedError(bytes);
      salvageRequest(bytes);
    }), { numRuns: 3000 });
  });

  it('random text shaped like SIP: only SipParseError', () => {
    const line = fc.oneof(
      fc.constantFrom('INVITE sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@b>;tag=1',
        'To: sip:c@d', 'Call-ID: x', 'CSeq: 1 INVITE', 'Content-Length: 3', 'l: 0', 'Max-Forwards: 70', 'Contact: *', ' folded', ''),
      fc.string({ maxLength: 60 }),
    );
    fc.assert(fc.property(fc.array(line, { maxLength: 15 }), fc.string({ maxLength: 30 }), (lines, body) => {
      parsesOrTypedError(new TextEncoder().encode(`${lines.join('\r\n')}\r\n\r\n${body}`));
    }), { numRuns: 3000 });
  });

  it('mutated torture messages: only SipParseError; whatever is accepted serializes and re-parses', () => {
    fc.assert(fc.property(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 4 }), (src, muts) => {
      const m = parsesOrTypedError(mutate(src, muts));
      if (m) {
        const out = serializeSipMessage(m);
        const again = parseSipMessage(out);
        assert.deepEqual(serializeSipMessage(again), out);
      }
    }), { numRuns: 4000 });
  });
});

// ---- generated messages ----------------------------------------------------------------------------------
const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~'.split(''));
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const host = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => `${l.join('.')}.example`),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.')),
  fc.constantFrom('[2001:db8::1]', '[::1]', '[fe80::1:2]'),
);
const uriParamName = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const uri: fc.Arbitrary<SipUri> = fc.record({
  scheme: fc.constantFrom('sip' as const, 'sips' as const),
  user: fc.option(fc.stringMatching(/^[A-Za-z0-9+._~-]{1,12}$/), { nil: undefined }),
  host,
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  params: fc.uniqueArray(fc.tuple(uriParamName, fc.option(fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/), { nil: null })), { selector: ([k]) => k, maxLength: 3 }),
}).map((r) => sipUri({ scheme: r.scheme, user: r.user, host: r.host, port: r.port, params: r.params }));

const safeText = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
const nameAddr = fc.record({
  displayName: fc.option(safeText, { nil: undefined }),
  uri,
  params: fc.uniqueArray(fc.tuple(uriParamName, fc.option(token, { nil: null })), { selector: ([k]) => k, maxLength: 3 }),
}).map((r) => serializeNameAddr({ displayName: r.displayName, uri: r.uri, params: new Map(r.params) }));

const via = fc.record({ transport: fc.constantFrom('UDP', 'TCP', 'TLS'), host, port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), branch: token })
  .map((v) => serializeVia({ protocol: 'SIP', version: '2.0', transport: v.transport, host: v.host, port: v.port, params: new Map([['branch', `z9hG4bK${v.branch}`]]) }));

const extraHeader = fc.tuple(token.map((t) => `X-${t}`), safeText.map((s) => s.replace(/^[ \t]+|[ \t]+$/g, '')));

const message: fc.Arbitrary<SipMessage> = fc.record({
  isRequest: fc.boolean(),
  method: fc.oneof(fc.constantFrom('INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'UPDATE'), token),
  ruri: uri,
  status: fc.integer({ min: 100, max: 699 }),
  reason: fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(s)),
  vias: fc.array(via, { minLength: 1, maxLength: 3 }),
  from: nameAddr,
  to: nameAddr,
  callId: fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~()<>:\\"/[\]?{}-]{1,20}(@[A-Za-z0-9.-]{1,10})?$/),
  seq: fc.nat(),
  contacts: fc.array(nameAddr, { maxLength: 2 }),
  extra: fc.array(extraHeader, { maxLength: 4 }),
  body: fc.uint8Array({ maxLength: 200 }),
}).map((r) => {
  const h = new SipHeaders();
  for (const v of r.vias) h.append('Via', v);
  h.append('From', r.from).append('To', r.to).append('Call-ID', r.callId).append('CSeq', `${r.seq} ${r.method}`);
  h.append('Max-Forwards', '70');
  for (const c of r.contacts) h.append('Contact', c);
  for (const [n, v] of r.extra) h.append(n, v);
  if (r.body.length > 0) h.append('Content-Type', 'application/octet-stream');
  return r.isRequest ? new SipRequest(r.method, r.ruri, h, r.body) : new SipResponse(r.status, r.reason, h, r.body);
});

describe('generated messages', () => {
  it('serialize → parse → serialize is the identity, fields survive', () => {
    fc.assert(fc.property(message, (m) => {
      const bytes = serializeSipMessage(m);
      const p = parseSipMessage(bytes, { framing: 'stream' });
      assert.deepEqual(serializeSipMessage(p), bytes);
      assert.deepEqual(p.headers.entries(), m.headers.entries());
      assert.deepEqual(p.body, m.body);
      assert.equal(p.kind, m.kind);
      if (p.kind === 'request' && m.kind === 'request') {
        assert.equal(p.method, m.method);
        assert.equal(serializeUri(p.uri), serializeUri(m.uri));
      }
      assert.equal(p.callId(), m.callId());
      assert.deepEqual(p.from(), m.from());
      assert.deepEqual(p.vias(), m.vias());
    }), { numRuns: 1500 });
  });
});
