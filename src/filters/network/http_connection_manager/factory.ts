import type { Socket } from 'node:net';
import type { HttpConnectionManagerFilter, RouteConfiguration } from '../../../config/model.js';
import { UpstreamPools } from '../../../cluster/pool/pools.js';
import { breakerFor } from '../../../cluster/circuit_breaker.js';
import { AccessLogger } from '../../../access_log/logger.js';
import { CompiledRouteConfiguration } from '../../http/router/route_table.js';
import type { StatsWriter } from '../../../stats/store.js';
import type { ConnectionContext, WorkerState } from '../../../listener/connection.js';
import { HttpConnectionManager } from './connection_manager.js';
import { H2ConnectionManager } from './http2/h2_connection.js';
import type { HttpContext } from './http_context.js';
import { sinkHostSlots } from '../../../cluster/host_shared.js';
import { VIRTUAL_INBOUND } from '../../../config/model.js';
import { newestAuthorization } from '../../http/rbac/newest.js';

/**
 * Worker-wide HTTP state that outlives snapshots: upstream pools (warm connections survive
 * reloads), compiled route tables (cached by RouteConfiguration identity, which snapshot
 * deltas preserve while a route config is unchanged), and the access log writer.
 */
class HttpWorkerState {
  readonly pools: UpstreamPools;
  private readonly compiled = new WeakMap<RouteConfiguration, CompiledRouteConfiguration>();
  private accessLog: AccessLogger | undefined;

  constructor(
    stats: StatsWriter,
    readonly hostStats: Float64Array,
  ) {
    this.pools = new UpstreamPools(stats, hostStats);
  }

  routes(rc: RouteConfiguration | undefined): CompiledRouteConfiguration | undefined {
    if (!rc) return undefined;
    let c = this.compiled.get(rc);
    if (!c) this.compiled.set(rc, (c = new CompiledRouteConfiguration(rc)));
    return c;
  }

  logger(path: string, encoding: 'TEXT' | 'JSON'): AccessLogger | undefined {
    if (!path) return undefined;
    if (this.accessLog?.path !== path) {
      this.accessLog?.close();
      this.accessLog = new AccessLogger(path, encoding);
    }
    return this.accessLog;
  }
}

let shared: HttpWorkerState | undefined;

/** Hosts that left a cluster: their upstream pools drain (src/cluster/pool/pools.ts). */
export function removeUpstreamHosts(cluster: string, keys: readonly string[]): void {
  shared?.pools.removeHosts(cluster, keys);
}

type ClusterEntry = NonNullable<ReturnType<HttpContext['cluster']>>;
/** Per worker state (a new one per config change): what streams look up per request, built once per cluster. */
const clusterEntries = new WeakMap<ConnectionContext['worker'], Map<string, ClusterEntry | null>>();

/** The last entry looked up on this thread: requests ask for the same cluster over and over. */
let last: { w: ConnectionContext['worker']; name: string; entry: ClusterEntry | undefined } | undefined;

function clusterEntry(w: ConnectionContext['worker'], name: string): ClusterEntry | undefined {
  if (last !== undefined && last.w === w && last.name === name) return last.entry;
  let entries = clusterEntries.get(w);
  if (!entries) clusterEntries.set(w, (entries = new Map()));
  let e = entries.get(name);
  if (e === undefined) {
    const tlc = w.clusters.get(name);
    e = tlc ? { tlc, config: tlc.config, statsBase: w.statIndex.clusters[name], breaker: breakerFor(w.breakers, w.statIndex.breakers?.[name], tlc.config) } : null;
    entries.set(name, e);
  }
  last = { w, name, entry: e ?? undefined };
  return last.entry;
}

/**
 * The HTTP connection manager for one accepted connection on an HCM filter chain. `h2`: the
 * client spoke prior-knowledge HTTP/2 (h2c preface) or negotiated h2 by ALPN.
 */
export function httpConnectionManager(socket: Socket, filter: HttpConnectionManagerFilter, ctx: ConnectionContext, initial?: Buffer, h2 = false): void {
  const first = ctx.worker;
  const state = (shared ??= new HttpWorkerState(first.stats, (first.hostSlots ?? sinkHostSlots()).stats));
  const build = (w: WorkerState): HttpContext => ({
    filter,
    routes: state.routes(w.routes.get(filter.routeConfigName)),
    cluster: (name) => clusterEntry(w, name),
    pools: state.pools,
    stats: w.stats,
    hostStats: state.hostStats,
    httpStats: w.statIndex.http?.[filter.statPrefix],
    accessLog: state.logger(w.mesh.accessLogFile, w.mesh.accessLogEncoding),
    istio: w.statIndex.istio,
    reporter: ctx.listenerName === VIRTUAL_INBOUND ? 'destination' : 'source',
    originalDst: ctx.originalDst,
    tls: ctx.tls,
    authorization: w === first ? filter.authorization : newestAuthorization(w, ctx, filter),
    listenerName: ctx.listenerName,
  });
  const initialCtx = build(first);
  // New requests on this connection follow configuration changes (Envoy's RDS/CDS semantics);
  // while the newest state lacks this chain's route configuration (its listener is draining),
  // they keep the one the connection started with.
  let seen = first;
  let current = initialCtx;
  const streamContext = (): HttpContext => {
    const now = first.latest?.() ?? first;
    if (now !== seen) {
      seen = now;
      current = now.routes.has(filter.routeConfigName) ? build(now) : initialCtx;
    }
    return current;
  };
  if (h2) new H2ConnectionManager(socket, initialCtx, streamContext, initial);
  else new HttpConnectionManager(socket, initialCtx, streamContext).start(initial);
}
