import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { startCardline } from '../../src/server/index.ts';
import { tempDir } from '../store/helpers/fixtures.ts';

test('a real start and stop leave system.start in the audit trail, and nothing is logged at error level', async () => {
  const dir = tempDir();
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => { lines.push(s); } } });
  const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: 0, dataDir: dir.dir } });
  const running = await startCardline({ config, logger });
  try {
    const starts = (await running.security?.audit.query({ action: 'system.start' })) ?? [];
    assert.equal(starts.length, 1, `one system.start record; log: ${lines.join('')}`);
    assert.equal(starts[0]?.outcome, 'success');
  } finally {
    await running.close();
    dir.cleanup();
  }
  const errors = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
  assert.deepEqual(errors.map((e) => e.msg), []);
});
