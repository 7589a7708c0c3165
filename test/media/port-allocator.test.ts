import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { RtpPortAllocator, type RtpPortPair } from '../../src/media/port-allocator.ts';
import { CardlineError } from '../../src/errors/index.ts';

/** A range of `pairs` even/odd pairs on 127.0.0.1 whose ports are all free right now. */
async function freeRange(pairs: number): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = 40000 + 2 * Math.floor(Math.random() * 10000);
    const max = min + pairs * 2 - 1;
    if (max > 65535) continue;
    const socks: dgram.Socket[] = [];
    let ok = true;
    for (let p = min; p <= max && ok; p++) {
      const s = dgram.createSocket('udp4');
      try {
        await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind({ port: p, address: '127.0.0.1', exclusive: true }, () => resolve()); });
        socks.push(s);
      } catch {
        ok = false;
      }
    }
    for (const s of socks) s.close();
    if (ok) return { min, max };
  }
  throw new Error('no free port range found');
}

test('allocates even RTP / odd RTCP pairs, bound and receiving, until exhausted; release returns them', async () => {
  const { min, max } = await freeRange(3);
  const alloc = new RtpPortAllocator({ address: '127.0.0.1', minPort: min, maxPort: max });
  assert.equal(alloc.capacity, 3);
  const pairs: RtpPortPair[] = [];
  for (let i = 0; i < 3; i++) pairs.push(await alloc.allocate());
  assert.deepEqual(pairs.map((p) => [p.rtpPort % 2, p.rtcpPort - p.rtpPort]), [[0, 1], [0, 1], [0, 1]]);
  assert.equal(new Set(pairs.map((p) => p.rtpPort)).size, 3);
  assert.equal(alloc.inUse, 3);
  await assert.rejects(alloc.allocate(), (e: unknown) => e instanceof CardlineError && e.code === 'media-ports-exhausted' && e.status === 503);
  // The sockets really are bound.
  const tx = dgram.createSocket('udp4');
  const got = once(pairs[1]!.rtp, 'message');
  tx.send(Buffer.from([0x80, 0]), pairs[1]!.rtpPort, '127.0.0.1');
  const [msg] = (await got) as [Buffer];
  assert.deepEqual([...msg], [0x80, 0]);
  tx.close();
  await pairs[1]!.release();
  await pairs[1]!.release(); // idempotent
  assert.equal(alloc.inUse, 2);
  const again = await alloc.allocate();
  assert.equal(again.rtpPort, pairs[1]!.rtpPort);
  await alloc.close();
  assert.equal(alloc.inUse, 0);
  await assert.rejects(alloc.allocate(), CardlineError);
});

test('ports held by someone else are skipped; concurrent allocations never share a pair', async () => {
  const { min, max } = await freeRange(4);
  const squatter = dgram.createSocket('udp4');
  await new Promise<void>((r) => squatter.bind({ port: min + 3, address: '127.0.0.1', exclusive: true }, () => r())); // RTCP of pair 2
  const alloc = new RtpPortAllocator({ address: '127.0.0.1', minPort: min, maxPort: max });
  const got = await Promise.all([alloc.allocate(), alloc.allocate(), alloc.allocate()]);
  const ports = got.map((p) => p.rtpPort).sort();
  assert.deepEqual(ports, [min, min + 4, min + 6]);
  await assert.rejects(alloc.allocate(), (e: unknown) => e instanceof CardlineError && e.code === 'media-ports-exhausted');
  squatter.close();
  await alloc.close();
});

test('round-robin: a released pair is not the next one handed out', async () => {
  const { min, max } = await freeRange(3);
  const alloc = new RtpPortAllocator({ address: '127.0.0.1', minPort: min, maxPort: max });
  const a = await alloc.allocate();
  await a.release();
  const b = await alloc.allocate();
  assert.notEqual(b.rtpPort, a.rtpPort);
  await alloc.close();
});

test('configuration errors are typed', () => {
  for (const o of [
    { address: 'localhost', minPort: 40000, maxPort: 40010 }, { address: '127.0.0.1', minPort: 80, maxPort: 90 },
    { address: '127.0.0.1', minPort: 40010, maxPort: 40000 }, { address: '127.0.0.1', minPort: 40001, maxPort: 40002 },
    { address: '127.0.0.1', minPort: 40000, maxPort: 70000 },
  ]) {
    assert.throws(() => new RtpPortAllocator(o), (e: unknown) => e instanceof CardlineError && e.code === 'invalid-config', JSON.stringify(o));
  }
  assert.equal(new RtpPortAllocator({ address: '::1', minPort: 40001, maxPort: 40006 }).capacity, 2); // 40002/3, 40004/5
});
