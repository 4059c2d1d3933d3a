import type { Cluster } from '../../config/model.js';
import type { StatsWriter } from '../../stats/store.js';
import { C } from '../../stats/scopes.js';
import type { Host } from '../host.js';
import { NO_BREAKER, type Breaker } from '../circuit_breaker.js';
import { HS } from '../host_shared.js';
import { Http1Pool, type PoolOptions, type PoolStats } from './http1_pool.js';
import { Http2Pool } from './http2_pool.js';
import type { RequestPool } from './upstream_request.js';

/** What UpstreamPools keeps per (cluster, host, protocol). */
type UpstreamPool = RequestPool & { breaker: Breaker; drain(): void; retire(): void };

/**
 * Whether requests to this cluster go out as HTTP/2: explicitly (HTTP2/GRPC ports, DestinationRule
 * h2UpgradePolicy UPGRADE), or as the client spoke (useClientProtocol) for an h2 client.
 */
export function upstreamIsH2(cluster: Cluster, h2Client: boolean): boolean {
  return cluster.http2?.upgrade === true || (cluster.useClientProtocol === true && h2Client);
}
import { tlsForHost, type PoolTls } from '../../tls/upstream.js';
import { authorityHost, serverNameTls } from './server_name_pools.js';

const ONE_HOUR = 3_600_000;

/**
 * A worker's upstream pools, one per (cluster, host, protocol). They outlive snapshots, so a
 * configuration change that keeps a host keeps its warm connections.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, UpstreamPool>();
  /** Host objects are stable within a cluster's host set: the common lookup builds no key. */
  private readonly byHost = new WeakMap<Host, UpstreamPool>();
  private readonly h2ByHost = new WeakMap<Host, UpstreamPool>();
  /** Auto SNI pools by host, then by name (`\u0000h2` appended for HTTP/2); see server_name_pools.ts. */
  private readonly byServerName = new WeakMap<Host, Map<string, UpstreamPool>>();
  /** `cluster\u0000host` → the keys of its auto SNI pools in `pools`, for removeHosts. */
  private readonly serverNameKeys = new Map<string, string[]>();
  /** The last plain pool returned and its host: requests ask for the same host over and over. */
  private lastHost: Host | undefined;
  private lastPool: UpstreamPool | undefined;

  constructor(
    private readonly stats: StatsWriter,
    /** This worker's slab of per-host stats (src/cluster/host_shared.ts). */
    private readonly hostStats: Float64Array,
  ) {}

  /**
   * The pool for `host` of `cluster`. `breaker`: the cluster's circuit breakers under its current
   * config (limits follow config changes). `h2Client`: the downstream spoke HTTP/2 (for
   * useClientProtocol clusters). `authority`: the request's Host, given only for auto SNI
   * clusters (server_name_pools.ts usesServerName).
   */
  get(cluster: Cluster, statsBase: number | undefined, host: Host, breaker: Breaker = NO_BREAKER, h2Client = false, authority?: string): RequestPool {
    const h2 = upstreamIsH2(cluster, h2Client);
    if (authority !== undefined) {
      const tls = tlsForHost(cluster.tls, host.labels);
      // DNS names are case-insensitive: one pool (and a lower-case SNI) for `A.example` and `a.example`.
      if (tls) return this.getForServerName(cluster, statsBase, host, breaker, h2, tls, authorityHost(authority).toLowerCase());
    }
    if (host === this.lastHost && !h2) {
      const p = this.lastPool!;
      p.breaker = breaker;
      return p;
    }
    const cache = h2 ? this.h2ByHost : this.byHost;
    const known = cache.get(host);
    if (known) {
      known.breaker = breaker;
      if (!h2) this.remember(host, known);
      return known;
    }
    const key = `${cluster.name}\u0000${host.key}${h2 ? '\u0000h2' : ''}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = this.newPool(cluster, statsBase, host, h2, tlsForHost(cluster.tls, host.labels));
      this.pools.set(key, pool);
    }
    cache.set(host, pool);
    pool.breaker = breaker;
    if (!h2) this.remember(host, pool);
    return pool;
  }

  private remember(host: Host | undefined, pool: UpstreamPool | undefined): void {
    this.lastHost = host;
    this.lastPool = pool;
  }

  /** Auto SNI: the pool for (host, name), its TLS naming and verifying `name`. */
  private getForServerName(cluster: Cluster, statsBase: number | undefined, host: Host, breaker: Breaker, h2: boolean, tls: PoolTls, name: string): RequestPool {
    let byName = this.byServerName.get(host);
    if (!byName) this.byServerName.set(host, (byName = new Map()));
    const nameKey = h2 ? `${name}\u0000h2` : name;
    let pool = byName.get(nameKey);
    if (!pool) {
      const hostKey = `${cluster.name}\u0000${host.key}`;
      const key = `${hostKey}\u0000sni\u0000${nameKey}`;
      pool = this.pools.get(key);
      if (!pool) {
        pool = this.newPool(cluster, statsBase, host, h2, serverNameTls(cluster, tls, name));
        this.pools.set(key, pool);
        const keys = this.serverNameKeys.get(hostKey);
        if (keys) keys.push(key);
        else this.serverNameKeys.set(hostKey, [key]);
      }
      byName.set(nameKey, pool);
    }
    pool.breaker = breaker;
    return pool;
  }

  private newPool(cluster: Cluster, statsBase: number | undefined, host: Host, h2: boolean, tls: PoolTls | undefined): UpstreamPool {
    const opts: PoolOptions = {
      connectTimeoutMs: cluster.connectTimeoutMs,
      maxRequestsPerConnection: cluster.maxRequestsPerConnection ?? 0,
      idleTimeoutMs: cluster.idleTimeoutMs ?? ONE_HOUR,
      maxConnectionDurationMs: cluster.maxConnectionDurationMs ?? 0,
      localAddress: cluster.upstreamBindAddress,
      tls,
    };
    const stats = this.poolStats(statsBase, host.statBase);
    // Envoy's default max_concurrent_streams is 2^31 - 1: the peer's SETTINGS are the limit.
    return h2 ? new Http2Pool(host, { ...opts, maxConcurrentStreams: cluster.http2?.maxConcurrentStreams ?? 0x7fffffff }, stats) : new Http1Pool(host, opts, stats);
  }

  /**
   * Hosts that left `cluster` (snapshot change or DNS update): their pools close idle
   * connections now and busy ones when their request ends, and are forgotten, so a host that
   * comes back starts with a fresh pool.
   */
  removeHosts(cluster: string, keys: readonly string[]): void {
    this.remember(undefined, undefined);
    for (const k of keys) {
      const named = this.serverNameKeys.get(`${cluster}\u0000${k}`) ?? [];
      this.serverNameKeys.delete(`${cluster}\u0000${k}`);
      for (const key of [`${cluster}\u0000${k}`, `${cluster}\u0000${k}\u0000h2`, ...named]) {
        const pool = this.pools.get(key);
        if (!pool) continue;
        pool.retire();
        this.pools.delete(key);
      }
    }
  }

  /** Closes every idle connection (shutdown, tests); busy ones close when their request ends. */
  drainAll(): void {
    for (const pool of this.pools.values()) pool.drain();
  }

  private poolStats(base: number | undefined, hostBase: number): PoolStats {
    const hs = this.hostStats;
    const s = this.stats;
    if (base === undefined) return NO_POOL_STATS;
    return {
      onConnect(h2) {
        s.inc(base + C.upstream_cx_total);
        s.inc(base + (h2 ? C.upstream_cx_http2_total : C.upstream_cx_http1_total));
        s.inc(base + C.upstream_cx_active);
        hs[hostBase + HS.cx_total]++;
        hs[hostBase + HS.cx_active]++;
      },
      onConnectFail(timeout) {
        hs[hostBase + HS.cx_connect_fail]++;
        s.inc(base + C.upstream_cx_connect_fail);
        if (timeout) s.inc(base + C.upstream_cx_connect_timeout);
      },
      onClose(tx, rx) {
        hs[hostBase + HS.cx_active]--;
        s.dec(base + C.upstream_cx_active);
        s.inc(base + C.upstream_cx_destroy);
        s.add(base + C.upstream_cx_tx_bytes_total, tx);
        s.add(base + C.upstream_cx_rx_bytes_total, rx);
      },
      onCxOverflow: () => s.inc(base + C.upstream_cx_overflow),
      onPendingOverflow: () => s.inc(base + C.upstream_rq_pending_overflow),
      onPending(delta) {
        if (delta > 0) s.inc(base + C.upstream_rq_pending_total);
        s.add(base + C.upstream_rq_pending_active, delta);
      },
      onRequest: (delta) => s.add(base + C.upstream_rq_active, delta),
      onMaxRequests: () => s.inc(base + C.upstream_cx_max_requests),
      onProtocolError: () => s.inc(base + C.upstream_cx_protocol_error),
      onMaxDuration: () => s.inc(base + C.upstream_cx_max_duration_reached),
      onTls: (result) => s.inc(base + C[`ssl.${result}`]),
    };
  }
}

const NOTHING = () => {};
const NO_POOL_STATS: PoolStats = {
  onConnect: NOTHING,
  onConnectFail: NOTHING,
  onClose: NOTHING,
  onCxOverflow: NOTHING,
  onPendingOverflow: NOTHING,
  onPending: NOTHING,
  onRequest: NOTHING,
  onMaxRequests: NOTHING,
  onProtocolError: NOTHING,
  onMaxDuration: NOTHING,
  onTls: NOTHING,
};
