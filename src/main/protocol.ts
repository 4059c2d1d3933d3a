import type { Destination } from '../listener/listener_table.js';
import type { StatsShared } from '../stats/store.js';
import type { HostShared } from '../cluster/host_shared.js';
import type { ConnectionLimitShared } from '../listener/connection_limit.js';
import type { CircuitBreakerShared } from '../cluster/circuit_breaker.js';

/**
 * Messages and shared memory between the main thread and workers. BroadcastChannel names are
 * process-wide, so each pool gets its own set (several pools live in one process in tests):
 * `config` carries snapshots, their deltas and DNS host-set updates, `hello` is a late worker
 * (or one that missed a version) asking for the whole current snapshot, `ack` is a worker
 * reporting the version it serves (ConfigAck), and in reuseport mode `listening` is a worker
 * reporting `{ threadId }` once its capture listeners are bound and `stop-listening` tells
 * workers to close them (StopListening). `drain` starts an HTTP drain of some listeners
 * (DrainRequest); `memory` asks every worker for its heap figures and carries the answers.
 * `outlier` carries workers' outlier-detection reports (a host reached a consecutive-error
 * threshold) to the main thread; the verdicts go back on `config` as `{ outlierUpdate: cluster }`
 * (read the ejected flags from shared memory again).
 */
export type ChannelKind = 'config' | 'hello' | 'ack' | 'listening' | 'stop-listening' | 'drain' | 'memory' | 'outlier';

export interface OutlierUpdateMessage {
  outlierUpdate: string;
}
export const channelName = (poolId: string, kind: ChannelKind) => `legate.${kind}.${poolId}`;

/** Sent on the `ack` channel once a snapshot serves new connections. */
export interface ConfigAck {
  threadId: number;
  version: number;
  /** How long the worker took to build its state for this version (ms). */
  applyMs?: number;
}

/** reuseport: close these capture listeners (all of them when `listeners` is absent). */
export interface StopListening {
  listeners?: string[];
}

/** Drain these listeners: HTTP responses carry `connection: close`, idle keep-alive connections close. */
export interface DrainRequest {
  listeners: string[];
}

/** On `memory`: the main thread's question (`ask`), or one worker's answer. */
export type MemoryMessage = { ask: number } | { answer: number; threadId: number; heap: import('../admin/memory.js').HeapFigures };

export type AcceptMode = 'handoff' | 'reuseport';

export interface WorkerInit {
  poolId: string;
  stats: StatsShared;
  /** Per-host shared state: outlier counters and verdicts, /clusters stats. */
  hostShared: HostShared;
  /** Circuit-breaker counts shared by all workers (absent: no limits enforced). */
  breakers?: CircuitBreakerShared;
  /** Int32 per in-flight hand-off: who owns the duplicated fd (see HANDOFF_*). */
  handoffSlots: SharedArrayBuffer;
  /** The global downstream connection count and its limit (`--max-connections`). */
  connectionLimit: ConnectionLimitShared;
  acceptMode: AcceptMode;
  transparent: boolean;
  /** The proxy's `region/zone/subzone` ('' when unknown), for locality load balancing. */
  locality: string;
  /** The workload certificate directory (`--cert-dir`); each worker builds its own TLS contexts from it. */
  certDir?: string;
  /** Gateway credentials (`--credential-dir`): `<dir>/<credentialName>/tls.crt`, …. */
  credentialDir?: string;
  /** `--busy-poll`: the worker's loop polls without sleeping. */
  busyPoll?: boolean;
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
