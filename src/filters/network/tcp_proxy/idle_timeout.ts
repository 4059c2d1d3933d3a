import { loopNow } from '../../../loop_clock.js';
import { guardedTimeout } from '../../../guarded_timer.js';

/**
 * Envoy's tcp_proxy idle_timeout: the connection is idle once no bytes have been sent or
 * received on either side for `ms`. The relays mark activity per chunk (a store, as the clock
 * is read once per event-loop run), and one timer re-arms itself from the last mark when it
 * fires, instead of a socket timer reset by every read and write: the relays write to the
 * socket's handle directly (socket_writer.ts), which Node's socket timers do not see.
 */
export class IdleTimeout {
  /** When bytes last moved either way (loopNow() ms). */
  last = loopNow();
  private timer: NodeJS.Timeout;

  /** `onIdle` when idle; `close` if checking throws (guarded_timer.ts). */
  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
    private readonly close: () => void,
  ) {
    this.timer = this.arm(ms);
  }

  /** Bytes moved. */
  touch(): void {
    this.last = loopNow();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private check(): void {
    const quiet = loopNow() - this.last;
    // Timers count whole milliseconds: a millisecond short of `ms` is the deadline, not early.
    if (quiet >= this.ms - 1) return this.onIdle();
    this.timer = this.arm(this.ms - quiet);
  }

  private arm(ms: number): NodeJS.Timeout {
    return guardedTimeout(() => this.check(), ms, 'a tcp_proxy idle timeout', this.close);
  }
}
