import test from 'ava';
import { connect, createServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { readerSocketOptions, setReader, trackReads } from '../../src/listener/socket_reader.js';
import { loopNow, wallClockAt } from '../../src/loop_clock.js';

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

test('one synchronous run reads the clock once', (t) => {
  const first = loopNow();
  spin(5);
  t.is(loopNow(), first, 'the same run sees the same time');
});

test('a later run reads the clock again, from a timer or a promise', async (t) => {
  const first = loopNow();
  await new Promise((r) => setTimeout(r, 20));
  const afterTimer = loopNow();
  t.true(afterTimer - first >= 15, `a timer 20 ms later saw ${afterTimer - first} ms pass`);
  spin(5);
  await Promise.resolve();
  t.true(loopNow() - afterTimer >= 4, 'a continuation after a microtask boundary reads it again');
});

test('wallClockAt maps a reading to epoch ms', (t) => {
  const hr = loopNow();
  t.true(Math.abs(wallClockAt(hr) - Date.now()) < 50);
  t.true(Math.abs(wallClockAt(hr - 1000) - (Date.now() - 1000)) < 50);
});

test('a socket read shares one reading, which ends with the read, without queuing a microtask', async (t) => {
  const server = createServer((s) => s.end('abc'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const queue = globalThis.queueMicrotask;
  let queued = 0;
  const seen: { first: number; second: number; queued: number }[] = [];
  const socket = trackReads(connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', ...readerSocketOptions() }));
  const done = new Promise<number>((resolve) =>
    setReader(socket, () => {
      globalThis.queueMicrotask = (fn) => (queued++, queue(fn));
      const first = loopNow();
      spin(5);
      seen.push({ first, second: loopNow(), queued });
      globalThis.queueMicrotask = queue;
      spin(2);
      // After the read: a continuation reads the clock again.
      void Promise.resolve().then(() => resolve(loopNow() - first));
    }),
  );
  const later = await done;
  socket.destroy();
  server.close();
  t.is(seen[0]!.second, seen[0]!.first, 'one reading for the whole read');
  t.is(seen[0]!.queued, 0, 'no microtask queued to expire it');
  t.true(later >= 6, `the continuation after the read saw ${later} ms pass`);
});
