/**
 * uWS calls into JavaScript without Node's callback scope, so `process.nextTick` callbacks queued
 * during a uWS callback (the upstream pool uncorks its socket on the next tick, a destroyed socket
 * reports 'close' on it) would wait for Node's next event of its own: with few connections the
 * upstream request sat unsent for milliseconds. An immediate runs in this loop iteration's check
 * phase, after uWS's poll callbacks, and Node processes the tick queue right after it.
 */
let scheduled = false;
const ran = (): void => {
  scheduled = false;
};

/** Call at the end of every uWS callback that may have queued next-tick work. */
export function runNextTicksSoon(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(ran);
}
