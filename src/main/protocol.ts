import type { Destination } from '../listener/listener_table.js';
import type { StatsShared } from '../stats/store.js';

/** Messages and shared memory between the main thread and workers. */
export const CONFIG_CHANNEL = 'legate.config';
export const HELLO_CHANNEL = 'legate.hello';
/** Workers report `{ threadId, version }` here once a snapshot serves new connections. */
export const ACK_CHANNEL = 'legate.config.ack';

export interface ConfigAck {
  threadId: number;
  version: number;
  /** How long the worker took to build its state for this version (ms). */
  applyMs?: number;
}

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
