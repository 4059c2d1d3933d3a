/**
 * Worker thread entry (a piscina task module). Each task hands over one accepted connection;
 * the worker adopts the fd, and the connection then lives on this thread's event loop while
 * the task itself resolves at once. Configuration arrives by BroadcastChannel, never by task.
 */
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import { Socket } from 'node:net';
import { ClusterTable, type ClusterRuntime } from '../cluster/thread_local_cluster.js';
import { HostSlots } from '../cluster/host_shared.js';
import { DEFAULT_BALANCER_ENV } from '../cluster/lb/cluster_load_balancer.js';
import { removeUpstreamHosts } from '../filters/network/http_connection_manager/factory.js';
import type { HostUpdateMessage } from '../cluster/host_update.js';
import { mergeStats, type WorkerMessage } from '../config/snapshot.js';
import type { Snapshot } from '../config/model.js';
import { applyDelta } from '../config/snapshot_delta.js';
import { ListenerTable, type Destination } from '../listener/listener_table.js';
import { onConnection, type WorkerState } from '../listener/connection.js';
import { StatsWriter } from '../stats/store.js';
import { CircuitBreakers } from '../cluster/circuit_breaker.js';
import {
  channelName, HANDOFF_FREE, HANDOFF_TAKEN, type ConfigAck, type DrainRequest, type HandoffTask, type MemoryMessage, type OutlierUpdateMessage, type StopListening, type WorkerInit,
} from './protocol.js';
import { drainHttpListeners } from '../filters/network/http_connection_manager/drain.js';
import { ownHeapFigures } from '../admin/memory.js';
import { GlobalConnectionLimit } from '../listener/connection_limit.js';
import { startReusePortListeners, stopReusePortListeners } from '../listener/reuseport.js';
import { readerSocketOptions, trackReads } from '../listener/socket_reader.js';
import { serveHistograms } from '../stats/latency.js';
import { configureTls } from '../tls/contexts.js';
import { configureCredentials } from '../tls/credentials.js';
import { nativeSockets } from '../listener/native/index.js';
import { performance } from 'node:perf_hooks';

const init = workerData as WorkerInit;
if (init.certDir) configureTls(init.certDir);
if (init.credentialDir) configureCredentials(init.credentialDir);
// --busy-poll: this thread's loop never sleeps (listener/native/busy_poll.c); without the addon it sleeps as usual.
if (init.busyPoll) nativeSockets()?.busyPoll(true);
const stats = StatsWriter.claim(init.stats, threadId);
const breakers = init.breakers && CircuitBreakers.claim(init.breakers, threadId);
serveHistograms(init.poolId, stats.latency);
const handoffSlots = new Int32Array(init.handoffSlots);
const connectionLimit = init.connectionLimit.max > 0 ? new GlobalConnectionLimit(init.connectionLimit) : undefined;
const hostSlots = new HostSlots(init.hostShared, stats.slab);
const outlierReports = new BroadcastChannel(channelName(init.poolId, 'outlier'));
const clusterRuntime: ClusterRuntime = {
  slots: hostSlots,
  report: (r) => outlierReports.postMessage(r),
  onHostsRemoved: (cluster, keys) => removeUpstreamHosts(cluster, keys),
};
const balancerEnv = { ...DEFAULT_BALANCER_ENV, locality: init.locality ?? '' };
let state: WorkerState | undefined;
let snapshot: Snapshot | undefined;
const draining = new Map<string, WorkerState>();
const waiting: (() => void)[] = [];

const hello = new BroadcastChannel(channelName(init.poolId, 'hello'));
const acks = new BroadcastChannel(channelName(init.poolId, 'ack'));
// reuseport: tell the main thread once this worker accepts (readiness waits for it); close on drain.
const listening = new BroadcastChannel(channelName(init.poolId, 'listening'));
new BroadcastChannel(channelName(init.poolId, 'stop-listening')).onmessage = (event) => stopReusePortListeners((event as { data: StopListening }).data.listeners);
new BroadcastChannel(channelName(init.poolId, 'drain')).onmessage = (event) => drainHttpListeners((event as { data: DrainRequest }).data.listeners);
const memory = new BroadcastChannel(channelName(init.poolId, 'memory'));
memory.onmessage = (event) => {
  const msg = (event as { data: MemoryMessage }).data;
  if ('ask' in msg) memory.postMessage({ answer: msg.ask, threadId, heap: ownHeapFigures() } satisfies MemoryMessage);
};
const configChannel = new BroadcastChannel(channelName(init.poolId, 'config'));
configChannel.onmessage = (event) => {
  const msg = (event as { data: WorkerMessage | HostUpdateMessage | OutlierUpdateMessage }).data;
  // Outlier verdicts live in shared memory; the message says which cluster's to re-read.
  if ('outlierUpdate' in msg) {
    state?.clusters.refreshEjections(msg.outlierUpdate);
    return;
  }
  // DNS host-set changes are small diffs applied to the current snapshot's clusters.
  if ('hostUpdate' in msg) {
    state?.clusters.applyHostUpdate(msg.hostUpdate);
    return;
  }
  const started = performance.now();
  let next: Snapshot;
  if (msg.kind === 'delta') {
    if (snapshot && msg.delta.version <= snapshot.version) return;
    if (!snapshot || msg.delta.baseVersion !== snapshot.version) {
      // Missed a version (or started late): ask for the whole snapshot.
      hello.postMessage({ threadId });
      return;
    }
    next = applyDelta(snapshot, msg.delta);
  } else {
    if (snapshot && msg.snapshot.version <= snapshot.version) return;
    next = msg.snapshot;
  }
  snapshot = next;
  const previous = state;
  // Built once per change; connections already running keep the state they started with, but
  // their new HTTP requests route with the newest (`latest`, as Envoy applies RDS/CDS updates).
  // What a delta leaves alone is kept as it is (tables, per-cluster LB state, DNS host sets);
  // a new cluster table takes over the resolved hosts of DNS clusters whose config is unchanged.
  const d = msg.kind === 'delta' ? msg.delta : undefined;
  const unchanged = (x: { upsert: unknown[]; remove: unknown[] } | undefined) => !!x && x.upsert.length === 0 && x.remove.length === 0;
  const statIndex = msg.kind === 'delta' && state ? mergeStats(state.statIndex, msg.stats) : msg.stats;
  state = {
    version: next.version,
    listeners: previous && unchanged(d?.listeners) ? previous.listeners : new ListenerTable(next),
    clusters:
      previous && unchanged(d?.clusters)
        ? previous.clusters
        : new ClusterTable(next.clusters, previous?.clusters, { slots: statIndex.hostSlots, runtime: clusterRuntime, env: balancerEnv }),
    routes: previous && unchanged(d?.routes) && !d?.routePatches ? previous.routes : new Map(next.routes.map((r) => [r.name, r])),
    statIndex,
    stats,
    hostSlots,
    breakers,
    latest: () => state!,
    connectionLimit,
    mesh: next.mesh,
  };
  // A whole snapshot (late worker, missed version) carries the DNS clusters' current host sets.
  if (msg.kind === 'full') for (const u of msg.hosts ?? []) state.clusters.applyHostUpdate(u);
  // A bound listener this change removed still accepts for drainDuration (main thread): its
  // new connections are served with the last state that had it.
  if (previous) {
    for (const name of previous.listeners.boundNames()) {
      if (state.listeners.hasBound(name) || draining.has(name)) continue;
      draining.set(name, previous);
      setTimeout(() => draining.delete(name), next.mesh.drainDurationMs + 1000).unref();
    }
  }
  for (const name of state.listeners.boundNames()) draining.delete(name);
  if (init.acceptMode === 'reuseport' && startReusePortListeners(next, () => state, init.transparent)) {
    listening.postMessage({ threadId });
  }
  for (const resume of waiting.splice(0)) resume();
  acks.postMessage({ threadId, version: next.version, applyMs: Math.round(performance.now() - started) } satisfies ConfigAck);
};

// A worker that starts late (or replaces a dead one) asks for the current snapshot.
hello.postMessage({ threadId });

function adopt(task: HandoffTask): void {
  // Exactly one side owns the fd: the worker by claiming the slot here, or the main thread by
  // reclaiming it after a failed task. Whoever loses the race must not touch the fd.
  if (Atomics.compareExchange(handoffSlots, task.slot, HANDOFF_FREE, HANDOFF_TAKEN) !== HANDOFF_FREE) return;
  const socket = trackReads(new Socket({ fd: task.fd, readable: true, writable: true, allowHalfOpen: true, ...readerSocketOptions() }));
  const dst: Destination = task.dst;
  const run = () => onConnection(socket, task.listener, dst, (!state!.listeners.hasBound(task.listener) && draining.get(task.listener)) || state!);
  // Until the first snapshot arrives the socket's bytes are kept for its first reader.
  if (state) run();
  else waiting.push(run);
}

export default function handoff(task: HandoffTask): void {
  adopt(task);
}
