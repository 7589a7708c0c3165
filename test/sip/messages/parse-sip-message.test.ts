import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createResponse, parseSipMessage, serializeSipMessage, SipParseError, SipRequest, SipResponse, unescapeUriComponent,
  uriEquals, parseUri, type SipMessage,
} from '../../../src/sip/messages/index.ts';
import * as F from './fixtures/rfc4475.ts';

const text = (m: SipMessage) => new TextDecoder().decode(serializeSipMessage(m));
const req = (s: string) => {
  const m = parseSipMessage(F.crlf(s));
  assert.ok(m instanceof SipRequest);
  return m;
};

describe('RFC 4475 valid torture messages', () => {
  it('wsinv: folding, odd spacing, compact forms, escaped quotes', () => {
    const m = req(F.wsinv);
    assert.equal(m.method, 'INVITE');
    assert.equal(m.uri.kind === 'sip' && m.uri.params.has('unknownparam'), true);
    assert.equal(m.toTag(), '1918181833n');
    assert.equal(m.fromTag(), '98asjd8');
    assert.equal(m.from().displayName, 'J Rosenberg \\"');
    assert.equal(m.maxForwards(), 68);
    assert.deepEqual(m.cseq(), { seq: 9, method: 'INVITE' });
    assert.equal(m.callId(), 'wsinv.ndaksdj@192.0.2.1');
    assert.deepEqual(m.vias().map((v) => [v.transport, v.host, v.params.get('branch')]), [
      ['UDP', '192.0.2.2', '390skdjuw'], ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'], ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    const [contact] = m.contacts();
    assert.equal(contact?.displayName, 'Quoted string ""');
    assert.deepEqual([...contact!.params], [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
    const route = m.routes()[0]?.uri;
    assert.equal(route?.kind === 'sip' ? route.host : undefined, 'services.example.com');
    assert.equal(m.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(m.headers.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    assert.equal(m.headers.get('Subject'), '');
    assert.equal(m.contentType()?.subtype, 'sdp');
    assert.equal(m.body.length, 150);
  });

  it('intmeth: every token character, control characters in quoted-pairs, UTF-8 values', () => {
    const m = req(F.intmeth);
    assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    assert.ok(m.uri.kind === 'sip');
    assert.equal(m.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(m.uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(m.to().displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(m.from().displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(m.fromTag(), "_token~1'+`*%!-.");
    assert.equal(m.from().params.get("fromparam''~+*_!.-%"), '"работающий"');
    assert.equal(m.callId(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    assert.equal(m.maxForwards(), 255);
    assert.equal(m.headers.get("extensionHeader-!.%*+_`'~"), '\ufeff大停電');
  });

  it('esc01 / escnull / esc02: escapes stay on the wire, compare unescaped; % that is not an escape', () => {
    const m = req(F.esc01);
    assert.ok(m.uri.kind === 'sip');
    assert.equal(unescapeUriComponent(m.uri.user!), 'sips:user@example.com');
    assert.ok(uriEquals(m.to().uri, parseUri('sip:user@example.com')));
    assert.equal(m.callId(), 'esc01.239409asdfakjkn23onasd0-3234');
    assert.ok(text(m).includes('<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>'));
    const n = req(F.escnull);
    assert.equal(n.contacts().length, 2);
    assert.equal(n.expires(), undefined);
    const e = req(F.esc02);
    assert.equal(e.method, 'RE%47IST%45R');
    assert.equal(e.to().displayName, '%Z%45');
    assert.equal(e.contacts().length, 2, 'C%6Fntact is an unknown header, not Contact');
    assert.equal(e.headers.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
    assert.equal(e.topVia().params.get('rport'), '5060');
  });

  it('lwsdisp, semiuri, transports, longreq', () => {
    assert.equal(req(F.lwsdisp).from().displayName, 'caller');
    const s = req(F.semiuri);
    assert.ok(s.uri.kind === 'sip');
    assert.equal(s.uri.user, 'user;par=u%40example.net');
    assert.equal(s.uri.host, 'example.com');
    assert.equal(s.headers.getAll('Accept').length, 6, 'folded list header split into its elements');
    assert.deepEqual(req(F.transports).vias().map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    const l = req(F.longreq);
    assert.equal(l.vias().length, 41);
    assert.ok(l.to().displayName!.length > 600);
    assert.ok(l.callId().length > 1200);
  });

  it('dblreq: octets after Content-Length in a datagram are ignored', () => {
    const m = req(F.dblreq);
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.body.length, 0);
    const contact = m.contacts()[0]?.uri;
    assert.equal(contact?.kind === 'sip' ? contact.host : undefined, 'host.example.com');
  });

  it('unreason / noreason: UTF-8 and empty reason phrases', () => {
    const u = parseSipMessage(F.crlf(F.unreason));
    assert.ok(u instanceof SipResponse);
    assert.equal(u.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
    assert.equal(u.body.length, 154);
    const n = parseSipMessage(F.crlf(F.noreason));
    assert.ok(n instanceof SipResponse);
    assert.equal(n.status, 100);
    assert.equal(n.reason, '');
  });

  it('every valid fixture round-trips: serialize(parse(x)) is a fixed point', () => {
    for (const [name, t] of Object.entries(F.VALID)) {
      const once = serializeSipMessage(parseSipMessage(F.crlf(t)));
      const twice = serializeSipMessage(parseSipMessage(once));
      assert.deepEqual(twice, once, name);
    }
  });
});

describe('RFC 4475 invalid torture messages', () => {
  for (const [name, [t, status]] of Object.entries(F.INVALID)) {
    it(`${name} → SipParseError ${status} with a reason that echoes no value`, () => {
      let caught: unknown;
      try {
        parseSipMessage(F.crlf(t));
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof SipParseError, `${name} must be refused`);
      assert.equal(caught.sipStatus, status);
      assert.doesNotMatch(caught.reason, /[\r\n]/);
      const callId = /^(?:Call-ID|i):\s*(\S+)/im.exec(t)?.[1];
      if (callId) assert.ok(!caught.message.includes(callId), 'the Call-ID is not echoed');
    });
  }
});

describe('framing and limits', () => {
  const options = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n';
  const enc = (s: string) => new TextEncoder().encode(s);

  it('Content-Length is required over a stream, optional in a datagram', () => {
    assert.throws(() => parseSipMessage(enc(`${options}\r\nhello`), { framing: 'stream' }), /Missing Content-Length/);
    const m = parseSipMessage(enc(`${options}\r\nhello`));
    assert.equal(new TextDecoder().decode(m.body), 'hello');
  });

  it('leading CRLFs are skipped (§7.5); bare LF line ends are accepted; bare CR is not', () => {
    assert.equal(parseSipMessage(enc(`\r\n\r\n${options}Content-Length: 0\r\n\r\n`)).kind, 'request');
    assert.equal(parseSipMessage(enc(`${options}Content-Length: 0\r\n\r\n`.replace(/\r\n/g, '\n'))).kind, 'request');
    assert.throws(() => parseSipMessage(enc(`${options}X: a\rb\r\n\r\n`)), SipParseError);
  });

  it('size, header-count and UTF-8 limits are typed errors', () => {
    const big = enc(`${options}X: ${'a'.repeat(70000)}\r\n\r\n`);
    assert.throws(() => parseSipMessage(big), (e: unknown) => e instanceof SipParseError && e.sipStatus === 513);
    assert.throws(() => parseSipMessage(enc(`${options}${'X: 1\r\n'.repeat(600)}\r\n`)), /Too many header lines/);
    const bad = new Uint8Array([...enc(`${options}X: `), 0xff, 0xfe, ...enc('\r\n\r\n')]);
    assert.throws(() => parseSipMessage(bad), /not UTF-8/);
    assert.throws(() => parseSipMessage(enc('\r\n\r\n')), /Empty message/);
    assert.throws(() => parseSipMessage(enc(options)), /not terminated/);
  });
});

describe('serializer', () => {
  it('writes canonical names, one field per line, CRLF, a derived Content-Length', () => {
    const m = req(F.esc01);
    const out = text(m);
    assert.ok(out.startsWith('INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\r\n'));
    assert.ok(out.includes('\r\nCall-ID: esc01.239409asdfakjkn23onasd0-3234\r\n'));
    assert.ok(out.includes('\r\nContent-Type: application/sdp\r\n'));
    assert.ok(out.includes('\r\nContent-Length: 150\r\n\r\nv=0'));
    m.body = new TextEncoder().encode('x');
    assert.ok(text(m).endsWith('Content-Length: 1\r\n\r\nx'));
  });

  it('refuses header injection and invalid start lines', () => {
    const m = req(F.lwsdisp);
    assert.throws(() => m.headers.append('Subject', 'hi\r\nVia: evil'), TypeError);
    assert.throws(() => m.headers.append('Bad Name', 'x'), TypeError);
    assert.throws(() => m.headers.set('Content-Length', '5'), TypeError);
    m.method = 'BAD METHOD';
    assert.throws(() => serializeSipMessage(m), /not valid/);
    const r = new SipResponse(200, 'OK\r\nX: y');
    assert.throws(() => serializeSipMessage(r), /not valid/);
  });
});

describe('createResponse (§8.2.6)', () => {
  it('copies Via list, From, Call-ID, CSeq; adds a To tag except on 100; copies Timestamp on 100', () => {
    const m = req(F.transports);
    m.headers.append('Timestamp', '54');
    const r = createResponse(m, 200, { toTag: 'abc' });
    assert.equal(r.headers.getAll('Via').length, 5);
    assert.equal(r.toTag(), 'abc');
    assert.equal(r.headers.get('From'), m.headers.get('From'));
    assert.equal(r.callId(), m.callId());
    assert.deepEqual(r.cseq(), m.cseq());
    assert.equal(r.headers.get('Timestamp'), undefined);
    const t = createResponse(m, 100);
    assert.equal(t.toTag(), undefined);
    assert.equal(t.headers.get('Timestamp'), '54');
    assert.equal(t.reason, 'Trying');
    const reparsed = parseSipMessage(serializeSipMessage(r));
    assert.equal(reparsed.kind, 'response');
  });

  it('keeps an existing To tag', () => {
    const m = req(F.lwsruri.replace(' sip:user@example.com; lr ', ' sip:user@example.com '));
    assert.equal(createResponse(m, 486).toTag(), '3xfe-9921883-z9f');
  });
});
