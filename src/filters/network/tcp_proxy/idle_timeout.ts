import { loopNow } from '../../../loop_clock.js';

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

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.timer = setTimeout(() => this.check(), ms);
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
    this.timer = setTimeout(() => this.check(), this.ms - quiet);
  }
}
