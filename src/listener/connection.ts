import type { Socket } from 'node:net';
import type { StatIndex } from '../config/snapshot.js';
import type { ClusterTable } from '../cluster/thread_local_cluster.js';
import type { StatsWriter } from '../stats/store.js';
import { L } from '../stats/scopes.js';
import type { Destination, ListenerTable } from './listener_table.js';
import { tcpProxy } from '../filters/network/tcp_proxy/filter.js';
import { TCP_PROXY, type RouteConfiguration } from '../config/model.js';
import { hcmAsTcp } from './hcm_fallback.js';

/** A worker's state for one snapshot: everything a new connection reads, built once per change. */
export interface WorkerState {
  version: number;
  listeners: ListenerTable;
  clusters: ClusterTable;
  /** Route configurations by name (the same objects across snapshots while unchanged). */
  routes: ReadonlyMap<string, RouteConfiguration>;
  statIndex: StatIndex;
  stats: StatsWriter;
}

export interface ConnectionContext {
  worker: WorkerState;
  listenerName: string;
  originalDst: Destination;
}

/**
 * A connection's pipeline once it is in a worker: filter-chain match on the original
 * destination, then the chain's network filter. The connection keeps the state it started
 * with even if a new snapshot arrives meanwhile.
 */
export function onConnection(socket: Socket, listenerName: string, originalDst: Destination, worker: WorkerState): void {
  const { stats, statIndex } = worker;
  const lBase = statIndex.listeners[listenerName];
  if (lBase !== undefined) {
    stats.inc(lBase + L.downstream_cx_total);
    stats.inc(lBase + L.downstream_cx_active);
    socket.once('close', () => {
      stats.dec(lBase + L.downstream_cx_active);
      stats.inc(lBase + L.downstream_cx_destroy);
    });
  }
  socket.setNoDelay(true);
  const selection = worker.listeners.select(listenerName, originalDst);
  if (!selection) {
    if (lBase !== undefined) stats.inc(lBase + L.no_filter_chain_match);
    socket.destroy();
    return;
  }
  const ctx: ConnectionContext = { worker, listenerName, originalDst };
  const filter = selection.chain.filters[0];
  if (filter.name === TCP_PROXY) return tcpProxy(socket, filter, ctx);
  // The HTTP connection manager plugs in here; until then its chains are carried as TCP.
  const tcp = hcmAsTcp(filter, selection.listener, originalDst, worker.routes);
  if (tcp) tcpProxy(socket, tcp, ctx);
  else socket.destroy();
}
