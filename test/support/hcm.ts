import { createServer, connect, type Server, type Socket } from 'node:net';
import { sinkHostSlots } from '../../src/cluster/host_shared.js';
import { once } from 'node:events';
import type { ExecutionContext } from 'ava';
import type { Cluster, HttpConnectionManagerFilter, Route, RouteAction, RouteConfiguration } from '../../src/config/model.js';
import { ThreadLocalCluster } from '../../src/cluster/thread_local_cluster.js';
import { UpstreamPools } from '../../src/cluster/pool/pools.js';
import { HttpConnectionManager } from '../../src/filters/network/http_connection_manager/connection_manager.js';
import { H2ConnectionManager } from '../../src/filters/network/http_connection_manager/http2/h2_connection.js';
import type { HttpContext } from '../../src/filters/network/http_connection_manager/http_context.js';
import { CompiledRouteConfiguration } from '../../src/filters/http/router/route_table.js';
import { StatsRegistry, StatsWriter } from '../../src/stats/store.js';
import { CLUSTER, HTTP } from '../../src/stats/scopes.js';
import { CircuitBreakers } from '../../src/cluster/circuit_breaker.js';
import { CircuitBreakerRegistry } from '../../src/cluster/circuit_breaker_registry.js';
import { indexBreakers } from '../../src/cluster/circuit_breaker_stats.js';
import type { AccessLogger } from '../../src/access_log/logger.js';
import type { StreamInfo } from '../../src/filters/network/http_connection_manager/stream_info.js';

export const HCM: HttpConnectionManagerFilter = {
  name: 'envoy.filters.network.http_connection_manager',
  statPrefix: 'outbound_0.0.0.0_80',
  routeConfigName: '80',
  httpFilters: ['envoy.filters.http.fault', 'envoy.filters.http.router'],
  stripAnyHostPort: true,
  streamIdleTimeoutMs: 0,
  requestHeadersTimeoutMs: 0,
  useRemoteAddress: false,
  normalizePath: true,
  upgradeTypes: ['websocket'],
  serverName: 'istio-envoy',
  serverHeaderTransformation: 'OVERWRITE',
};

export function routeTo(cluster: string, extra: Partial<RouteAction> = {}, more: Partial<Route> = {}): Route {
  return {
    name: 'default',
    match: { prefix: '/', caseSensitive: true, headers: [], queryParameters: [] },
    route: { cluster, timeoutMs: 0, requestMirrorPolicies: [], hashPolicy: [], ...extra },
    requestHeadersToAdd: [],
    requestHeadersToRemove: [],
    responseHeadersToAdd: [],
    responseHeadersToRemove: [],
    ...more,
  };
}

export function staticCluster(name: string, ports: number[], extra: Partial<Cluster> = {}): Cluster {
  return {
    name,
    type: 'STATIC',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: 1000,
    endpoints: ports.map((port) => ({ address: '127.0.0.1', port, weight: 1 })),
    ...extra,
  };
}

/**
 * An HTTP connection manager on a loopback port, wired to a hand-built route table and
 * clusters, the way a worker wires it from a snapshot.
 */
export async function startHcm(t: ExecutionContext, routes: Route[], clusters: Cluster[], domains = ['*'], filter: HttpConnectionManagerFilter = HCM, opts: { h2?: boolean } = {}) {
  const registry = new StatsRegistry({ slabs: 2, capacity: 4096 });
  const stats = StatsWriter.claim(registry.shared, 1);
  const rc: RouteConfiguration = { name: '80', validateClusters: false, virtualHosts: [{ name: 'vh', domains, routes, includeRequestAttemptCount: true }] };
  const compiled = new CompiledRouteConfiguration(rc);
  // Circuit breakers over real shared counts, as a worker has them (one worker column).
  const breakerRegistry = new CircuitBreakerRegistry({ columns: 1, capacity: 64 });
  const slots = indexBreakers(breakerRegistry, registry, clusters, {});
  const breakers = CircuitBreakers.claim(breakerRegistry.shared, 1);
  const tlcs = new Map(
    clusters.map((c) => [c.name, { tlc: new ThreadLocalCluster(c), config: c, statsBase: registry.scope(CLUSTER, c.name), breaker: breakers.forCluster(c, slots[c.name]) }]),
  );
  const hostStats = sinkHostSlots().stats;
  const pools = new UpstreamPools(stats, hostStats);
  const logged: StreamInfo[] = [];
  const accessLog = { log: (i: StreamInfo) => logged.push(i) } as unknown as AccessLogger;
  const ctx: HttpContext = {
    filter,
    routes: compiled,
    cluster: (name) => tlcs.get(name),
    pools,
    stats,
    hostStats,
    httpStats: registry.scope(HTTP, HCM.statPrefix),
    accessLog,
    originalDst: { address: '10.0.0.1', port: 80 },
    istio: undefined,
    reporter: 'source',
    listenerName: 'virtualOutbound',
  };
  // h2: every connection is prior-knowledge HTTP/2 (the listener's protocol detection is not under test here).
  const server = createServer({ allowHalfOpen: true }, (s) => (opts.h2 ? new H2ConnectionManager(s, ctx, () => ctx, undefined) : new HttpConnectionManager(s, ctx).start()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.close();
    pools.drainAll();
  });
  return { port: (server.address() as { port: number }).port, stat: (n: string) => registry.readByName(n) ?? NaN, logged, breakers: breakerRegistry, slots };
}

/** A raw upstream: `onRequest(raw request text, socket)`; records connections and bytes seen. */
export async function rawUpstream(t: ExecutionContext, onRequest: (req: string, s: Socket, n: number) => void) {
  const state = { port: 0, connections: 0, requests: [] as string[], server: undefined as unknown as Server };
  const sockets = new Set<Socket>();
  state.server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    state.connections++;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // One request per head (tests send bodies with content-length or none).
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end + 4);
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
        const chunked = /\r\ntransfer-encoding: *chunked/i.test(head);
        let total = end + 4 + (cl ? Number(cl[1]) : 0);
        if (chunked) {
          const last = buf.indexOf('\r\n0\r\n\r\n', end);
          if (last < 0) return;
          total = last + 7;
        }
        if (buf.length < total) return;
        const req = buf.slice(0, total);
        buf = buf.slice(total);
        state.requests.push(req);
        onRequest(req, s, state.requests.length);
      }
    });
    s.on('error', () => {});
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.port = (state.server.address() as { port: number }).port;
  t.teardown(() => {
    state.server.close();
    for (const s of sockets) s.destroy();
  });
  return state;
}

export const ok = (body = 'ok', extra = '') => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

/** Sends raw bytes and collects the reply until `done(text)` says it is complete or the peer closes. */
export async function rawExchange(port: number, data: string, done: (text: string) => boolean = () => false, timeoutMs = 3000): Promise<{ text: string; closed: boolean }> {
  const s = connect({ port, host: '127.0.0.1' });
  let text = '';
  let closed = false;
  s.on('error', () => {});
  s.write(data, 'latin1');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (done(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve();
    });
  });
  s.destroy();
  return { text, closed };
}

/** Counts complete responses with content-length bodies in `text`. */
export function responses(text: string): { status: number; head: string; body: string }[] {
  const out = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
    const len = cl ? Number(cl[1]) : 0;
    if (rest.length < end + 4 + len) break;
    out.push({ status: Number(head.slice(9, 12)), head: head.toLowerCase(), body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}
