import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDtmfInfoType, parseInfoDtmf } from '../../src/gateway/info-dtmf.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('SIP INFO DTMF bodies', () => {
  it('reads application/dtmf-relay and application/dtmf', () => {
    assert.equal(parseInfoDtmf('application/dtmf-relay', enc('Signal=5\r\nDuration=160\r\n')), '5');
    assert.equal(parseInfoDtmf('Application/DTMF-Relay; charset=utf-8', enc('Duration=100\nSignal= #\n')), '#');
    assert.equal(parseInfoDtmf('application/dtmf-relay', enc('Signal=10\r\n')), '*');
    assert.equal(parseInfoDtmf('application/dtmf-relay', enc('Signal=11\r\n')), '#');
    assert.equal(parseInfoDtmf('application/dtmf-relay', enc('Signal=d\r\n')), 'D');
    assert.equal(parseInfoDtmf('application/dtmf', enc('7')), '7');
    assert.equal(parseInfoDtmf('application/dtmf', enc(' 0\r\n')), '0');
  });

  it('rejects other types, missing or bad signals, and oversized bodies', () => {
    assert.equal(parseInfoDtmf('application/sdp', enc('Signal=5')), null);
    assert.equal(parseInfoDtmf(undefined, enc('Signal=5')), null);
    assert.equal(parseInfoDtmf('application/dtmf-relay', enc('Duration=160')), null);
    assert.equal(parseInfoDtmf('application/dtmf-relay', enc('Signal=55')), null);
    assert.equal(parseInfoDtmf('application/dtmf-relay', enc('Signal=X')), null);
    assert.equal(parseInfoDtmf('application/dtmf', enc('')), null);
    assert.equal(parseInfoDtmf('application/dtmf-relay', enc(`Signal=5\r\n${'x'.repeat(300)}`)), null);
    assert.equal(isDtmfInfoType('application/dtmf-relay'), true);
    assert.equal(isDtmfInfoType('text/plain'), false);
  });
});
