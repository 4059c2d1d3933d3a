import { performance } from 'node:perf_hooks';
import { loopNow } from '../../../loop_clock.js';
import { runGuarded } from '../../../guarded_timer.js';

/**
 * Envoy's stream_idle_timeout without a timer per stream. A stream with a timeout is linked
 * into this thread's list with its deadline; activity moves the deadline (one store, no timer
 * call); one timer per thread fires at the earliest deadline it knows, times out the streams
 * whose deadline has passed and re-arms for the next. A setTimeout per request, refreshed on
 * each read and cleared at the end, cost about 1,500 instructions and a Timeout object per
 * request on the gateway path (Istio gives gateways a 5 min stream idle timeout).
 *
 * Deadlines are kept exactly, as Envoy's timers keep them: a stream times out `idleMs` after its
 * last activity, to the millisecond of Node's timer clock. Sweeps are at least COALESCE_MS
 * apart, so deadlines that close together are served by one sweep, at most that much late.
 */
export interface IdleWatched {
  /** When the stream times out (performance.now() ms); 0 while it is not watched. */
  idleAt: number;
  idleMs: number;
  idlePrev: IdleWatched | null;
  idleNext: IdleWatched | null;
  onStreamIdle(): void;
  /** A call into this stream threw (a bug): end it, and only it; the sweep goes on with the others. */
  endAfterThrow(): void;
}

const COALESCE_MS = 10;
/** Node's timers fire on the loop's millisecond clock: a deadline this close counts as passed. */
const TIMER_SLACK_MS = 1;

class IdleSweep {
  private head: IdleWatched | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is set for (Infinity: not set). */
  private armedFor = Infinity;

  /** Starts watching `s`, which has had activity at `now`. */
  watch(s: IdleWatched, idleMs: number, now: number): void {
    if (s.idleAt !== 0) this.unwatch(s);
    s.idleMs = idleMs;
    s.idleAt = now + idleMs;
    s.idlePrev = null;
    s.idleNext = this.head;
    if (this.head !== null) this.head.idlePrev = s;
    this.head = s;
    if (s.idleAt < this.armedFor) this.arm(s.idleAt, now);
  }

  unwatch(s: IdleWatched): void {
    if (s.idleAt === 0) return;
    s.idleAt = 0;
    const { idlePrev: prev, idleNext: next } = s;
    if (prev !== null) prev.idleNext = next;
    else this.head = next;
    if (next !== null) next.idlePrev = prev;
    s.idlePrev = s.idleNext = null;
  }

  /** Streams watched now (tests). */
  get size(): number {
    let n = 0;
    for (let s = this.head; s !== null; s = s.idleNext) n++;
    return n;
  }

  private arm(at: number, now: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.sweep(), Math.max(1, Math.ceil(at - now)));
    // Connections keep the thread alive, not this.
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    const due: IdleWatched[] = [];
    let next = Infinity;
    for (let s = this.head; s !== null; s = s.idleNext) {
      if (s.idleAt <= now + TIMER_SLACK_MS) due.push(s);
      else if (s.idleAt < next) next = s.idleAt;
    }
    // Collected, unlinked and re-armed before any stream hears: a timed-out stream's reply may
    // start (and watch) the next pipelined request.
    for (const s of due) this.unwatch(s);
    if (next !== Infinity) this.arm(Math.max(next, now + COALESCE_MS), now);
    for (const s of due) runGuarded(() => s.onStreamIdle(), 'a stream idle timeout', () => s.endAfterThrow());
  }
}

/** This thread's streams with a stream idle timeout. */
export const streamIdle = new IdleSweep();

/** Activity on `s`: its deadline moves to `idleMs` from now (nothing when it is not watched). */
export function touchIdle(s: IdleWatched): void {
  if (s.idleAt !== 0) s.idleAt = loopNow() + s.idleMs;
}
