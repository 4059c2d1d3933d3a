import { createServer } from 'node:net';
import { once } from 'node:events';
import type { ExecutionContext } from 'ava';
import { ClusterTable } from '../../src/cluster/thread_local_cluster.js';
import { onConnection, type WorkerState } from '../../src/listener/connection.js';
import { ListenerTable, type Destination } from '../../src/listener/listener_table.js';
import { indexStats } from '../../src/config/snapshot.js';
import type { Listener, Snapshot } from '../../src/config/model.js';
import { defaultMesh } from '../../src/config/mesh.js';
import { sidecarListeners, tcpChain } from '../../src/config/translate/sidecar.js';
import { httpConnectionManager } from '../../src/config/translate/route_config.js';
import { DEFAULT_TRANSLATE_OPTIONS } from '../../src/config/translate/context.js';
import { StatsRegistry, StatsWriter } from '../../src/stats/store.js';

/**
 * A worker's connection pipeline in-process: a loopback "listener" feeds each accepted socket to
 * onConnection as if iptables had captured it to `listenerName` with original destination `dst`.
 */
export async function serveConnections(t: ExecutionContext, snapshot: Snapshot, dst: Destination, listenerName = 'virtualOutbound') {
  const registry = new StatsRegistry({ slabs: 2, capacity: 1024 });
  const state: WorkerState = {
    version: snapshot.version,
    listeners: new ListenerTable(snapshot),
    clusters: new ClusterTable(snapshot.clusters),
    routes: new Map(),
    statIndex: indexStats(snapshot, registry),
    stats: StatsWriter.claim(registry.shared, 1),
    mesh: snapshot.mesh,
  };
  const server = createServer({ allowHalfOpen: true }, (s) => onConnection(s, listenerName, dst, state));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as { port: number }).port, stat: (n: string) => registry.readByName(n) ?? NaN };
}

/** The sidecar's capture listeners (shaped by `listeners`) and a STATIC cluster `up` whose one endpoint is 127.0.0.1:`upstreamPort`. */
export function sidecarSnapshotTo(upstreamPort: number, listeners: (capture: Listener[]) => Listener[]): Snapshot {
  const mesh = defaultMesh();
  const base = sidecarListeners(mesh, DEFAULT_TRANSLATE_OPTIONS);
  return {
    version: 1,
    source: 't',
    builtAt: '',
    role: 'sidecar',
    mesh,
    listeners: listeners(base.listeners),
    routes: [],
    clusters: [...base.clusters, { name: 'up', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 1000, endpoints: [{ address: '127.0.0.1', port: upstreamPort, weight: 1 }] }],
  };
}

/**
 * A port as istiod builds `0.0.0.0_<port>` for an outbound service: tls_inspector and
 * http_inspector before the filter-chain match, an HTTP chain, and tcp_proxy to the cluster `up`
 * for everything else. `overrides`: the listener filters' timeout and what it does.
 */
export function detectingPort(port: number, overrides: Pick<Listener, 'listenerFiltersTimeoutMs' | 'onListenerFiltersTimeout'> = {}): Listener {
  return {
    name: `0.0.0.0_${port}`,
    address: { address: '0.0.0.0', port },
    trafficDirection: 'OUTBOUND',
    bindToPort: false,
    useOriginalDst: false,
    listenerFilters: ['envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector'],
    filterChains: [{ name: 'http', match: { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] }, filters: [httpConnectionManager(String(port), `outbound_0.0.0.0_${port}`)] }],
    defaultFilterChain: tcpChain('PassthroughFilterChain', 'up', 0),
    ...overrides,
  };
}
