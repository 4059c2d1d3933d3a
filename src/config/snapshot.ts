import type { Snapshot } from './model.js';
import type { SnapshotDelta } from './snapshot_delta.js';
import { CLUSTER, HTTP, LISTENER, TCP, SERVER_STATS } from '../stats/scopes.js';
import { HTTP_CONNECTION_MANAGER, TCP_PROXY, type Listener } from './model.js';
import type { StatsRegistry } from '../stats/store.js';
import type { HostUpdate } from '../cluster/host_update.js';
import { reporterOf } from '../stats/istio/peers.js';

/** Slot indexes of the stats a snapshot's objects write, resolved once on the main thread. */
export interface StatIndex {
  clusters: Record<string, number>;
  listeners: Record<string, number>;
  tcp: Record<string, number>;
  /** `http.<stat_prefix>.*` of HTTP connection managers. */
  http: Record<string, number>;
  server: { [K in keyof typeof SERVER_STATS]: number };
  /** Shared host slots by cluster and host key (src/cluster/host_registry.ts); filled in by the supervisor. */
  hostSlots?: Record<string, Record<string, number>>;
  /** Circuit-breaker slot of each cluster in the shared counts (src/cluster/circuit_breaker.ts); absent in tests without them. */
  breakers?: Record<string, number>;
  /** Istio's standard metrics (absent when off): each cluster's peer label set, and the sets for requests that reached no cluster. */
  istio?: { peers: Record<string, number>; noCluster: { source: number; destination: number } };
}

/** What a worker receives: the model plus where to count. Structured-cloned once per change. */
export interface WorkerSnapshot {
  snapshot: Snapshot;
  stats: StatIndex;
  /** DNS clusters' current host sets, applied before the snapshot serves its first connection. */
  hosts?: HostUpdate[];
}

/**
 * One message per change on the config channel: the whole snapshot (first one, or for a
 * worker that asks), or a delta on top of the previous version (see snapshot_delta.ts).
 */
export type WorkerMessage = ({ kind: 'full' } & WorkerSnapshot) | { kind: 'delta'; delta: SnapshotDelta; stats: StatIndex };

/**
 * The index after a change, from the previous one: only what the delta adds is looked up.
 * Slots never move for a name and entries of removed resources are harmless, so the
 * previous index object is extended in place.
 */
export function indexStatsAfter(previous: StatIndex | undefined, snapshot: Snapshot, delta: SnapshotDelta | undefined, registry: StatsRegistry): StatIndex {
  if (!previous || !delta) return indexStats(snapshot, registry);
  return indexStats({ clusters: delta.clusters.upsert, listeners: delta.listeners.upsert }, registry, previous);
}

/**
 * The part of a stat index a delta needs: slots of the resources it adds or changes (slots
 * never move for a name, so a worker merges them into the index it has).
 */
export function statsForDelta(stats: StatIndex, delta: SnapshotDelta): StatIndex {
  const out: StatIndex = { clusters: {}, listeners: {}, tcp: {}, http: {}, server: stats.server };
  if (stats.istio) out.istio = { peers: {}, noCluster: stats.istio.noCluster };
  for (const c of delta.clusters.upsert) {
    if (stats.clusters[c.name] !== undefined) out.clusters[c.name] = stats.clusters[c.name];
    if (out.istio && stats.istio!.peers[c.name] !== undefined) out.istio.peers[c.name] = stats.istio!.peers[c.name];
  }
  if (stats.hostSlots) {
    out.hostSlots = {};
    for (const c of delta.clusters.upsert) if (stats.hostSlots[c.name]) out.hostSlots[c.name] = stats.hostSlots[c.name];
  }
  if (stats.breakers) {
    const b: Record<string, number> = (out.breakers = {});
    for (const c of delta.clusters.upsert) if (stats.breakers[c.name] !== undefined) b[c.name] = stats.breakers[c.name];
  }
  for (const l of delta.listeners.upsert) {
    if (stats.listeners[l.name] !== undefined) out.listeners[l.name] = stats.listeners[l.name];
    forEachFilter(l, (kind, prefix) => {
      if (stats[kind][prefix] !== undefined) out[kind][prefix] = stats[kind][prefix];
    });
  }
  return out;
}

/** A worker's side: the index it had, with a delta's slots added (in place: old states may keep using it safely). */
export function mergeStats(into: StatIndex, partial: StatIndex): StatIndex {
  Object.assign(into.clusters, partial.clusters);
  Object.assign(into.listeners, partial.listeners);
  Object.assign(into.tcp, partial.tcp);
  Object.assign(into.http, partial.http);
  if (partial.hostSlots) into.hostSlots = Object.assign(into.hostSlots ?? {}, partial.hostSlots);
  if (partial.breakers) into.breakers = Object.assign(into.breakers ?? {}, partial.breakers);
  if (partial.istio) into.istio = { peers: Object.assign(into.istio?.peers ?? {}, partial.istio.peers), noCluster: partial.istio.noCluster };
  into.server = partial.server;
  return into;
}

export function serverStatIndex(registry: StatsRegistry): StatIndex['server'] {
  const out = {} as Record<keyof typeof SERVER_STATS, number>;
  for (const [key, s] of Object.entries(SERVER_STATS) as [keyof typeof SERVER_STATS, (typeof SERVER_STATS)[keyof typeof SERVER_STATS]][]) {
    out[key] = registry.define(s.name, s.kind, s.prom);
  }
  return out;
}

export function indexStats(snapshot: Pick<Snapshot, 'clusters' | 'listeners'>, registry: StatsRegistry, into?: StatIndex): StatIndex {
  const stats: StatIndex = into ?? { clusters: {}, listeners: {}, tcp: {}, http: {}, server: serverStatIndex(registry) };
  const istio = registry.istio;
  if (istio && !stats.istio) {
    stats.istio = { peers: {}, noCluster: { source: istio.peers.peer('source', undefined, undefined), destination: istio.peers.peer('destination', undefined, undefined) } };
  }
  for (const c of snapshot.clusters) {
    stats.clusters[c.name] = registry.scope(CLUSTER, c.name);
    if (istio) stats.istio!.peers[c.name] = istio.peers.peer(reporterOf(c.name), c.name, c);
  }
  for (const l of snapshot.listeners) {
    if (l.bindToPort) stats.listeners[l.name] = registry.scope(LISTENER, `${l.address.address}_${l.address.port}`);
    forEachFilter(l, (kind, prefix) => {
      if (stats[kind][prefix] === undefined) stats[kind][prefix] = registry.scope(kind === 'tcp' ? TCP : HTTP, prefix);
    });
  }
  return stats;
}

/** The stat prefixes of a listener's network filters: tcp_proxy's `tcp.*` and the HCM's `http.*`. */
function forEachFilter(l: Listener, fn: (kind: 'tcp' | 'http', statPrefix: string) => void): void {
  for (const chain of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]) {
    for (const f of chain.filters) {
      if (f.name === TCP_PROXY) fn('tcp', f.statPrefix);
      else if (f.name === HTTP_CONNECTION_MANAGER) fn('http', f.statPrefix);
    }
  }
}
