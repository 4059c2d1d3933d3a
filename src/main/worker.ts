/**
 * Worker thread entry (a piscina task module). Each task hands over one accepted connection;
 * the worker adopts the fd, and the connection then lives on this thread's event loop while
 * the task itself resolves at once. Configuration arrives by BroadcastChannel, never by task.
 */
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import { Socket } from 'node:net';
import { ClusterTable } from '../cluster/thread_local_cluster.js';
import type { HostUpdateMessage } from '../cluster/host_update.js';
import type { WorkerSnapshot } from '../config/snapshot.js';
import { ListenerTable, type Destination } from '../listener/listener_table.js';
import { onConnection, type WorkerState } from '../listener/connection.js';
import { StatsWriter } from '../stats/store.js';
import { channelName, HANDOFF_FREE, HANDOFF_TAKEN, type HandoffTask, type WorkerInit } from './protocol.js';
import { startReusePortListeners, stopReusePortListeners } from '../listener/reuseport.js';

const init = workerData as WorkerInit;
const stats = StatsWriter.claim(init.stats, threadId);
const handoffSlots = new Int32Array(init.handoffSlots);
let state: WorkerState | undefined;
const waiting: (() => void)[] = [];

// reuseport: tell the main thread once this worker accepts (readiness waits for it); close on drain.
const listening = new BroadcastChannel(channelName(init.poolId, 'listening'));
new BroadcastChannel(channelName(init.poolId, 'stop-listening')).onmessage = () => stopReusePortListeners();
const configChannel = new BroadcastChannel(channelName(init.poolId, 'config'));
configChannel.onmessage = (event) => {
  const data = (event as { data: WorkerSnapshot | HostUpdateMessage }).data;
  // DNS host-set changes are small diffs applied to the current snapshot's clusters.
  if ('hostUpdate' in data) {
    state?.clusters.applyHostUpdate(data.hostUpdate);
    return;
  }
  const ws = data;
  if (state && ws.snapshot.version <= state.version) return;
  state = {
    version: ws.snapshot.version,
    listeners: new ListenerTable(ws.snapshot),
    clusters: new ClusterTable(ws.snapshot.clusters, state?.clusters),
    statIndex: ws.stats,
    stats,
  };
  for (const u of ws.hosts ?? []) state.clusters.applyHostUpdate(u);
  if (init.acceptMode === 'reuseport' && startReusePortListeners(ws.snapshot, () => state, init.transparent)) {
    listening.postMessage({ threadId });
  }
  for (const resume of waiting.splice(0)) resume();
};

// A worker that starts late (or replaces a dead one) asks for the current snapshot.
new BroadcastChannel(channelName(init.poolId, 'hello')).postMessage({ threadId });

function adopt(task: HandoffTask): void {
  // Exactly one side owns the fd: the worker by claiming the slot here, or the main thread by
  // reclaiming it after a failed task. Whoever loses the race must not touch the fd.
  if (Atomics.compareExchange(handoffSlots, task.slot, HANDOFF_FREE, HANDOFF_TAKEN) !== HANDOFF_FREE) return;
  const socket = new Socket({ fd: task.fd, readable: true, writable: true, allowHalfOpen: true });
  const dst: Destination = task.dst;
  const run = () => onConnection(socket, task.listener, dst, state!);
  // Until the first snapshot arrives the socket buffers (it is not flowing before a 'data' listener).
  if (state) run();
  else waiting.push(run);
}

export default function handoff(task: HandoffTask): void {
  adopt(task);
}
