/**
 * The one configuration model: shaped like Envoy v3 (Listener, FilterChain, Cluster,
 * ClusterLoadAssignment), named like Istio. Built on the main thread, from files or xDS,
 * and shared read-only with workers as a versioned Snapshot. Durations are milliseconds.
 */

export interface SocketAddress {
  address: string;
  port: number;
}

export type TrafficDirection = 'OUTBOUND' | 'INBOUND';

/** Istio's well-known cluster names. */
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const INBOUND_PASSTHROUGH_CLUSTER = 'InboundPassthroughCluster';
export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const VIRTUAL_INBOUND = 'virtualInbound';

export interface TcpProxyFilter {
  name: 'envoy.filters.network.tcp_proxy';
  statPrefix: string;
  cluster: string;
  /** 0 disables. Envoy's default is 1 h. */
  idleTimeoutMs: number;
}

export type NetworkFilter = TcpProxyFilter;

export interface FilterChainMatch {
  /** Original destination port; absent matches any. */
  destinationPort?: number;
  /** Original destination addresses (exact IPs or CIDRs); absent or empty matches any. */
  prefixRanges?: string[];
}

export interface FilterChain {
  name: string;
  match: FilterChainMatch;
  filters: NetworkFilter[];
}

export interface Listener {
  name: string;
  address: SocketAddress;
  trafficDirection: TrafficDirection;
  /** False for Istio's per-service listeners that virtualOutbound hands connections to. */
  bindToPort: boolean;
  /** virtualOutbound / virtualInbound: look up a more specific listener by original destination. */
  useOriginalDst: boolean;
  filterChains: FilterChain[];
  defaultFilterChain?: FilterChain;
}

export type ClusterType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST' | 'EDS';
/** Envoy's Cluster.DnsLookupFamily. */
export type DnsLookupFamily = 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL' | 'AUTO';
export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'CLUSTER_PROVIDED';

export interface LbEndpoint {
  address: string;
  port: number;
  weight: number;
  labels?: Record<string, string>;
  locality?: string;
}

export interface Cluster {
  name: string;
  type: ClusterType;
  lbPolicy: LbPolicy;
  connectTimeoutMs: number;
  /** Source address for upstream connections (Istio's inbound 127.0.0.6). */
  upstreamBindAddress?: string;
  /** ORIGINAL_DST inbound: connect to this address instead of the original destination's. */
  originalDstOverrideAddress?: string;
  /** STRICT_DNS / LOGICAL_DNS: `address` may be a hostname, resolved on the main thread. */
  endpoints: LbEndpoint[];
  /** DNS clusters (Envoy's dns_refresh_rate, respect_dns_ttl, dns_lookup_family). */
  dnsRefreshRateMs?: number;
  respectDnsTtl?: boolean;
  dnsLookupFamily?: DnsLookupFamily;
  /** Istio's service identity, for stats labels and /clusters. */
  service?: { host: string; namespace: string; port: number; subset?: string };
}

export interface MeshSettings {
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  connectTimeoutMs: number;
  drainDurationMs: number;
  terminationDrainDurationMs: number;
  tcpIdleTimeoutMs: number;
  proxyMetadata: Record<string, string>;
  accessLogFile: string;
  accessLogEncoding: 'TEXT' | 'JSON';
  dnsRefreshRateMs: number;
}

/** One hostname the DNS proxy answers (Istio's NameTable.NameInfo, as NDS delivers it). */
export interface NameInfo {
  ips: string[];
  namespace: string;
  /** Set when `ips` were auto-allocated (ISTIO_META_DNS_AUTO_ALLOCATE), not configured. */
  autoAllocated?: boolean;
}

export interface Snapshot {
  version: number;
  /** Where it came from (file list or xDS) and when it was built, for /config_dump. */
  source: string;
  builtAt: string;
  mesh: MeshSettings;
  listeners: Listener[];
  clusters: Cluster[];
  /** Hostname (lower case, no trailing dot) → addresses, for the DNS proxy; absent when there are none. */
  nameTable?: Record<string, NameInfo>;
}
