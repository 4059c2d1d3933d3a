import test from 'ava';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { setLoggerLevels, setLogLevel } from '../../src/log.js';

const LOG_MODULE = new URL('../../src/log.js', import.meta.url).href;

/** A worker thread that loads log.ts and reports its levels when asked. */
async function levelsInWorker(): Promise<{ ask: () => Promise<Record<string, string>>; stop: () => Promise<number> }> {
  const w = new Worker(
    `import('${LOG_MODULE}').then((log) => {
       const { parentPort } = require('node:worker_threads');
       parentPort.on('message', () => parentPort.postMessage(Object.fromEntries(log.loggerLevels())));
       parentPort.postMessage('up');
     });`,
    { eval: true },
  );
  await once(w, 'message');
  return {
    ask: async () => {
      w.postMessage('levels?');
      return (await once(w, 'message'))[0] as Record<string, string>;
    },
    stop: () => w.terminate(),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 100));

test.serial('a level set on the main thread (/logging) reaches running workers, per logger and for all', async (t) => {
  t.teardown(() => setLogLevel('info'));
  const w = await levelsInWorker();
  t.teardown(() => w.stop());
  t.is((await w.ask()).upstream, 'info');
  t.true(setLoggerLevels({ upstream: 'debug' }));
  await settle();
  const one = await w.ask();
  t.is(one.upstream, 'debug');
  t.is(one.http, 'info');
  setLogLevel('error');
  await settle();
  t.true(Object.values(await w.ask()).every((l) => l === 'error'));
});

test.serial('a worker started after the change asks for and gets the current levels', async (t) => {
  t.teardown(() => setLogLevel('info'));
  setLogLevel('warning');
  setLoggerLevels({ dns: 'trace' });
  const w = await levelsInWorker();
  t.teardown(() => w.stop());
  await settle();
  const levels = await w.ask();
  t.is(levels.dns, 'trace');
  t.is(levels.main, 'warning');
});
