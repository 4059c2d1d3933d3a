/** Envoy v3 Listener / FilterChain, named like Istio. Durations are milliseconds. */
import type { Authorization, RbacRules } from './authz.js';

export interface SocketAddress {
  address: string;
  port: number;
}

export type TrafficDirection = 'OUTBOUND' | 'INBOUND';

/** Istio's well-known names. */
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const INBOUND_PASSTHROUGH_CLUSTER = 'InboundPassthroughCluster';
export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const VIRTUAL_INBOUND = 'virtualInbound';

export const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
export const HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager';

export interface WeightedTcpCluster {
  name: string;
  weight: number;
}

export interface TcpProxyFilter {
  name: typeof TCP_PROXY;
  statPrefix: string;
  cluster: string;
  /** VirtualService tcp/tls routes with several weighted destinations; `cluster` is then the heaviest one. */
  weightedClusters?: WeightedTcpCluster[];
  /** 0 disables. Envoy's default is 1 h. */
  idleTimeoutMs: number;
  /** `envoy.filters.network.rbac` before the proxy (AuthorizationPolicy on inbound and gateway chains). */
  rbac?: RbacRules[];
}

/** Envoy's HTTP filter names, in the order Istio puts them on an outbound HCM. */
export type HttpFilterName = 'envoy.filters.http.fault' | 'envoy.filters.http.cors' | 'envoy.filters.http.router';

/**
 * Envoy's HTTP connection manager with RDS: routes are looked up by `routeConfigName` in
 * Snapshot.routes (Istio names them by port: `80`, `9080`; gateways `http.8080`).
 */
export interface HttpConnectionManagerFilter {
  name: typeof HTTP_CONNECTION_MANAGER;
  statPrefix: string;
  routeConfigName: string;
  httpFilters: HttpFilterName[];
  /** Istio's outbound and gateway HCMs match domains without the port (`strip_any_host_port`). */
  stripAnyHostPort: boolean;
  /** Envoy's stream_idle_timeout (0: disabled): no byte either way for this long → 408 "stream timeout" (or a reset once the response started). Istio sets 0 on sidecars. */
  streamIdleTimeoutMs: number;
  /** Envoy's request_headers_timeout (0: disabled, Envoy's and Istio's default): a request head not complete this long after its first byte → 408 and close. */
  requestHeadersTimeoutMs: number;
  /**
   * Envoy's use_remote_address: the connection's peer is the client (an edge proxy: Istio's
   * gateways). It is appended to x-forwarded-for, and requests from outside get
   * x-envoy-external-address and lose the internal x-envoy-* headers (forwarded_headers.ts).
   * False (sidecars): x-forwarded-for is passed on as it came.
   */
  useRemoteAddress: boolean;
  /** Envoy's xff_num_trusted_hops: x-forwarded-for entries, from the right, written by trusted proxies. Absent: 0. */
  xffNumTrustedHops?: number;
  /** Envoy's forward_client_cert_details (x-forwarded-client-cert). Absent: SANITIZE, Envoy's default (the header is dropped). */
  forwardClientCertDetails?: ForwardClientCertDetails;
  /** Envoy's set_current_client_cert_details: what an appended or set x-forwarded-client-cert element carries besides By and Hash. */
  setCurrentClientCertDetails?: ClientCertDetailFields;
  normalizePath: boolean;
  /** websocket upgrades allowed, as Istio configures. */
  upgradeTypes: string[];
  /** `envoy.filters.http.jwt_authn` then `envoy.filters.http.rbac` (RequestAuthentication, AuthorizationPolicy), before routing. */
  authorization?: Authorization;
  /** Envoy's server_name: the `server` header of responses. istiod sets `istio-envoy`; Envoy's own default is `envoy`. */
  serverName: string;
  /** Envoy's server_header_transformation (default OVERWRITE): what becomes of an upstream's `server` header. */
  serverHeaderTransformation: ServerHeaderTransformation;
}

/** Envoy's server_name when none is set: what sidecar outbound says, where istiod sets none. */
export const ENVOY_SERVER_NAME = 'envoy';

export const SERVER_HEADER_TRANSFORMATIONS = ['OVERWRITE', 'APPEND_IF_ABSENT', 'PASS_THROUGH'] as const;
export type ServerHeaderTransformation = (typeof SERVER_HEADER_TRANSFORMATIONS)[number];

export type NetworkFilter = TcpProxyFilter | HttpConnectionManagerFilter;

export const FORWARD_CLIENT_CERT_DETAILS = ['SANITIZE', 'FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET', 'ALWAYS_FORWARD_ONLY'] as const;
export type ForwardClientCertDetails = (typeof FORWARD_CLIENT_CERT_DETAILS)[number];

export interface ClientCertDetailFields {
  subject: boolean;
  uri: boolean;
  dns: boolean;
  /** The whole client certificate, URL-encoded PEM (`Cert="…"`). */
  cert: boolean;
}

export interface FilterChainMatch {
  /** Original destination port; absent matches any. */
  destinationPort?: number;
  /** Original destination addresses (exact IPs or CIDRs); absent or empty matches any. */
  prefixRanges?: string[];
  /** SNI names (tls_inspector); `*.example.com` wildcards allowed. */
  serverNames?: string[];
  /** `raw_buffer` or `tls` (tls_inspector). */
  transportProtocol?: 'raw_buffer' | 'tls';
  /** ALPN / http_inspector result, e.g. Istio's `http/1.1`, `h2c` on HTTP chains. */
  applicationProtocols?: string[];
}

/**
 * TLS termination on a filter chain (src/listener/tls_termination.ts). ISTIO_MUTUAL serves the
 * workload certificate and requires a client certificate from the same root (sidecar inbound);
 * SIMPLE / MUTUAL serve the named files (gateways).
 */
export interface DownstreamTls {
  mode: 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL' | 'OPTIONAL_MUTUAL' | 'AUTO_PASSTHROUGH' | 'PASSTHROUGH';
  /** The client's SPIFFE URI SAN must start with this (Istio's inbound `spiffe://<trust-domain>/`). */
  matchSubjectAltNamePrefix?: string;
  /** ALPN the server picks when the client offers it (Envoy's alpn_protocols; `http/1.1` on HTTP chains). */
  alpnProtocols?: string[];
  credentialName?: string;
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  subjectAltNames?: string[];
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
  cipherSuites?: string[];
}

export interface FilterChain {
  name: string;
  match: FilterChainMatch;
  filters: NetworkFilter[];
  tls?: DownstreamTls;
}

export type ListenerFilterName = 'envoy.filters.listener.original_dst' | 'envoy.filters.listener.tls_inspector' | 'envoy.filters.listener.http_inspector';

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
  listenerFilters?: ListenerFilterName[];
  /**
   * Envoy's listener_filters_timeout: one limit for tls_inspector and http_inspector together,
   * for clients that send nothing first (server-first protocols). Absent or 0: no limit, as
   * istiod sets it by default (MeshConfig protocolDetectionTimeout 0s).
   */
  listenerFiltersTimeoutMs?: number;
  /**
   * What happens when listener_filters_timeout passes: `continue` (Istio's
   * continue_on_listener_filters_timeout: the chain is chosen without what the filters would
   * have found) or `close` (Envoy's default). Absent: continue.
   */
  onListenerFiltersTimeout?: 'continue' | 'close';
}
