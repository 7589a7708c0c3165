import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** Reply decided per request index: a status, optionally headers, or 'hang' (never answer). */
export type Script = (index: number, r: Received) => { status: number; headers?: Record<string, string> } | 'hang';

/** A local HTTP endpoint that records every POST (the merchant's status-callback receiver). */
export async function startReceiver(script: Script = () => ({ status: 200 })) {
  const received: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const index = received.length;
      received.push(r);
      for (const w of [...waiters]) if (received.length >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
      const reply = script(index, r);
      if (reply === 'hang') { hanging.push(res); return; }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/cardline?tenant=t1`,
    received,
    /** resolves once n requests have arrived */
    waitFor: (n: number, timeoutMs = 5000) => new Promise<void>((resolve, reject) => {
      if (received.length >= n) { resolve(); return; }
      const t = setTimeout(() => reject(new Error(`only ${received.length}/${n} callbacks arrived`)), timeoutMs);
      waiters.push({ n, resolve: () => { clearTimeout(t); resolve(); } });
    }),
    close: () => new Promise<void>((r) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
