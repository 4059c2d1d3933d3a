import test from 'ava';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { configureWorkerV8 } from '../../src/main/worker_v8.js';
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

test('worker heap: workers started after configureWorkerV8 get the larger young generation', async (t) => {
  const before = await workerNewSpace();
  configureWorkerV8(8);
  const after = await workerNewSpace();
  t.true(before < 8 * 1024 * 1024, `V8's default start is small (${before})`);
  t.true(after >= 8 * 1024 * 1024, `new space ${after} bytes`);
});

/**
 * Whether TurboFan inlines a callee of about 1,000 bytes of bytecode (over V8's default budget
 * of 460 for one callee, under ours) into its caller, in a fresh process, with or without
 * configureWorkerV8 first: V8 says so with --trace-turbo-inlining.
 */
function inlinesLargeCallee(configured: boolean): boolean {
  const module = new URL('../../src/main/worker_v8.js', import.meta.url).href;
  const script = `
    const { configureWorkerV8 } = await import(${JSON.stringify(module)});
    if (process.env.CONFIGURE === '1') configureWorkerV8(0);
    const body = Array.from({ length: 120 }, (_, i) => 's = (s + a * ' + (i + 3) + ') | 0;').join('\\n');
    const callee = new Function('a', 'let s = 0;\\n' + body + '\\nreturn s;');
    const caller = new Function('callee', 'a', 'return callee(a) + 1;');
    eval('%PrepareFunctionForOptimization(callee)');
    eval('%PrepareFunctionForOptimization(caller)');
    caller(callee, 1);
    caller(callee, 2);
    eval('%OptimizeFunctionOnNextCall(caller)');
    caller(callee, 3);`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--trace-turbo-inlining', '--input-type=module', '-e', script], {
    env: { ...process.env, CONFIGURE: configured ? '1' : '0' },
    encoding: 'utf8',
  });
  return /^Inlining /m.test(out);
}

test("worker V8: the inlining budget lets TurboFan inline a callee V8's defaults leave as a call", (t) => {
  t.false(inlinesLargeCallee(false), "V8's default budget does not inline it");
  t.true(inlinesLargeCallee(true), 'configureWorkerV8 raises the budget');
});
