/**
 * "Never lets a bad packet bring the process down": floods of hostile datagrams and stream bytes at a running stack
 * (UDP, TCP, TLS), after which it still answers OPTIONS. An uncaught exception would fail this file.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { UserAgentCore } from '../../../src/sip/dialogs/index.ts';
import { SipStack } from '../../../src/sip/transactions/index.ts';
import { TcpTransport, TlsTransport, UdpTransport, type Destination, type Flow } from '../../../src/sip/transport/index.ts';
import * as F from '../messages/fixtures/rfc4475.ts';
import { delay, rawRequest } from '../support/messages.ts';
import { selfSignedCert } from '../support/tls-cert.ts';
import { UdpPeer } from '../support/udp-peer.ts';

/** Sends only to the test peer: answers to the fixtures' Via addresses (5060…) must not reach other programs. */
class GuardedUdp extends UdpTransport {
  allowedPort = -1;
  override async send(bytes: Uint8Array, d: Destination): Promise<Flow> {
    if (d.port === this.allowedPort) return super.send(bytes, d);
    return { protocol: 'udp', local: this.local, remote: { address: d.address, port: d.port }, connectionId: undefined };
  }
}

const stacks: SipStack[] = [];
const peers: UdpPeer[] = [];
after(async () => {
  for (const p of peers) p.close();
  await Promise.all(stacks.map((s) => s.close()));
});

describe('hostile input at a running stack', () => {
  it('thousands of random and mutated datagrams, then a normal OPTIONS still gets 200', async () => {
    const { key, cert } = selfSignedCert();
    const udp = new GuardedUdp();
    const stack = new SipStack({ transports: [udp, new TcpTransport(), new TlsTransport({ key, cert })], timers: { T1: 20, T2: 80, T4: 100 } });
    stacks.push(stack);
    await stack.start();
    const ua = new UserAgentCore({ stack });
    ua.onInvite = (inv) => inv.reject(486);
    const udpPort = stack.layer.transport('udp')!.local.port;
    const peer = await UdpPeer.open();
    peers.push(peer);
    udp.allowedPort = peer.port;
    const fixtures = [...Object.values(F.VALID), ...Object.values(F.INVALID).map(([t]) => t)].map(F.crlf);
    const samples = fc.sample(fc.tuple(fc.constantFrom(...fixtures), fc.nat(), fc.uint8Array({ maxLength: 8 }), fc.nat()), { numRuns: 2000, seed: 42 });
    for (const [src, at, ins, cut] of samples) {
      const b = Array.from(src);
      b.splice(at % (b.length + 1), 0, ...ins);
      const bytes = new Uint8Array(b.slice(0, Math.max(1, b.length - (cut % 50))));
      await peer.send(new TextDecoder('latin1').decode(bytes), udpPort);
    }
    for (const bytes of fc.sample(fc.uint8Array({ maxLength: 600 }), { numRuns: 500, seed: 7 })) await peer.send(Buffer.from(bytes).toString('latin1'), udpPort);

    // TCP: junk, a truncated message and a framing error on separate connections
    const tcpPort = stack.layer.transport('tcp')!.local.port;
    for (const junk of ['\x16\x03\x01garbage\r\n\r\n', 'INVITE sip:x SIP/2.0\r\nContent-Length: 5', `${rawRequest({ via: 'SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKq' })}`.replace('Content-Length: 0', 'Content-Length: 70000')]) {
      const s = connect(tcpPort, '127.0.0.1');
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      s.write(junk);
      await delay(20);
      s.destroy();
    }
    // TLS port: plain text instead of a handshake
    const tlsPort = stack.layer.transport('tls')!.local.port;
    const t = connect(tlsPort, '127.0.0.1');
    t.on('error', () => undefined);
    await new Promise((r) => t.once('connect', r));
    t.write('OPTIONS sip:x SIP/2.0\r\n\r\n');
    await delay(50);
    t.destroy();

    await peer.send(rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbad`, callId: 'bad-1', extra: 'Max-Forwards: 300\r\n' }), udpPort);
    await peer.until(() => peer.responses(400).some((r) => r.message.callId() === 'bad-1'), 5000);
    const before = peer.responses(200).length;
    await peer.send(rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKalive`, callId: 'still-alive' }), udpPort);
    await peer.until(() => peer.responses(200).some((r) => r.message.callId() === 'still-alive'), 5000);
    assert.ok(peer.responses(200).length > before);
  });
});
