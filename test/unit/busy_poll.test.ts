import test from 'ava';
import { Worker } from 'node:worker_threads';
import { nativeSockets } from '../../src/listener/native/index.js';
import { parseProxyOptions } from '../../src/main/options.js';

const ADDON = new URL('../../../build/Release/legate_native.node', import.meta.url).pathname;

/**
 * A worker thread's event-loop utilisation over 300 ms with nothing to do, with busy polling
 * as `phases` say (each phase 300 ms), and whether it then exits on its own.
 */
function idleUtilisation(phases: boolean[]): Promise<{ elu: number[]; exitCode: number }> {
  const src = `
    const { performance } = require('node:perf_hooks');
    const { parentPort, workerData } = require('node:worker_threads');
    const native = require(workerData.addon);
    const elu = [];
    const phase = (i) => {
      if (i === workerData.phases.length) return parentPort.postMessage(elu);
      native.busyPoll(workerData.phases[i]);
      const start = performance.eventLoopUtilization();
      setTimeout(() => { elu.push(performance.eventLoopUtilization(start).utilization); phase(i + 1); }, 300);
    };
    phase(0);`;
  return new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true, workerData: { addon: ADDON, phases } });
    let elu: number[] = [];
    w.once('message', (m: number[]) => (elu = m));
    w.once('error', reject);
    w.once('exit', (exitCode) => resolve({ elu, exitCode }));
  });
}

test('--busy-poll: off by default, the flag or LEGATE_BUSY_POLL turns it on', (t) => {
  t.false(parseProxyOptions(['--config', 'x'], {}).busyPoll);
  t.true(parseProxyOptions(['--config', 'x', '--busy-poll'], {}).busyPoll);
  t.true(parseProxyOptions(['--config', 'x'], { LEGATE_BUSY_POLL: 'true' }).busyPoll);
  t.throws(() => parseProxyOptions(['--config', 'x', '--busy-poll=often'], {}), { message: /--busy-poll: expected true or false/ });
});

test('busyPoll: an idle loop spins while on and sleeps again when off', async (t) => {
  t.truthy(nativeSockets(), 'the addon is built');
  const { elu, exitCode } = await idleUtilisation([false, true, false]);
  t.is(exitCode, 0);
  t.is(elu.length, 3);
  t.true(elu[0] < 0.5, `asleep before: ${elu[0]}`);
  t.true(elu[1] > 0.9, `spinning: ${elu[1]}`);
  t.true(elu[2] < 0.5, `asleep after: ${elu[2]}`);
});

test('busyPoll: a worker left spinning still exits when its work is done (the handle holds no loop open)', async (t) => {
  const { elu, exitCode } = await idleUtilisation([true]);
  t.is(exitCode, 0);
  t.true(elu[0] > 0.9, `spinning: ${elu[0]}`);
});

test('busyPoll: a spinning worker is closed cleanly by terminate()', async (t) => {
  // Terminated only once it says it spins: a worker stopped before its environment exists exits 0
  // without ever having run (what a fixed 200 ms wait got on a loaded CI machine).
  const src = `const { parentPort } = require('node:worker_threads');
    require(${JSON.stringify(ADDON)}).busyPoll(true);
    setInterval(() => {}, 1000);
    setTimeout(() => parentPort.postMessage('spinning'), 50);`;
  const w = new Worker(src, { eval: true });
  t.is(await new Promise((resolve) => w.once('message', resolve)), 'spinning');
  t.is(await w.terminate(), 1);
});

test('busyPoll: a non-boolean argument is a TypeError', (t) => {
  t.throws(() => nativeSockets()!.busyPoll('yes' as unknown as boolean), { instanceOf: TypeError, message: /busyPoll\(on: boolean\)/ });
});
