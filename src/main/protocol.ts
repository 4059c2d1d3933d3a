import type { Destination } from '../listener/listener_table.js';
import type { StatsShared } from '../stats/store.js';

/** Messages and shared memory between the main thread and workers. */
export const CONFIG_CHANNEL = 'legate.config';
export const HELLO_CHANNEL = 'legate.hello';
/** reuseport: a worker reports `{ threadId }` once its capture listeners are bound. */
export const LISTENING_CHANNEL = 'legate.listening';
/** reuseport: the main thread tells workers to close their capture listeners (drain). */
export const STOP_LISTENING_CHANNEL = 'legate.stop-listening';

export type AcceptMode = 'handoff' | 'reuseport';

export interface WorkerInit {
  stats: StatsShared;
  /** Int32 per in-flight hand-off: who owns the duplicated fd (see HANDOFF_*). */
  handoffSlots: SharedArrayBuffer;
  acceptMode: AcceptMode;
  transparent: boolean;
}

export const HANDOFF_FREE = 0;
export const HANDOFF_TAKEN = 1;
export const HANDOFF_RECLAIMED = 2;

export interface HandoffTask {
  fd: number;
  slot: number;
  listener: string;
  dst: Destination;
}
