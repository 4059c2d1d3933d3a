import type { Authorization, Cluster, HttpConnectionManagerFilter } from '../../../config/model.js';
import type { ThreadLocalCluster } from '../../../cluster/thread_local_cluster.js';
import type { UpstreamPools } from '../../../cluster/pool/pools.js';
import type { Breaker } from '../../../cluster/circuit_breaker.js';
import type { StatsWriter } from '../../../stats/store.js';
import type { CompiledRouteConfiguration } from '../../http/router/route_table.js';
import type { AccessLogger } from '../../../access_log/logger.js';
import type { Destination } from '../../../listener/listener_table.js';
import type { DownstreamTlsInfo } from '../../../listener/connection.js';
import type { StatIndex } from '../../../config/snapshot.js';

/** What the HTTP connection manager reads from its worker: one snapshot's view plus the long-lived pools. */
export interface HttpContext {
  filter: HttpConnectionManagerFilter;
  routes: CompiledRouteConfiguration | undefined;
  cluster(name: string): { tlc: ThreadLocalCluster; config: Cluster; statsBase: number | undefined; breaker: Breaker } | undefined;
  pools: UpstreamPools;
  stats: StatsWriter;
  /** This worker's slab of per-host stats, indexed by Host.statBase + HS.*. */
  hostStats: Float64Array;
  /** Base of this HCM's `http.<stat_prefix>.*` stats. */
  httpStats: number | undefined;
  accessLog: AccessLogger | undefined;
  /** Istio's metrics: peer label sets by cluster (undefined when turned off), and who reports a request that reached no cluster. */
  istio: StatIndex['istio'];
  reporter: 'source' | 'destination';
  originalDst: Destination;
  /** The downstream connection's TLS (peer identity for authorization, SNI); absent on plaintext. */
  tls?: DownstreamTlsInfo;
  /** AuthorizationPolicy / RequestAuthentication of the chain, from the newest configuration (src/filters/http/rbac/newest.ts). */
  authorization?: Authorization;
  /** The capture listener the connection came in on (what drains: see drain.ts). */
  listenerName: string;
}
