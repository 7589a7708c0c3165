import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { createResponse, serializeSipMessage, type SipRequest, type SipResponse } from '../../../src/sip/messages/index.ts';
import {
  SipTransportLayer, TcpTransport, TlsTransport, UdpTransport, type Flow, type Transport,
} from '../../../src/sip/transport/index.ts';
import { dec, delay, enc, parse, rawRequest, testRequest, waitFor } from '../support/messages.ts';
import { selfSignedCert } from '../support/tls-cert.ts';

interface Inbox {
  requests: Array<{ m: SipRequest; flow: Flow }>;
  responses: Array<{ m: SipResponse; flow: Flow }>;
  next(kind: 'request'): Promise<{ m: SipRequest; flow: Flow }>;
  next(kind: 'response'): Promise<{ m: SipResponse; flow: Flow }>;
}

const layers: SipTransportLayer[] = [];
after(async () => {
  await Promise.all(layers.map((l) => l.close()));
});

async function layer(...transports: Transport[]): Promise<{ layer: SipTransportLayer; inbox: Inbox }> {
  const l = new SipTransportLayer({ transports, resolve: async () => '127.0.0.1' });
  layers.push(l);
  const waiting: Array<{ kind: string; fn: (v: never) => void }> = [];
  const inbox = {
    requests: [] as Inbox['requests'],
    responses: [] as Inbox['responses'],
    next(kind: string) {
      return waitFor((push) => waiting.push({ kind, fn: push as (v: never) => void }));
    },
  } as Inbox;
  const deliver = (kind: string, v: unknown) => {
    const i = waiting.findIndex((w) => w.kind === kind);
    if (i >= 0) waiting.splice(i, 1)[0]!.fn(v as never);
  };
  l.setUser({
    onRequest: (m, flow) => {
      inbox.requests.push({ m, flow });
      deliver('request', { m, flow });
    },
    onResponse: (m, flow) => {
      inbox.responses.push({ m, flow });
      deliver('response', { m, flow });
    },
  });
  await l.start();
  return { layer: l, inbox };
}

function udpPeer() {
  const sock = createSocket('udp4');
  const got: Array<{ text: string; port: number }> = [];
  const ready = new Promise<number>((r) => sock.bind(0, '127.0.0.1', () => r(sock.address().port)));
  sock.on('message', (m, rinfo) => got.push({ text: dec(m), port: rinfo.port }));
  return {
    ready, got, send: (text: string, port: number) => new Promise<void>((r) => sock.send(enc(text), port, '127.0.0.1', () => r())),
    close: () => sock.close(),
    next: async (ms = 2000) => {
      const start = got.length;
      const t0 = Date.now();
      while (got.length === start && Date.now() - t0 < ms) await delay(10);
      return got[start];
    },
  };
}

describe('UDP transport + transport layer', () => {
  it('request and response between two layers; Via stamped, received/rport filled (§18.2.1, RFC 3581)', async () => {
    const a = await layer(new UdpTransport());
    const b = await layer(new UdpTransport());
    const bPort = b.layer.transport('udp')!.local.port;
    const req = testRequest({ uri: `sip:bob@127.0.0.1:${bPort}` });
    const target = await a.layer.resolveTarget(req.uri);
    assert.deepEqual(target, { protocol: 'udp', address: '127.0.0.1', port: bPort });
    const sentP = a.layer.sendRequest(req, target);
    const got = await b.inbox.next('request');
    await sentP;
    const via = got.m.topVia();
    assert.equal(via.transport, 'UDP');
    assert.equal(via.port, a.layer.transport('udp')!.local.port);
    assert.equal(via.params.get('rport'), String(a.layer.transport('udp')!.local.port));
    assert.equal(via.params.get('received'), '127.0.0.1');
    const resP = a.inbox.next('response');
    await b.layer.sendResponse(createResponse(got.m, 200), got.flow);
    const res = await resP;
    assert.equal(res.m.status, 200);
    assert.equal(res.m.callId(), req.callId());
  });

  it('responses go to received:rport, not to the (wrong) sent-by (§18.2.2, RFC 3581 §4)', async () => {
    const b = await layer(new UdpTransport());
    const peer = udpPeer();
    const port = await peer.ready;
    const bPort = b.layer.transport('udp')!.local.port;
    const reqP = b.inbox.next('request');
    await peer.send(rawRequest({ via: 'SIP/2.0/UDP 192.0.2.77:5999;branch=z9hG4bKnat;rport' }), bPort);
    const got = await reqP;
    assert.equal(got.m.topVia().params.get('rport'), String(port));
    await b.layer.sendResponse(createResponse(got.m, 200), got.flow);
    const reply = await peer.next();
    assert.ok(reply?.text.startsWith('SIP/2.0 200 OK'));
    peer.close();
  });

  it('malformed requests get 400 with the reason; bad version 505; malformed ACK and junk get nothing', async () => {
    const b = await layer(new UdpTransport());
    const bPort = b.layer.transport('udp')!.local.port;
    const peer = udpPeer();
    const port = await peer.ready;
    const noCallId = rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKbad` }).replace(/Call-ID: [^\r]*\r\n/, '');
    await peer.send(noCallId, bPort);
    const r400 = await peer.next();
    assert.match(r400!.text, /^SIP\/2\.0 400 Bad Request \(Missing Call-ID\)\r\n/);
    assert.match(r400!.text, /\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bKbad/);
    await peer.send(rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKv` }).replace('SIP/2.0\r\n', 'SIP/3.0\r\n'), bPort);
    assert.match((await peer.next())!.text, /^SIP\/2\.0 505 Version Not Supported/);
    await peer.send(rawRequest({ method: 'ACK', via: `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKa` }).replace(/Call-ID: [^\r]*\r\n/, ''), bPort);
    await peer.send('\x00\xff garbage', bPort);
    await peer.send('\r\n\r\n', bPort); // RFC 5626 keep-alive
    assert.equal(await peer.next(300), undefined);
    assert.equal(b.inbox.requests.length, 0);
    peer.close();
  });

  it('responses whose top Via is not ours are discarded (§18.1.2)', async () => {
    const a = await layer(new UdpTransport());
    const peer = udpPeer();
    await peer.ready;
    const aPort = a.layer.transport('udp')!.local.port;
    await peer.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: q\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n', aPort);
    await delay(150);
    assert.equal(a.inbox.responses.length, 0);
    peer.close();
  });
});

describe('TCP transport', () => {
  it('split and merged chunks from a raw client are framed; the response uses the same connection', async () => {
    const b = await layer(new TcpTransport());
    const port = b.layer.transport('tcp')!.local.port;
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const received: string[] = [];
    sock.on('data', (d: Buffer) => received.push(d.toString()));
    const lp = sock.localPort!;
    const m1 = rawRequest({ via: `SIP/2.0/TCP 127.0.0.1:${lp};branch=z9hG4bK1`, callId: 'c1' });
    const m2 = rawRequest({ method: 'INFO', via: `SIP/2.0/TCP 127.0.0.1:${lp};branch=z9hG4bK2`, callId: 'c2', body: 'Signal=1\r\n' });
    const m3 = rawRequest({ via: `SIP/2.0/TCP 127.0.0.1:${lp};branch=z9hG4bK3`, callId: 'c3' });
    const bytes = enc(m1 + m2 + m3);
    sock.write(bytes.subarray(0, 10));
    await delay(20);
    sock.write(bytes.subarray(10, m1.length + 30));
    await delay(20);
    sock.write(bytes.subarray(m1.length + 30));
    while (b.inbox.requests.length < 3) await delay(10);
    assert.deepEqual(b.inbox.requests.map((r) => r.m.callId()), ['c1', 'c2', 'c3']);
    assert.equal(dec(b.inbox.requests[1]!.m.body), 'Signal=1\r\n');
    const first = b.inbox.requests[0]!;
    await b.layer.sendResponse(createResponse(first.m, 200), first.flow);
    while (!received.join('').includes('\r\n\r\n')) await delay(10);
    assert.ok(received.join('').startsWith('SIP/2.0 200 OK\r\n'));
    assert.equal((b.layer.transport('tcp') as TcpTransport).connectionCount, 1);
    sock.destroy();
  });

  it('a framing error is answered with 400 and the connection is closed', async () => {
    const b = await layer(new TcpTransport());
    const port = b.layer.transport('tcp')!.local.port;
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let data = '';
    sock.on('data', (d: Buffer) => { data += d.toString(); });
    const closed = new Promise((r) => sock.once('close', r));
    sock.write(rawRequest({ via: `SIP/2.0/TCP 127.0.0.1:${sock.localPort};branch=z9hG4bKx` }).replace(/Content-Length: 0/, 'Content-Length: nope'));
    await closed;
    assert.match(data, /^SIP\/2\.0 400 Bad Request \(Content-Length: bad value\)/);
  });

  it('requests reuse one outbound connection; replies on it are received; idle connections close', async () => {
    const server = createServer();
    const sockets: Socket[] = [];
    let buffer = '';
    server.on('connection', (s) => {
      sockets.push(s);
      s.on('data', (d: Buffer) => {
        buffer += d.toString();
        // answer each complete OPTIONS with 200 on the same connection
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n');
          if (end < 0) break;
          const msg = buffer.slice(0, end + 4);
          buffer = buffer.slice(end + 4);
          const req = parse(msg) as SipRequest;
          s.write(serializeSipMessage(createResponse(req, 200)));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const a = await layer(new TcpTransport({ idleTimeoutMs: 300 }));
    for (let i = 0; i < 3; i++) {
      const req = testRequest({ uri: `sip:bob@127.0.0.1:${port};transport=tcp` });
      const p = a.inbox.next('response');
      await a.layer.sendRequest(req, await a.layer.resolveTarget(req.uri));
      assert.equal((await p).m.status, 200);
    }
    assert.equal(sockets.length, 1, 'one connection for three requests');
    await delay(600);
    assert.equal((a.layer.transport('tcp') as TcpTransport).connectionCount, 0, 'idle connection closed');
    server.close();
  });

  it('a refused connection rejects the send with sip-transport-error', async () => {
    const a = await layer(new TcpTransport());
    const req = testRequest({ uri: 'sip:bob@127.0.0.1:1;transport=tcp' });
    await assert.rejects(a.layer.sendRequest(req, await a.layer.resolveTarget(req.uri)), { code: 'sip-transport-error' });
  });

  it('§18.1.1: UDP requests above 1300 bytes go over TCP when TCP is configured', async () => {
    const b = await layer(new UdpTransport(), new TcpTransport());
    const a = await layer(new UdpTransport(), new TcpTransport());
    const bu = b.layer.transport('udp')!.local.port;
    const bt = b.layer.transport('tcp')!.local.port;
    assert.ok(bu > 0 && bt > 0);
    const big = testRequest({ uri: `sip:bob@127.0.0.1:${bt}`, body: 'x'.repeat(2000), headers: [['Content-Type', 'text/plain']] });
    const p = b.inbox.next('request');
    const sent = await a.layer.sendRequest(big, await a.layer.resolveTarget(big.uri));
    assert.equal(sent.flow.protocol, 'tcp');
    const got = await p;
    assert.equal(got.flow.protocol, 'tcp');
    assert.equal(got.m.topVia().transport, 'TCP');
  });
});

describe('TLS transport', () => {
  it('round trip over TLS with a self-signed certificate from config; an untrusted peer is refused', async () => {
    const { key, cert } = selfSignedCert();
    const b = await layer(new TlsTransport({ key, cert }));
    const a = await layer(new TlsTransport({ key, cert, ca: cert }));
    const port = b.layer.transport('tls')!.local.port;
    const req = testRequest({ uri: `sips:bob@127.0.0.1:${port}` });
    const target = await a.layer.resolveTarget(req.uri);
    assert.equal(target.protocol, 'tls');
    const reqP = b.inbox.next('request');
    await a.layer.sendRequest(req, target);
    const got = await reqP;
    assert.equal(got.flow.protocol, 'tls');
    assert.equal(got.m.topVia().transport, 'TLS');
    assert.ok(got.m.topVia().params.has('alias'), 'RFC 5923 alias offered over TLS');
    const resP = a.inbox.next('response');
    await b.layer.sendResponse(createResponse(got.m, 200), got.flow);
    const res = await resP;
    assert.equal(res.m.status, 200);

    // RFC 5923: B reaches A's sent-by over the connection A opened, instead of connecting to A's listener
    const aPort = a.layer.transport('tls')!.local.port;
    const back = testRequest({ uri: `sips:alice@127.0.0.1:${aPort}` });
    const backP = a.inbox.next('request');
    await b.layer.sendRequest(back, await b.layer.resolveTarget(back.uri));
    const backGot = await backP;
    assert.equal(backGot.flow.connectionId, res.flow.connectionId, 'the same TLS connection carried the reverse request');
    assert.equal((a.layer.transport('tls') as TlsTransport).connectionCount, 1);

    const untrusting = await layer(new TlsTransport({ key, cert })); // no ca: system store does not know our cert
    const req2 = testRequest({ uri: `sips:bob@127.0.0.1:${port}` });
    await assert.rejects(untrusting.layer.sendRequest(req2, await untrusting.layer.resolveTarget(req2.uri)), { code: 'sip-transport-error' });
  });
});
