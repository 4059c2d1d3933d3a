import test from 'ava';
import { Worker } from 'node:worker_threads';
import { configureWorkerHeap } from '../../src/main/worker_heap.js';
import { parseProxyOptions } from '../../src/main/options.js';

/** The new-space size a freshly started worker thread reports. */
function workerNewSpace(): Promise<number> {
  const src = `const v8 = require('node:v8'); const { parentPort } = require('node:worker_threads');
    parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);`;
  return new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true });
    w.once('message', (n: number) => void w.terminate().then(() => resolve(n)));
    w.once('error', reject);
  });
}

test('--worker-semi-space-mb: 2 by default, 0 leaves V8 its own sizing, env LEGATE_WORKER_SEMI_SPACE_MB', (t) => {
  t.is(parseProxyOptions(['--config', 'x'], {}).workerSemiSpaceMb, 2);
  t.is(parseProxyOptions(['--config', 'x', '--worker-semi-space-mb', '0'], {}).workerSemiSpaceMb, 0);
  t.is(parseProxyOptions(['--config', 'x'], { LEGATE_WORKER_SEMI_SPACE_MB: '32' }).workerSemiSpaceMb, 32);
  t.throws(() => parseProxyOptions(['--config', 'x', '--worker-semi-space-mb', 'big'], {}), { message: /--worker-semi-space-mb: expected a whole number/ });
});

test('worker heap: workers started after configureWorkerHeap get the larger young generation', async (t) => {
  const before = await workerNewSpace();
  configureWorkerHeap(8);
  const after = await workerNewSpace();
  t.true(before < 8 * 1024 * 1024, `V8's default start is small (${before})`);
  t.true(after >= 8 * 1024 * 1024, `new space ${after} bytes`);
});
