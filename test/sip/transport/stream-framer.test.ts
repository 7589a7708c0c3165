import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StreamFramer, type FramerEvent } from '../../../src/sip/transport/index.ts';
import { dec, enc, rawRequest } from '../support/messages.ts';

const msgs = [
  rawRequest({ via: 'SIP/2.0/TCP a;branch=z9hG4bK1', callId: 'one' }),
  rawRequest({ method: 'INFO', via: 'SIP/2.0/TCP a;branch=z9hG4bK2', callId: 'two', body: 'Signal=5\r\nDuration=160\r\n', extra: 'Content-Type: application/dtmf-relay\r\n' }),
  rawRequest({ via: 'SIP/2.0/TCP a;branch=z9hG4bK3', callId: 'three', body: 'x'.repeat(1000) }),
];
const all = enc(msgs.join(''));
const texts = (evs: FramerEvent[]) => evs.map((e) => (e.kind === 'message' ? dec(e.bytes) : e.kind));

describe('StreamFramer (RFC 3261 §18.3)', () => {
  it('several messages in one read', () => {
    assert.deepEqual(texts(new StreamFramer(65535).push(all)), msgs);
  });

  it('one byte per read', () => {
    const f = new StreamFramer(65535);
    const out: FramerEvent[] = [];
    for (const b of all) out.push(...f.push(new Uint8Array([b])));
    assert.deepEqual(texts(out), msgs);
    assert.equal(f.buffered, 0);
  });

  it('any split of the stream yields the same messages', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 40 }), (cuts) => {
      const f = new StreamFramer(65535);
      const out: FramerEvent[] = [];
      let at = 0;
      for (const c of cuts) {
        out.push(...f.push(all.subarray(at, Math.min(all.length, at + c))));
        at = Math.min(all.length, at + c);
      }
      out.push(...f.push(all.subarray(at)));
      assert.deepEqual(texts(out), msgs);
    }), { numRuns: 300 });
  });

  it('RFC 5626 keep-alive ping between messages; leading CRLFs ignored', () => {
    const f = new StreamFramer(65535);
    assert.deepEqual(texts(f.push(enc(`\r\n\r\n${msgs[0]}\r\n${msgs[1]}`))), ['ping', msgs[0], msgs[1]]);
    assert.deepEqual(texts(f.push(enc('\r\n'))), []);
    assert.deepEqual(texts(f.push(enc('\r\n'))), ['ping']);
  });

  it('framing errors are terminal: missing, bad, conflicting Content-Length; oversize', () => {
    const cases: Array<[string, RegExp]> = [
      ['OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n', /Missing Content-Length/],
      ['OPTIONS sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n', /bad value/],
      ['OPTIONS sip:a SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\n', /Multiple/],
      ['OPTIONS sip:a SIP/2.0\r\nContent-Length: 99999\r\n\r\n', /Too Large/],
    ];
    for (const [text, re] of cases) {
      const f = new StreamFramer(4096);
      const evs = f.push(enc(text + msgs[0]));
      assert.equal(evs.length, 1);
      assert.equal(evs[0]!.kind, 'error');
      assert.match(evs[0]!.kind === 'error' ? evs[0]!.error.message : '', re);
      assert.deepEqual(f.push(enc(msgs[0]!)), [], 'nothing after a framing error');
    }
    const big = new StreamFramer(1024);
    const evs = big.push(enc(`OPTIONS sip:a SIP/2.0\r\nX: ${'a'.repeat(2000)}`));
    assert.equal(evs[0]?.kind, 'error');
  });
});
