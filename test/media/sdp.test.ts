import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeMedia, parseSdp, serializeSdp, type SessionDescription } from '../../src/media/sdp.ts';
import { createAnswer, negotiated, rewriteForAnchor } from '../../src/media/sdp-offer-answer.ts';
import { generateCrypto, parseCryptoAttribute, serializeCryptoAttribute, srtpOptionsFromCrypto } from '../../src/media/sdes.ts';
import { SdpParseError } from '../../src/media/errors.ts';
import { SrtpContext } from '../../src/media/srtp-context.ts';
import { serializeRtp } from '../../src/media/rtp-packet.ts';
import { CardlineError } from '../../src/errors/index.ts';

const crlf = (s: string): string => `${s.trim().split('\n').map((l) => l.trim()).join('\r\n')}\r\n`;

// What a desk phone / softphone offers (shape of a baresip 1.0 offer with extra codecs).
const PHONE_OFFER = crlf(`
  v=0
  o=- 1188358489 3419413373 IN IP4 192.0.2.10
  s=-
  c=IN IP4 192.0.2.10
  t=0 0
  m=audio 20000 RTP/AVP 9 0 8 18 101 96
  b=AS:64
  a=rtpmap:9 G722/8000
  a=rtpmap:0 PCMU/8000
  a=rtpmap:8 PCMA/8000
  a=rtpmap:18 G729/8000
  a=fmtp:18 annexb=no
  a=rtpmap:101 telephone-event/8000
  a=fmtp:101 0-16
  a=rtpmap:96 opus/48000/2
  a=fmtp:96 useinbandfec=1
  a=rtcp:20001
  a=ptime:20
  a=sendrecv
  a=x-custom:kept
  m=video 0 RTP/AVP 96
`);

// A WebRTC-ish SRTP offer: ICE, rtcp-mux, ssrc, SAVPF, two crypto lines, telephone-event at 16 kHz and 8 kHz.
const SRTP_OFFER = crlf(`
  v=0
  o=carrier 4611731400430051336 2 IN IP4 198.51.100.7
  s=call
  t=0 0
  a=group:BUNDLE 0
  a=msid-semantic: WMS
  m=audio 40000 RTP/SAVPF 111 8 0 110 126
  c=IN IP4 198.51.100.7
  a=rtcp:9 IN IP4 0.0.0.0
  a=candidate:1 1 udp 2122260223 198.51.100.7 40000 typ host
  a=ice-ufrag:abcd
  a=ice-pwd:0123456789abcdef012345
  a=mid:0
  a=rtcp-mux
  a=rtcp-fb:111 transport-cc
  a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
  a=rtpmap:111 opus/48000/2
  a=rtpmap:8 PCMA/8000
  a=rtpmap:0 PCMU/8000
  a=rtpmap:110 telephone-event/48000
  a=rtpmap:126 telephone-event/8000
  a=fmtp:126 0-15
  a=ssrc:12345 cname:xyz
  a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
  a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
  a=sendonly
`);

test('parses a phone offer: origin, session lines, media sections, codecs incl. static PTs', () => {
  const sd = parseSdp(PHONE_OFFER);
  assert.equal(sd.origin.sessionId, '1188358489');
  assert.equal(sd.media.length, 2);
  const a = describeMedia(sd, 0);
  assert.deepEqual(a.codecs.map((c) => [c.payloadType, c.name, c.clockRate, c.channels]), [
    [9, 'G722', 8000, 1], [0, 'PCMU', 8000, 1], [8, 'PCMA', 8000, 1], [18, 'G729', 8000, 1], [101, 'telephone-event', 8000, 1], [96, 'opus', 48000, 2],
  ]);
  assert.equal(a.codecs.find((c) => c.payloadType === 101)?.fmtp, '0-16');
  assert.equal(a.ptime, 20);
  assert.equal(a.direction, 'sendrecv');
  assert.deepEqual(a.connection, { addrType: 'IP4', address: '192.0.2.10' });
  assert.deepEqual(a.rtcp, { port: 20001, address: null });
  assert.equal(a.secure, false);
  assert.equal(serializeSdp(sd), PHONE_OFFER); // line-preserving
  const big = parseSdp(SRTP_OFFER);
  assert.equal(big.origin.sessionId, '4611731400430051336'); // beyond 2^53, kept exactly
  const s = describeMedia(big, 0);
  assert.equal(s.secure, true);
  assert.equal(s.rtcpMux, true);
  assert.equal(s.direction, 'sendonly');
  assert.equal(s.crypto.length, 2);
});

test('rewriteForAnchor: Cardline address/ports, only PCMU/PCMA/telephone-event/8000, far-end transport removed', () => {
  const out = rewriteForAnchor(PHONE_OFFER, { address: '203.0.113.5', port: 30000, rtcpPort: 30001, origin: { sessionId: '42', sessionVersion: '1' } });
  const sd = parseSdp(out);
  assert.equal(sd.origin.address, '203.0.113.5');
  assert.equal(sd.origin.sessionId, '42');
  assert.equal(sd.lines.filter((l) => l.type === 'c').map((l) => l.value).join(), 'IN IP4 203.0.113.5');
  const m = sd.media[0]!;
  assert.equal(m.port, 30000);
  assert.equal(m.proto, 'RTP/AVP');
  assert.deepEqual(m.formats, ['0', '8', '101']); // order and numbers kept
  const vals = m.lines.map((l) => `${l.type}=${l.value}`);
  assert.deepEqual(vals, [
    'b=AS:64', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
    'a=ptime:20', 'a=sendrecv', 'a=x-custom:kept', 'a=rtcp:30001',
  ]);
  assert.equal(sd.media[1]!.port, 0);
  assert.equal(sd.media[1]!.lines.length, 0);
  assert.ok(!out.includes('192.0.2.10'));
  assert.ok(out.endsWith('\r\n'));
});

test('rewriteForAnchor: SRTP leg gets RTP/SAVP and Cardline keys; plain leg loses crypto; ICE/DTLS/SSRC/mux gone', () => {
  const mine = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
  const secure = parseSdp(rewriteForAnchor(PHONE_OFFER, { address: '203.0.113.5', port: 30002, srtp: { crypto: [mine] } }));
  assert.equal(secure.media[0]!.proto, 'RTP/SAVP');
  const info = describeMedia(secure, 0);
  assert.equal(info.crypto.length, 1);
  assert.deepEqual(info.crypto[0], mine);
  const plain = rewriteForAnchor(SRTP_OFFER, { address: '2001:db8::5', port: 30004, direction: 'sendrecv' });
  const sd = parseSdp(plain);
  assert.equal(sd.origin.address, '198.51.100.7'); // origin untouched without the option
  assert.match(plain, /\r\nc=IN IP6 2001:db8::5\r\n/);
  assert.equal(sd.media[0]!.proto, 'RTP/AVP');
  assert.deepEqual(sd.media[0]!.formats, ['8', '0', '126']); // opus and telephone-event/48000 removed
  for (const gone of ['crypto', 'candidate', 'ice-', 'rtcp-mux', 'ssrc', 'extmap', 'rtcp-fb', 'BUNDLE', 'msid', 'mid:', 'rtcp:9', '110', 'opus']) {
    assert.ok(!plain.includes(gone), gone);
  }
  assert.equal(describeMedia(sd, 0).direction, 'sendrecv');
});

test('rewriteForAnchor refuses an offer with nothing maskable (SIP 488)', () => {
  const g722 = PHONE_OFFER.replace('RTP/AVP 9 0 8 18 101 96', 'RTP/AVP 9 18 101');
  assert.throws(() => rewriteForAnchor(g722, { address: '203.0.113.5', port: 30000 }), (e: unknown) => e instanceof CardlineError && e.code === 'sdp-not-acceptable' && e.status === 488);
  const noAudio = PHONE_OFFER.replace('m=audio 20000', 'm=audio 0');
  assert.throws(() => rewriteForAnchor(noAudio, { address: '203.0.113.5', port: 30000 }), (e: unknown) => e instanceof CardlineError && e.code === 'sdp-not-acceptable');
  assert.throws(() => rewriteForAnchor(PHONE_OFFER, { address: '203.0.113.5', port: 70000 }), RangeError);
});

test('createAnswer + negotiated: plain RTP, offerer payload types, mirrored direction', () => {
  const offer = parseSdp(PHONE_OFFER);
  const { answer, negotiated: n } = createAnswer(offer, { address: '203.0.113.5', port: 30010, rtcpPort: 30011, origin: { sessionId: '7', sessionVersion: '1' } });
  const text = serializeSdp(answer);
  assert.equal(answer.media.length, 2);
  assert.equal(answer.media[1]!.port, 0);
  assert.deepEqual(answer.media[0]!.formats, ['0', '101']);
  assert.match(text, /a=fmtp:101 0-16\r\n/);
  assert.equal(n.codec, 'PCMU');
  assert.equal(n.offerer.codecPayloadType, 0);
  assert.equal(n.offerer.telephoneEventPayloadType, 101);
  assert.deepEqual([n.offerer.address, n.offerer.port, n.offerer.rtcpPort], ['192.0.2.10', 20000, 20001]);
  assert.deepEqual([n.answerer.address, n.answerer.port, n.answerer.rtcpPort], ['203.0.113.5', 30010, 30011]);
  assert.equal(n.ptime, 20);
  assert.equal(n.srtp, null);
  assert.equal(n.offererSends && n.answererSends, true);
  assert.deepEqual(negotiated(PHONE_OFFER, text), n);
  // Cardline's own preference order.
  const pcma = createAnswer(offer, { address: '203.0.113.5', port: 30010, origin: { sessionId: '7', sessionVersion: '1' }, codecs: ['PCMA', 'PCMU'], preferLocal: true });
  assert.equal(pcma.negotiated.codec, 'PCMA');
  assert.equal(pcma.negotiated.offerer.codecPayloadType, 8);
});

test('createAnswer + negotiated: SDES — same tag, fresh key, keys usable per direction', () => {
  const offer = parseSdp(SRTP_OFFER);
  const { answer, negotiated: n } = createAnswer(offer, { address: '203.0.113.5', port: 30020, origin: { sessionId: '9', sessionVersion: '1' } });
  assert.equal(answer.media[0]!.proto, 'RTP/SAVP');
  assert.equal(n.codec, 'PCMA'); // the offerer's first G.711
  assert.equal(n.offerer.telephoneEventPayloadType, 126);
  assert.equal(n.srtp?.suite, 'AES_CM_128_HMAC_SHA1_80');
  assert.equal(n.answerer.crypto?.tag, 1);
  assert.notDeepEqual(n.answerer.crypto?.keys[0]?.keySalt, n.offerer.crypto?.keys[0]?.keySalt);
  // sendonly offer → recvonly answer (RFC 3264 §6.1)
  assert.equal(n.answerer.direction, 'recvonly');
  assert.equal(n.offererSends, true);
  assert.equal(n.answererSends, false);
  assert.equal(n.offerer.rtcpMux, true);
  assert.equal(n.offerer.rtcpPort, 40000);
  // The offerer protects with its key; Cardline unprotects with the same attribute.
  const pkt = serializeRtp({ marker: false, payloadType: 8, sequenceNumber: 1, timestamp: 0, ssrc: 1, csrcs: [], extension: null, payload: new Uint8Array(160), paddingLength: 0 });
  const sent = new SrtpContext(srtpOptionsFromCrypto(parseCryptoAttribute('1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'))).protectRtp(pkt);
  assert.deepEqual(new SrtpContext(srtpOptionsFromCrypto(n.offerer.crypto!)).unprotectRtp(sent), pkt);
  // Policies.
  assert.throws(() => createAnswer(offer, { address: '203.0.113.5', port: 30020, origin: { sessionId: '9', sessionVersion: '1' }, srtp: 'off' }), CardlineError);
  assert.throws(() => createAnswer(parseSdp(PHONE_OFFER), { address: '203.0.113.5', port: 30020, origin: { sessionId: '9', sessionVersion: '1' }, srtp: 'required' }), CardlineError);
  assert.equal(createAnswer(offer, { address: '203.0.113.5', port: 30020, origin: { sessionId: '9', sessionVersion: '1' }, suites: ['AES_CM_128_HMAC_SHA1_32'] }).negotiated.answerer.crypto?.tag, 2);
});

test('negotiated refuses inconsistent answers', () => {
  const offer = parseSdp(SRTP_OFFER);
  const { answer } = createAnswer(offer, { address: '203.0.113.5', port: 30020, origin: { sessionId: '9', sessionVersion: '1' } });
  const clone = (): SessionDescription => parseSdp(serializeSdp(answer));
  const cases: Array<[string, (a: SessionDescription) => void]> = [
    ['refused stream', (a) => { a.media[0]!.port = 0; }],
    ['wrong tag', (a) => { a.media[0]!.lines = a.media[0]!.lines.map((l) => (l.value.startsWith('crypto:') ? { ...l, value: l.value.replace('crypto:1 ', 'crypto:9 ') } : l)); }],
    ['no crypto', (a) => { a.media[0]!.lines = a.media[0]!.lines.filter((l) => !l.value.startsWith('crypto:')); }],
    ['AVP answer', (a) => { a.media[0]!.proto = 'RTP/AVP'; }],
    ['no common codec', (a) => { a.media[0]!.formats = ['18']; }],
    ['extra section', (a) => { a.media.push({ media: 'video', port: 0, portCount: null, proto: 'RTP/AVP', formats: ['96'], lines: [] }); }],
  ];
  for (const [name, mutate] of cases) {
    const a = clone();
    mutate(a);
    assert.throws(() => negotiated(offer, a), (e: unknown) => e instanceof CardlineError && e.code === 'sdp-not-acceptable', name);
  }
  const second = generateCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
  const two = clone();
  two.media[0]!.lines.push({ type: 'a', value: `crypto:${serializeCryptoAttribute(second)}` });
  assert.throws(() => negotiated(offer, two), CardlineError);
});

test('malformed SDP gives sdp-malformed with a line number', () => {
  const cases: Array<[string, number | null]> = [
    ['', null],
    ['v=0\r\n', null],
    ['v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n', 1],
    ['v=0\r\ns=-\r\no=- 1 1 IN IP4 1.2.3.4\r\n', 2],
    ['v=0\r\no=- 1 IN IP4 1.2.3.4\r\ns=-\r\n', 2],
    ['v=0\r\no=- x 1 IN IP4 1.2.3.4\r\ns=-\r\n', 2],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n', 5],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 1000 RTP/AVP 128\r\n', 5],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 1000 RTP/AVP\r\n', 5],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 1000/0 RTP/AVP 0\r\n', 5],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4\r\n', 4],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nwhat\r\n', 5],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nX=1\r\n', 5],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n\r\nt=0 0\r\n', 5],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1000 RTP/AVP 0\r\n', null],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nv=0\r\n', 5],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\na=x\0y\r\n', 5],
    [`v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n${'a=x\r\n'.repeat(1000)}`, null],
    [`v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=${'x'.repeat(70000)}\r\n`, null],
  ];
  for (const [text, line] of cases) {
    assert.throws(() => parseSdp(text), (e: unknown) => e instanceof SdpParseError && e.code === 'sdp-malformed' && e.offset === line, JSON.stringify(text.slice(0, 80)));
  }
  // Attribute-level problems surface when the section is interpreted.
  const badMap = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 1000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n');
  assert.throws(() => describeMedia(badMap, 0), SdpParseError);
  // LF-only line ends are accepted.
  assert.equal(parseSdp(PHONE_OFFER.replace(/\r\n/g, '\n')).media.length, 2);
});

test('fuzz: mutated and random SDP either parses (and rewrites) or throws typed errors only', () => {
  const lines = PHONE_OFFER.trim().split('\r\n').concat(SRTP_OFFER.trim().split('\r\n'));
  const arbLine = fc.oneof(fc.constantFrom(...lines), fc.string({ maxLength: 40 }), fc.constantFrom('m=audio 1 RTP/AVP 0', 'c=IN IP4 x', 'a=rtpmap:0 PCMU/8000', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA', 'a=rtcp:x'));
  const arb = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.array(arbLine, { maxLength: 30 }).map((ls) => ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', ...ls].join('\r\n')),
  );
  fc.assert(fc.property(arb, (text) => {
    try {
      const sd = parseSdp(text);
      assert.equal(serializeSdp(parseSdp(serializeSdp(sd))), serializeSdp(sd));
      try {
        rewriteForAnchor(sd, { address: '203.0.113.5', port: 30000 });
        createAnswer(sd, { address: '203.0.113.5', port: 30000, origin: { sessionId: '1', sessionVersion: '1' } });
      } catch (e) {
        assert.ok(e instanceof CardlineError, String(e));
        assert.ok(['sdp-malformed', 'sdes-malformed', 'sdp-not-acceptable'].includes(e.code), e.code);
      }
    } catch (e) {
      assert.ok(e instanceof SdpParseError, String(e));
    }
  }), { numRuns: 1500 });
});
