/**
 * The stream idle sweep (stream_idle.ts): one timer per thread serves every stream's
 * stream_idle_timeout. A stream times out idleMs after its last activity, never before; touches
 * move the deadline; unwatched streams never fire; a timeout may start the next stream.
 */
import test from 'ava';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { streamIdle, touchIdle, type IdleWatched } from '../../src/filters/network/http_connection_manager/stream_idle.js';

class Stream implements IdleWatched {
  idleAt = 0;
  idleMs = 0;
  idlePrev: IdleWatched | null = null;
  idleNext: IdleWatched | null = null;
  lastActivity = 0;
  firedAt = 0;
  fired = 0;
  ended = 0;
  constructor(readonly onIdle?: () => void) {}
  endAfterThrow(): void {
    this.ended++;
  }
  onStreamIdle(): void {
    this.fired++;
    this.firedAt = performance.now();
    this.onIdle?.();
  }
  watch(ms: number): this {
    this.lastActivity = performance.now();
    streamIdle.watch(this, ms, this.lastActivity);
    return this;
  }
  touch(): void {
    this.lastActivity = performance.now();
    touchIdle(this);
  }
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(5);
}

test.serial('a stream times out idleMs after its last activity, not before, and leaves the list', async (t) => {
  const s = new Stream().watch(120);
  t.is(streamIdle.size, 1);
  await until(() => s.fired > 0);
  t.is(s.fired, 1);
  const idle = s.firedAt - s.lastActivity;
  t.true(idle >= 119, `fired after ${idle.toFixed(1)} ms of idleness`);
  t.true(idle < 120 + 200, `fired ${idle.toFixed(1)} ms after the last activity`);
  t.is(s.idleAt, 0);
  t.is(streamIdle.size, 0);
});

test.serial('activity moves the deadline: a stream touched more often than its timeout never fires', async (t) => {
  const s = new Stream().watch(150);
  for (let i = 0; i < 8; i++) {
    await sleep(50);
    s.touch();
  }
  t.is(s.fired, 0, 'touched every 50 ms for 400 ms: never 150 ms idle');
  await until(() => s.fired > 0);
  t.is(s.fired, 1);
  t.true(s.firedAt - s.lastActivity >= 149);
});

test.serial('an unwatched stream never fires; touching it does not re-arm it', async (t) => {
  const s = new Stream().watch(60);
  streamIdle.unwatch(s);
  touchIdle(s);
  t.is(s.idleAt, 0);
  await sleep(200);
  t.is(s.fired, 0);
  t.is(streamIdle.size, 0);
});

test.serial('streams with different deadlines each fire at their own, earliest first', async (t) => {
  const late = new Stream().watch(300);
  const early = new Stream().watch(80);
  const middle = new Stream().watch(180);
  const kept = new Stream().watch(150);
  streamIdle.unwatch(kept);
  await until(() => late.fired > 0);
  t.deepEqual([early.fired, middle.fired, late.fired, kept.fired], [1, 1, 1, 0]);
  t.true(early.firedAt < middle.firedAt && middle.firedAt < late.firedAt);
  for (const s of [early, middle, late]) t.true(s.firedAt - s.lastActivity >= s.idleMs - 1);
  t.is(streamIdle.size, 0);
});

test.serial('a timeout that starts the next stream (a pipelined request) watches it correctly', async (t) => {
  let next: Stream | undefined;
  const first = new Stream(() => {
    next = new Stream().watch(60);
  }).watch(60);
  await until(() => next !== undefined && next.fired > 0);
  t.is(first.fired, 1);
  t.is(next?.fired, 1);
  t.is(streamIdle.size, 0);
});

test.serial('a stream whose timeout throws is ended alone; the others due in the same sweep still time out', async (t) => {
  // The same deadline for both, so one sweep serves them; the throw would otherwise end the
  // worker thread (uncaught in a timer) and the second stream would never hear.
  const broken = new Stream(() => {
    throw new Error('a bug in a stream idle timeout');
  }).watch(60);
  const other = new Stream().watch(60);
  await until(() => other.fired > 0 && broken.ended > 0);
  t.deepEqual([broken.fired, broken.ended, other.fired, other.ended], [1, 1, 1, 0]);
  t.is(streamIdle.size, 0);
  // The sweep still serves streams watched after the failure.
  const later = new Stream().watch(40);
  await until(() => later.fired > 0);
  t.is(later.fired, 1);
});
