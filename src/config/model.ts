/**
 * The one configuration model: shaped like Envoy v3 (Listener, RouteConfiguration, Cluster
 * with its load assignment), named like Istio. Built on the main thread, from files or xDS,
 * and shared read-only with workers as a versioned Snapshot. Plain data only (structured
 * clone), immutable by convention. Durations are milliseconds.
 */
export * from './model/listener.js';
export * from './model/route.js';
export * from './model/cluster.js';
export * from './model/authz.js';

import type { Listener } from './model/listener.js';
import type { RouteConfiguration } from './model/route.js';
import type { Cluster } from './model/cluster.js';
import type { ForwardClientCertDetails } from './model/listener.js';

export interface MeshSettings {
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  connectTimeoutMs: number;
  drainDurationMs: number;
  terminationDrainDurationMs: number;
  tcpIdleTimeoutMs: number;
  /** MeshConfig protocolDetectionTimeout: how long tls_inspector/http_inspector wait for a client's first bytes (0: no limit, Istio's default). */
  protocolDetectionTimeoutMs: number;
  proxyMetadata: Record<string, string>;
  accessLogFile: string;
  accessLogEncoding: 'TEXT' | 'JSON';
  dnsRefreshRateMs: number;
  /** Where mesh-wide Sidecar / DestinationRule / PeerAuthentication defaults live. */
  rootNamespace: string;
  /** MeshConfig trustDomain: the SPIFFE trust domain of workload identities (`cluster.local`). */
  trustDomain: string;
  /** MeshConfig enableAutoMtls: ISTIO_MUTUAL to endpoints labelled `security.istio.io/tlsMode: istio` when no DestinationRule sets TLS. */
  enableAutoMtls: boolean;
  defaultServiceExportTo: string[];
  defaultVirtualServiceExportTo: string[];
  defaultDestinationRuleExportTo: string[];
  /** ProxyConfig gatewayTopology: how many proxies stand in front of a gateway, and what it does with client certificates. */
  gatewayTopology: { numTrustedProxies: number; forwardClientCertDetails: ForwardClientCertDetails };
}

/** One hostname the DNS proxy answers (Istio's NameTable.NameInfo, as NDS delivers it). */
export interface NameInfo {
  ips: string[];
  namespace: string;
  /** Set when `ips` were auto-allocated (ISTIO_META_DNS_AUTO_ALLOCATE), not configured. */
  autoAllocated?: boolean;
}

export type ProxyRole = 'sidecar' | 'router';

export interface Snapshot {
  version: number;
  /** Where it came from (file list or xDS) and when it was built, for /config_dump. */
  source: string;
  builtAt: string;
  role: ProxyRole;
  mesh: MeshSettings;
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  /** Hostname (lower case, no trailing dot) → addresses, for the DNS proxy; absent when there are none. */
  nameTable?: Record<string, NameInfo>;
}
