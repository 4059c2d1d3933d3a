import type { StatsRegistry, StatsWriter } from '../stats/store.js';

/**
 * DNS stats, counted on the main thread (the resolver, DNS clusters and the DNS proxy all
 * live there). Flat names follow Envoy's style; Prometheus names follow pilot-agent's
 * `istio_agent_dns_*` where Istio has one (docs/dns.md lists them all).
 */
export const DNS_STATS = {
  proxyQueries: { name: 'dns.proxy.queries', prom: 'istio_agent_dns_requests_total', kind: 'counter' },
  proxyAnsweredLocal: { name: 'dns.proxy.answered_local', prom: 'legate_dns_proxy_answered_local', kind: 'counter' },
  proxyForwarded: { name: 'dns.proxy.forwarded', prom: 'istio_agent_dns_upstream_requests_total', kind: 'counter' },
  proxyUpstreamFailures: { name: 'dns.proxy.upstream_failures', prom: 'istio_agent_dns_upstream_failures_total', kind: 'counter' },
  proxyCacheHits: { name: 'dns.proxy.cache_hits', prom: 'legate_dns_proxy_cache_hits', kind: 'counter' },
  proxyNxdomain: { name: 'dns.proxy.nxdomain', prom: 'legate_dns_proxy_nxdomain', kind: 'counter' },
  proxyServfail: { name: 'dns.proxy.servfail', prom: 'legate_dns_proxy_servfail', kind: 'counter' },
  proxyTruncated: { name: 'dns.proxy.truncated', prom: 'legate_dns_proxy_truncated', kind: 'counter' },
  proxyMalformed: { name: 'dns.proxy.malformed', prom: 'legate_dns_proxy_malformed', kind: 'counter' },
  cacheHits: { name: 'dns.cache.hits', prom: 'legate_dns_cache_hits', kind: 'counter' },
  cacheMisses: { name: 'dns.cache.misses', prom: 'legate_dns_cache_misses', kind: 'counter' },
  cacheNegativeHits: { name: 'dns.cache.negative_hits', prom: 'legate_dns_cache_negative_hits', kind: 'counter' },
  resolverQueries: { name: 'dns.resolver.queries', prom: 'legate_dns_resolver_queries', kind: 'counter' },
  resolverFailures: { name: 'dns.resolver.failures', prom: 'legate_dns_resolver_failures', kind: 'counter' },
  resolverCollapsed: { name: 'dns.resolver.collapsed', prom: 'legate_dns_resolver_collapsed', kind: 'counter' },
} as const;

export type DnsStatName = keyof typeof DNS_STATS;

/** Counts DNS events; `NO_STATS` for code run outside a proxy (unit tests, bench). */
export interface DnsCounters {
  inc(stat: DnsStatName): void;
}

export const NO_STATS: DnsCounters = { inc: () => {} };

export function dnsCounters(registry: StatsRegistry, writer: StatsWriter): DnsCounters {
  const idx = {} as Record<DnsStatName, number>;
  for (const [key, s] of Object.entries(DNS_STATS) as [DnsStatName, (typeof DNS_STATS)[DnsStatName]][]) idx[key] = registry.define(s.name, s.kind, s.prom);
  return { inc: (stat) => writer.inc(idx[stat]) };
}

/** Envoy's per-cluster DNS refresh stats (`cluster.<name>.update_attempt`, …). */
export const DNS_CLUSTER_FIELDS = ['update_attempt', 'update_success', 'update_failure', 'update_no_rebuild', 'membership_total', 'membership_healthy'] as const;
export type DnsClusterStat = (typeof DNS_CLUSTER_FIELDS)[number];
const GAUGES = new Set<DnsClusterStat>(['membership_total', 'membership_healthy']);

export interface DnsClusterCounters {
  inc(stat: DnsClusterStat): void;
  set(stat: DnsClusterStat, value: number): void;
}

export const NO_CLUSTER_STATS: DnsClusterCounters = { inc: () => {}, set: () => {} };

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function dnsClusterCounters(registry: StatsRegistry, writer: StatsWriter, cluster: string): DnsClusterCounters {
  const idx = {} as Record<DnsClusterStat, number>;
  for (const f of DNS_CLUSTER_FIELDS) {
    idx[f] = registry.define(`cluster.${cluster}.${f}`, GAUGES.has(f) ? 'gauge' : 'counter', `envoy_cluster_${f}`, `cluster_name="${escapeLabel(cluster)}"`);
  }
  return {
    inc: (stat) => writer.inc(idx[stat]),
    set: (stat, value) => (writer.v[idx[stat]] = value),
  };
}
