import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatSipIdentity, parseSipIdentity, sameSipIdentity } from '../../../src/sip/index.ts';

describe('SIP identity (user + host, RFC 3261 §19.1.4)', () => {
  it('matches the same user and host whatever the port, parameters, scheme or host case', () => {
    const id = 'sip:alice@PBX.example.com';
    for (const uri of ['sip:alice@pbx.example.com', 'sip:alice@pbx.example.com:5080;transport=tcp', 'sips:alice@PBX.EXAMPLE.COM',
      '<sip:alice@pbx.example.com;lr>', 'sip:%61lice@pbx.example.com']) {
      assert.equal(sameSipIdentity(id, uri), true, uri);
    }
  });

  it('the user part is case-sensitive, the host must be the same; unparseable never matches', () => {
    for (const uri of ['sip:Alice@pbx.example.com', 'sip:alice@pbx2.example.com', 'sip:pbx.example.com', 'tel:+441234', '', 'sip:alice@', 'garbage']) {
      assert.equal(sameSipIdentity('sip:alice@pbx.example.com', uri), false, uri);
    }
    assert.equal(sameSipIdentity('not a uri', 'sip:alice@pbx.example.com'), false);
  });

  it('refuses identities without a user, with a password, of another scheme or too long', () => {
    for (const bad of ['sip:pbx.example.com', 'sip:alice:pw@pbx.example.com', 'tel:+441234', 'mailto:a@b', `sip:${'a'.repeat(300)}@h`]) {
      assert.throws(() => parseSipIdentity(bad), { name: 'SipParseError' }, bad);
    }
  });

  it('the canonical form parses back to the same identity (fast-check)', () => {
    const user = fc.stringMatching(/^[A-Za-z0-9%._~+-]{1,20}$/).filter((u) => !/%(?![0-9A-Fa-f]{2})/.test(u));
    const host = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,2}$/).filter((h) => !h.endsWith('-') && !/-\./.test(h));
    fc.assert(fc.property(user, host, (u, h) => {
      let id: ReturnType<typeof parseSipIdentity>;
      try { id = parseSipIdentity(`sip:${u}@${h}`); } catch { return true; }
      const again = parseSipIdentity(formatSipIdentity(id));
      assert.deepEqual(again, id);
      assert.equal(sameSipIdentity(formatSipIdentity(id), `sips:${u}@${h.toUpperCase()}:5061`), true);
      return true;
    }));
  });
});
