/** Envoy v3 Cluster with the traffic policy Istio's DestinationRule fills in. Durations are milliseconds. */

export type ClusterType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST' | 'EDS';
/** Envoy's Cluster.DnsLookupFamily. */
export type DnsLookupFamily = 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL' | 'AUTO';
export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV' | 'CLUSTER_PROVIDED';

/** Envoy's "unlimited", Istio's default for every circuit-breaker threshold. */
export const UNLIMITED = 4294967295;

export interface LbEndpoint {
  /** An IP, or a DNS name for STRICT_DNS / LOGICAL_DNS clusters (resolved on the main thread). */
  address: string;
  port: number;
  weight: number;
  labels?: Record<string, string>;
  locality?: string;
  network?: string;
}

export interface CircuitBreakerThresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
  trackRemaining: boolean;
}

export interface OutlierDetection {
  consecutive5xx: number;
  enforcingConsecutive5xx: number;
  consecutiveGatewayFailure: number;
  enforcingConsecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure?: number;
  splitExternalLocalOriginErrors: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  /** Istio's minHealthPercent, as Envoy's healthy_panic_threshold. */
  healthyPanicThreshold?: number;
  enforcingSuccessRate: 0;
}

/** TLS origination to a cluster's hosts (src/tls/upstream.ts), from DestinationRule `tls` or Istio's auto mTLS. */
export interface UpstreamTls {
  mode: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  /**
   * Istio's auto mTLS (no DestinationRule TLS): ISTIO_MUTUAL only to endpoints labelled
   * `security.istio.io/tlsMode: istio`, plaintext to the others (Envoy's transport_socket_matches).
   */
  autoMtls?: boolean;
  sni?: string;
  subjectAltNames?: string[];
  caCertificates?: string;
  clientCertificate?: string;
  privateKey?: string;
  credentialName?: string;
  insecureSkipVerify?: boolean;
}

export interface LocalityLbSetting {
  enabled?: boolean;
  distribute?: { from: string; to: Record<string, number> }[];
  failover?: { from: string; to: string }[];
  failoverPriority?: string[];
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
  endpoints: LbEndpoint[];
  /** Istio's service identity, for stats labels and /clusters. */
  service?: { host: string; namespace: string; port: number; subset?: string; location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL' };
  circuitBreakers?: CircuitBreakerThresholds;
  ringHash?: { minimumRingSize: number };
  maglev?: { tableSize: number };
  /** The DestinationRule's consistent-hash key (routes to this cluster carry it as hash_policy; tcp_proxy uses it). */
  consistentHash?: import('./route.js').HashPolicy;
  /** Envoy's least_request_lb_config / round_robin slow start (Istio's warmupDurationSecs). */
  slowStartWindowMs?: number;
  maxRequestsPerConnection?: number;
  /** common_http_protocol_options. */
  idleTimeoutMs?: number;
  maxConnectionDurationMs?: number;
  http2?: { maxConcurrentStreams?: number; upgrade?: boolean };
  useClientProtocol?: boolean;
  tcpKeepalive?: { probes?: number; timeMs?: number; intervalMs?: number };
  outlierDetection?: OutlierDetection;
  tls?: UpstreamTls;
  /**
   * Envoy's upstream_http_protocol_options auto_sni: TLS to this cluster names the request's
   * Host (port stripped, not an IP) as SNI, and connections are kept per SNI. istiod sets it
   * for SIMPLE / MUTUAL origination without a DestinationRule `sni`. HTTP only (tcp_proxy has no Host).
   */
  autoSni?: boolean;
  /** Envoy's auto_san_validation: the server certificate must cover that Host (istiod: with autoSni, no `subjectAltNames`, verification on). */
  autoSanValidation?: boolean;
  localityLbSetting?: LocalityLbSetting;
  /** STRICT_DNS / LOGICAL_DNS: Envoy's dns_refresh_rate (MeshConfig dnsRefreshRate), respect_dns_ttl, dns_lookup_family. */
  dnsRefreshRateMs?: number;
  respectDnsTtl?: boolean;
  dnsLookupFamily?: DnsLookupFamily;
  /** `/apis/networking.istio.io/v1alpha3/namespaces/<ns>/destination-rule/<name>`, as in Istio's cluster metadata. */
  istioConfig?: string;
}
