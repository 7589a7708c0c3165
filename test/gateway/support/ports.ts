import { readFileSync } from 'node:fs';

/**
 * Resolves once some process holds the UDP port (any address): read from /proc/net/udp, so the probe never races
 * the peer's own bind. For real peers (sipp, baresip) that take a while to start on a loaded machine.
 */
export async function untilUdpBound(port: number, ms = 10_000): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const t0 = Date.now();
  for (;;) {
    const table = readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1);
    if (table.some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex))) return;
    if (Date.now() - t0 > ms) throw new Error(`nothing bound UDP port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
