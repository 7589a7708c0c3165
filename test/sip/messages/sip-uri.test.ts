import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  escapeUser, parseNameAddr, parseUri, serializeNameAddr, serializeUri, sipUri, SipParseError, unescapeUriComponent,
  uriEquals, parseVia, serializeVia, parseAuthHeader, serializeAuthHeader, parseMediaType, type SipUri,
} from '../../../src/sip/messages/index.ts';

const sip = (s: string) => {
  const u = parseUri(s);
  assert.equal(u.kind, 'sip');
  return u as SipUri;
};

describe('SIP URI parse/serialize (RFC 3261 §19.1)', () => {
  it('parses user, password, host, port, params and headers', () => {
    const u = sip('sips:alice:secret@atlanta.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
    assert.equal(u.scheme, 'sips');
    assert.equal(u.user, 'alice');
    assert.equal(u.password, 'secret');
    assert.equal(u.host, 'atlanta.com');
    assert.equal(u.port, 5061);
    assert.deepEqual([...u.params], [['transport', 'tcp'], ['lr', null], ['maddr', '239.255.255.1']]);
    assert.deepEqual(u.headers, [['subject', 'project%20x'], ['priority', 'urgent']]);
    assert.equal(serializeUri(u), 'sips:alice:secret@atlanta.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
  });

  it('IPv6 references and IPv4 hosts', () => {
    const u = sip('sip:[2001:db8::10]:5070;transport=udp');
    assert.equal(u.host, '[2001:db8::10]');
    assert.equal(u.port, 5070);
    assert.equal(sip('sip:bob@192.0.2.4').host, '192.0.2.4');
    assert.throws(() => parseUri('sip:[2001:db8::zz]'), SipParseError);
    assert.throws(() => parseUri('sip:[2001:db8::1'), SipParseError);
  });

  it('tel: and other schemes stay opaque', () => {
    const t = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    assert.deepEqual(t, { kind: 'absolute', scheme: 'tel', value: '+1-201-555-0123;phone-context=example.com' });
    assert.equal(serializeUri(t), 'tel:+1-201-555-0123;phone-context=example.com');
  });

  it('refuses malformed URIs with typed errors', () => {
    for (const bad of ['', 'sip:', 'sip:@host', 'sip:user@', 'sip:host:99999', 'sip:host:', 'sip:ho st', 'sip:a@b;=x',
      'sip:%zz@host', 'sip:host;p=%G1', '<sip:a@b>', 'tel:', 'sip:host?noequals', 'sip:-bad-.com']) {
      assert.throws(() => parseUri(bad), SipParseError, bad);
    }
  });

  it('equivalence follows §19.1.4', () => {
    const eq = [
      ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
      ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
      ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
      ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ];
    const ne = [
      ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
      ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
      ['sip:a@b', 'sips:a@b'],
      ['sip:a@b', 'tel:+123'],
    ];
    for (const [a, b] of eq) assert.ok(uriEquals(parseUri(a!), parseUri(b!)), `${a} == ${b}`);
    for (const [a, b] of ne) assert.ok(!uriEquals(parseUri(a!), parseUri(b!)), `${a} != ${b}`);
  });

  it('builds URIs and escapes user parts', () => {
    const u = sipUri({ user: escapeUser('+1 555/ä'), host: '127.0.0.1', port: 5060, params: { transport: 'tcp' } });
    assert.equal(serializeUri(u), 'sip:+1%20555/%C3%A4@127.0.0.1:5060;transport=tcp');
    assert.equal(unescapeUriComponent(u.user!), '+1 555/ä');
    assert.throws(() => sipUri({ host: 'bad host' }), SipParseError);
  });
});

describe('name-addr, Via, auth headers, media types', () => {
  it('name-addr forms and header parameters', () => {
    const a = parseNameAddr('"Alice \\"A\\"" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774;x="q;v"', 'From');
    assert.equal(a.displayName, 'Alice "A"');
    assert.equal(a.params.get('tag'), '1928301774');
    assert.equal(a.params.get('x'), '"q;v"');
    assert.equal(serializeNameAddr(a), '"Alice \\"A\\"" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774;x="q;v"');
    const b = parseNameAddr('sip:bob@biloxi.com;tag=a6c85cf', 'To');
    assert.equal(b.uri.kind === 'sip' && b.uri.params.size, 0, 'addr-spec params belong to the header');
    assert.equal(b.params.get('tag'), 'a6c85cf');
    assert.throws(() => parseNameAddr('sip:bob@biloxi.com', 'Route', { requireBrackets: true }), SipParseError);
    assert.throws(() => parseNameAddr('<sip:bob@biloxi.com> junk', 'To'), SipParseError);
    assert.equal(serializeNameAddr({ displayName: 'a\x01b', uri: parseUri('sip:x@y'), params: new Map() }), '"a\\\x01b" <sip:x@y>');
  });

  it('Via with received/rport, IPv6 and bad typed parameters', () => {
    const v = parseVia('SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bK77;rport;received=2001:db8::9');
    assert.equal(v.host, '[2001:db8::9]');
    assert.equal(v.port, 5070);
    assert.equal(v.params.get('rport'), null);
    assert.equal(serializeVia(v), 'SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bK77;rport;received=2001:db8::9');
    for (const bad of ['SIP/2.0/UDP', 'SIP/2.0 UDP host', 'SIP/2.0/UDP host;received=notanip', 'SIP/2.0/UDP host;rport=70000',
      'SIP/2.0/UDP host:0x10', 'SIP/2.0/UDP host;ttl=256', 'SIP/2.0/UDP host;branch']) {
      assert.throws(() => parseVia(bad), SipParseError, bad);
    }
  });

  it('Digest challenges and credentials', () => {
    const c = parseAuthHeader('Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5', 'WWW-Authenticate');
    assert.equal(c.scheme, 'Digest');
    assert.equal(c.params.get('qop'), 'auth,auth-int');
    assert.equal(c.params.get('opaque'), '');
    assert.equal(c.params.get('stale'), 'FALSE');
    assert.equal(serializeAuthHeader(c, 'challenge'),
      'Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5');
    assert.throws(() => parseAuthHeader('Digest realm="x', 'WWW-Authenticate'), SipParseError);
    assert.throws(() => parseAuthHeader('Digest realm', 'WWW-Authenticate'), SipParseError);
  });

  it('media types', () => {
    const m = parseMediaType('Application/SDP ; charset="utf-8"');
    assert.equal(m.type, 'application');
    assert.equal(m.subtype, 'sdp');
    assert.equal(m.params.get('charset'), '"utf-8"');
    assert.throws(() => parseMediaType('application'), SipParseError);
  });
});
