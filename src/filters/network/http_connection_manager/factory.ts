import type { Socket } from 'node:net';
import type { HttpConnectionManagerFilter, RouteConfiguration } from '../../../config/model.js';
import { UpstreamPools } from '../../../cluster/pool/pools.js';
import { AccessLogger } from '../../../access_log/logger.js';
import { CompiledRouteConfiguration } from '../../http/router/route_table.js';
import type { StatsWriter } from '../../../stats/store.js';
import type { ConnectionContext } from '../../../listener/connection.js';
import { HttpConnectionManager } from './connection_manager.js';
import type { HttpContext } from './http_context.js';

/**
 * Worker-wide HTTP state that outlives snapshots: upstream pools (warm connections survive
 * reloads), compiled route tables (cached by RouteConfiguration identity, which snapshot
 * deltas preserve while a route config is unchanged), and the access log writer.
 */
class HttpWorkerState {
  readonly pools: UpstreamPools;
  private readonly compiled = new WeakMap<RouteConfiguration, CompiledRouteConfiguration>();
  private accessLog: AccessLogger | undefined;

  constructor(stats: StatsWriter) {
    this.pools = new UpstreamPools(stats);
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

/** The HTTP connection manager for one accepted connection on an HCM filter chain. */
export function httpConnectionManager(socket: Socket, filter: HttpConnectionManagerFilter, ctx: ConnectionContext, initial?: Buffer): void {
  const w = ctx.worker;
  const state = (shared ??= new HttpWorkerState(w.stats));
  const mesh = w.mesh;
  const httpCtx: HttpContext = {
    filter,
    routes: state.routes(w.routes.get(filter.routeConfigName)),
    cluster: (name) => {
      const tlc = w.clusters.get(name);
      return tlc ? { tlc, config: tlc.config, statsBase: w.statIndex.clusters[name] } : undefined;
    },
    pools: state.pools,
    stats: w.stats,
    httpStats: w.statIndex.http?.[filter.statPrefix],
    accessLog: state.logger(mesh.accessLogFile, mesh.accessLogEncoding),
    originalDst: ctx.originalDst,
    listenerName: ctx.listenerName,
  };
  new HttpConnectionManager(socket, httpCtx).start(initial);
}
