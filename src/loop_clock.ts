import { performance } from 'node:perf_hooks';

/**
 * The data path's clock: `performance.now()` read once per synchronous run of the event loop
 * (one I/O or timer callback with its ticks) and shared by every timestamp taken in it, as
 * nginx and HAProxy read theirs once per poll. A request's head, attempt, response and stats
 * would otherwise read the clock about nine times, at ~55 ns each on a VM's kvm-clock. The
 * cached value is dropped when the run ends, so code that runs later, from any callback, reads
 * the clock again: by the socket reader when its read returns (most readings are taken in
 * reads), else by a microtask queued when the value is taken (about 600 instructions a run).
 */
let cached = 0;
let valid = false;
let inRead = false;

function expire(): void {
  valid = false;
}

/** Milliseconds on the `performance.now()` clock, as of the current synchronous run. */
export function loopNow(): number {
  if (!valid) {
    cached = performance.now();
    valid = true;
    if (!inRead) queueMicrotask(expire);
  }
  return cached;
}

/** A socket read starts a synchronous run (socket_reader): its readings end with it. */
export function beginReadRun(): void {
  valid = false;
  inRead = true;
}

/** The read has returned: later code, its microtasks included, reads the clock again. */
export function endReadRun(): void {
  valid = false;
  inRead = false;
}

/** Wall-clock ms minus `performance.now()` ms, re-read at most once a second. */
let wallOffset = Date.now() - performance.now();
let wallOffsetAt = performance.now();

/**
 * The wall-clock time (epoch ms) of a `loopNow()` / `performance.now()` reading, for access
 * log timestamps: the offset between the two clocks follows wall-clock steps within a second.
 */
export function wallClockAt(hr: number): number {
  const now = loopNow();
  if (now - wallOffsetAt > 1000) {
    wallOffset = Date.now() - now;
    wallOffsetAt = now;
  }
  return wallOffset + hr;
}
