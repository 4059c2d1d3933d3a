import { logger, stackOf } from './log.js';

const log = logger('connection');

/**
 * setTimeout for the data path's timers, whose callbacks may not end the worker thread. A throw
 * from `fn` is a bug; uncaught in a timer it would end the thread and every connection on it
 * (the supervisor starts another). Here it is logged as `what` failing, and `cleanup` ends only
 * what the timer belongs to (a stream, a connection), as a throw while reading bytes ends only
 * its connection (socket_reader.ts). The arguments ride on setTimeout's own: arming one
 * allocates no closure beyond the caller's.
 */
export function guardedTimeout(fn: () => void, ms: number, what: string, cleanup: () => void): NodeJS.Timeout {
  return setTimeout(runGuarded, ms, fn, what, cleanup);
}

/** Runs `fn`; a throw is logged and `cleanup` runs (a throw from that is logged only: nothing is left to do). */
export function runGuarded(fn: () => void, what: string, cleanup: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error(`${what} failed: ${stackOf(err)}`);
    try {
      cleanup();
    } catch (again) {
      log.error(`${what}: ending what it belonged to failed too: ${stackOf(again)}`);
    }
  }
}

/** The cleanup when what failed is already over (a closed connection): the log line is all. */
export function nothingToEnd(): void {}
