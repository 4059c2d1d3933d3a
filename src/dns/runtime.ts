import type { Snapshot } from '../config/model.js';
import type { HostUpdateSink } from '../cluster/host_update.js';
import type { StatsRegistry, StatsWriter } from '../stats/store.js';
import { logger } from '../log.js';
import { DnsClusterManager } from './cluster_manager.js';
import { DEFAULT_REFRESH_POLICY, type RefreshPolicy } from './dns_cluster.js';
import { NameLookup, type NameLookupOptions } from './name_lookup.js';
import { DnsQueryHandler } from './proxy/handler.js';
import { DnsProxyServer } from './proxy/server.js';
import { UpstreamForwarder } from './proxy/upstream.js';
import { formatServer, parseServer, readResolvConf } from './resolv_conf.js';
import { CachingResolver, DEFAULT_RESOLVER_OPTIONS, type ResolverOptions } from './resolver.js';
import { dnsFlags } from './settings.js';
import { dnsClusterCounters, dnsCounters, NO_STATS, type DnsCounters } from './stats.js';

const log = logger('dns');

export interface DnsRuntimeOptions {
  /** Flag/environment value of ISTIO_META_DNS_CAPTURE; undefined: the mesh's proxyMetadata decides. */
  capture?: boolean;
  listenAddress: string;
  port: number;
  /** `ip[:port]` servers for the resolver and the proxy; empty: /etc/resolv.conf. */
  upstreams: string[];
  /** The pod's namespace (POD_NAMESPACE); default: from the first search domain, else `default`. */
  namespace?: string;
  resolvConfPath: string;
  resolver: Omit<ResolverOptions, 'servers'>;
  refresh: RefreshPolicy;
}

export const DEFAULT_DNS_RUNTIME: DnsRuntimeOptions = {
  listenAddress: '127.0.0.1',
  port: 15053,
  upstreams: [],
  resolvConfPath: '/etc/resolv.conf',
  resolver: { timeoutMs: DEFAULT_RESOLVER_OPTIONS.timeoutMs, tries: DEFAULT_RESOLVER_OPTIONS.tries, cache: DEFAULT_RESOLVER_OPTIONS.cache },
  refresh: DEFAULT_REFRESH_POLICY,
};

/**
 * Everything DNS on the main thread: the caching resolver, the DNS clusters' refreshers
 * (always), and the DNS proxy on 15053 (when capture is on, decided at start as Istio does).
 */
export class DnsRuntime {
  readonly resolver: CachingResolver;
  readonly clusters: DnsClusterManager;
  private proxy: DnsProxyServer | undefined;
  private handler: DnsQueryHandler | undefined;
  private forwarder: UpstreamForwarder | undefined;
  private readonly lookupOpts: NameLookupOptions;
  private readonly counters: DnsCounters;

  constructor(
    readonly opts: DnsRuntimeOptions,
    sink: HostUpdateSink,
    stats?: { registry: StatsRegistry; writer: StatsWriter },
  ) {
    const conf = readResolvConf(opts.resolvConfPath);
    const servers = opts.upstreams.length > 0 ? opts.upstreams.map((s) => parseServer(s)) : conf.nameservers.map((s) => parseServer(s));
    this.counters = stats ? dnsCounters(stats.registry, stats.writer) : NO_STATS;
    this.resolver = new CachingResolver({ ...opts.resolver, servers: opts.upstreams.length > 0 ? servers.map((s) => formatServer(s.address, s.port)) : [] }, this.counters);
    this.clusters = new DnsClusterManager(this.resolver, sink, stats ? (name) => dnsClusterCounters(stats.registry, stats.writer, name) : undefined, opts.refresh);
    this.forwarder = new UpstreamForwarder(servers, opts.resolver.timeoutMs);
    // `<ns>.svc.<domain>` first in the search path is how Kubernetes writes a pod's resolv.conf.
    const m = /^([^.]+)\.svc\.(.+)$/.exec(conf.search[0] ?? '');
    this.lookupOpts = { search: conf.search, namespace: opts.namespace ?? m?.[1] ?? 'default', clusterDomain: m?.[2] ?? 'cluster.local' };
  }

  /** Starts the DNS proxy if capture is on for the first snapshot's mesh; returns whether it did. Snapshots still go through onSnapshot(). */
  async start(first: Snapshot): Promise<boolean> {
    if (!dnsFlags(first.mesh.proxyMetadata, { dnsCapture: this.opts.capture }).capture) return false;
    this.handler = new DnsQueryHandler(new NameLookup(first.nameTable ?? {}, this.lookupOpts), this.forwarder!, this.counters);
    this.proxy = new DnsProxyServer(this.handler, this.opts.listenAddress, this.opts.port);
    await this.proxy.start();
    log.info(`DNS capture on: answering ${this.handler.names.size} names, forwarding the rest to ${this.forwarder!.servers.map((s) => formatServer(s.address, s.port)).join(', ') || '(none)'}`);
    return true;
  }

  /** Call after each snapshot reached the workers. */
  onSnapshot(s: Snapshot): void {
    this.clusters.update(s.clusters);
    this.handler?.setLookup(new NameLookup(s.nameTable ?? {}, this.lookupOpts));
  }

  get proxyPort(): number | undefined {
    return this.proxy?.boundPort;
  }

  /** What /dns shows. */
  view(): unknown {
    const now = Date.now();
    const cacheRows = <V>(entries: Iterable<[string, { negative: boolean; expiresAt: number; value: V }]>, show: (v: V) => unknown) =>
      [...entries].map(([key, e]) => ({ key, negative: e.negative, ttlLeftSec: Math.max(0, Math.ceil((e.expiresAt - now) / 1000)), value: show(e.value) }));
    return {
      proxy: this.proxy
        ? {
            listen: formatServer(this.opts.listenAddress, this.proxy.boundPort),
            upstreams: this.forwarder!.servers.map((s) => formatServer(s.address, s.port)),
            search: this.lookupOpts.search,
            namespace: this.lookupOpts.namespace,
            clusterDomain: this.lookupOpts.clusterDomain,
            nameTable: this.handler!.names.table,
            names: this.handler!.names.dump(),
            cache: cacheRows(this.handler!.cache.entries(), (v) => ({
              rcode: (v.response.flags ?? 0) & 0xf,
              answers: (v.response.answers ?? []).map((a) => {
                const data = 'data' in a ? a.data : undefined;
                return `${a.type} ${typeof data === 'string' ? data : JSON.stringify(data)}`;
              }),
            })),
          }
        : null,
      resolver: { servers: this.resolver.servers(), cache: cacheRows(this.resolver.cache.entries(), (v) => v) },
      clusters: this.clusters.status(),
    };
  }

  async close(): Promise<void> {
    this.clusters.close();
    this.resolver.close();
    this.forwarder?.close();
    await this.proxy?.close();
  }
}
