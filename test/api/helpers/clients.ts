import WebSocket from 'ws';

export interface WsResult {
  messages: Record<string, unknown>[];
  closeCode: number;
  closeReason: string;
  pings: number;
}

/** Opens a WebSocket and collects JSON messages until the server closes it (or `stopAfter` messages, then closes). */
export function wsCollect(url: string, headers: Record<string, string>, opts: { onOpen?: () => void; onMessage?: (m: Record<string, unknown>, n: number) => void; autoPong?: boolean } = {}): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, autoPong: opts.autoPong ?? true });
    const out: WsResult = { messages: [], closeCode: 0, closeReason: '', pings: 0 };
    ws.on('open', () => opts.onOpen?.());
    ws.on('ping', () => { out.pings++; });
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      out.messages.push(m);
      opts.onMessage?.(m, out.messages.length);
    });
    ws.on('close', (code, reason) => { out.closeCode = code; out.closeReason = reason.toString(); resolve(out); });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', (e) => reject(e));
  });
}

export interface SseFrame {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** Reads an SSE response body with fetch streaming and parses frames (WHATWG HTML §9.2.6) until it ends. */
export async function sseCollect(url: string, headers: Record<string, string>, opts: { onFrame?: (f: SseFrame, n: number) => void; signal?: AbortSignal } = {}): Promise<{ status: number; contentType: string | null; frames: SseFrame[] }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, ...(opts.signal ? { signal: opts.signal } : {}) });
  const frames: SseFrame[] = [];
  if (res.body === null || !res.ok) return { status: res.status, contentType: res.headers.get('content-type'), frames };
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let idx: number;
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const f: SseFrame = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) f.comment = line.slice(1).trim();
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('data: ')) f.data = (f.data === undefined ? '' : `${f.data}\n`) + line.slice(6);
        }
        if (f.event === undefined && f.data === undefined && f.comment === undefined) continue;
        frames.push(f);
        opts.onFrame?.(f, frames.length);
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), frames };
}
