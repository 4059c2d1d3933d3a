import test from 'ava';
import { performance } from 'node:perf_hooks';
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
