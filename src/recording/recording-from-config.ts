/**
 * Builds call recording from the `gateway` config section (`recording`, `recorderWebhooks`) for the composition
 * root: the B2BUA hooks (`tapFor`, `onCallStarted`) and one `close()`.
 */
import { isAbsolute, resolve } from 'node:path';
import { CardlineError } from '../errors/index.ts';
import type { Call, GatewayConfig, MediaTap } from '../gateway/index.ts';
import type { Logger } from '../log/index.ts';
import { Recorder } from './recorder.ts';
import { RecorderWebhooks, type RecorderWebhookTarget } from './recorder-webhooks.ts';

export interface CallRecording {
  recorder: Recorder | null;
  webhooks: RecorderWebhooks | null;
  /** For `startGateway` / the B2BUA: undefined when that part is off. */
  tapFor: ((call: Call) => MediaTap | null) | undefined;
  onCallStarted: ((call: Call) => void) | undefined;
  /** After the gateway closed: waits for recordings of ended calls, then flushes webhooks (bounded). */
  close(): Promise<void>;
}

export function recordingFromConfig(g: GatewayConfig, o: { dataDir: string; logger?: Logger; allowHttp?: boolean; env?: NodeJS.ProcessEnv }): CallRecording {
  const r = g.recording;
  const recorder = r
    ? new Recorder({
      dir: isAbsolute(r.dir ?? '') ? (r.dir as string) : resolve(o.dataDir, r.dir ?? 'recordings'),
      secureSpan: r.secureSpan ?? 'pause',
      ...(o.logger ? { logger: o.logger } : {}),
    })
    : null;
  const env = o.env ?? process.env;
  const targets: RecorderWebhookTarget[] = (g.recorderWebhooks ?? []).map((w, i) => {
    const secret = w.secret ?? (w.secretEnv !== undefined ? env[w.secretEnv] : undefined);
    if (secret === undefined || secret === '') {
      throw new CardlineError('invalid-config', `gateway.recorderWebhooks[${i}]: set secret, or secretEnv to a variable that is set`);
    }
    return { url: w.url, secret };
  });
  const webhooks = targets.length > 0
    ? new RecorderWebhooks({ targets, ...(o.logger ? { logger: o.logger } : {}), ...(o.allowHttp !== undefined ? { allowHttp: o.allowHttp } : {}) })
    : null;
  return {
    recorder, webhooks,
    tapFor: recorder?.tapFor,
    onCallStarted: webhooks?.watch,
    async close() {
      await recorder?.close();
      await webhooks?.close();
    },
  };
}
