import { offsetsOf, type StatScopeDef } from './store.js';

/** Envoy's per-cluster stats (the subset the proxy produces so far). */
const CLUSTER_FIELDS = [
  'upstream_cx_total',
  'upstream_cx_active',
  'upstream_cx_connect_fail',
  'upstream_cx_connect_timeout',
  'upstream_cx_none_healthy',
  'upstream_cx_destroy',
  'upstream_cx_tx_bytes_total',
  'upstream_cx_rx_bytes_total',
  'upstream_cx_http1_total',
  'upstream_cx_http2_total',
  'upstream_rq_total',
  'upstream_rq_completed',
  'upstream_rq_1xx',
  'upstream_rq_2xx',
  'upstream_rq_3xx',
  'upstream_rq_4xx',
  'upstream_rq_5xx',
  'upstream_rq_retry',
  'upstream_rq_retry_success',
  'upstream_rq_timeout',
  'upstream_rq_per_try_timeout',
  'upstream_rq_rx_reset',
  // Circuit breakers and connection pools (src/cluster/circuit_breaker.ts, pool/http1_pool.ts).
  'upstream_cx_overflow',
  'upstream_rq_pending_overflow',
  'upstream_rq_retry_overflow',
  'upstream_rq_pending_total',
  'upstream_rq_pending_active',
  'upstream_rq_active',
  'upstream_cx_max_requests',
  'upstream_cx_protocol_error',
  'upstream_cx_max_duration_reached',
  // Upstream TLS (src/tls/upstream.ts), Envoy's transport-socket stats under the cluster.
  'ssl.handshake',
  'ssl.connection_error',
  'ssl.fail_verify_error',
  'ssl.fail_verify_san',
] as const;
/** Envoy's router histogram: from the upstream request's start to the end of its response. */
const CLUSTER_HISTOGRAMS = ['upstream_rq_time'] as const;
export const CLUSTER: StatScopeDef<(typeof CLUSTER_FIELDS)[number] | (typeof CLUSTER_HISTOGRAMS)[number]> = {
  prefix: 'cluster',
  tag: 'cluster_name',
  fields: CLUSTER_FIELDS,
  gauges: new Set(['upstream_cx_active', 'upstream_rq_pending_active', 'upstream_rq_active']),
  histograms: CLUSTER_HISTOGRAMS,
};
export const C = offsetsOf<(typeof CLUSTER_FIELDS)[number] | (typeof CLUSTER_HISTOGRAMS)[number]>(CLUSTER_FIELDS, CLUSTER_HISTOGRAMS);

const LISTENER_FIELDS = [
  'downstream_cx_total',
  'downstream_cx_active',
  'downstream_cx_destroy',
  'no_filter_chain_match',
  'downstream_global_cx_overflow',
  // listener_filters_timeout passed with onListenerFiltersTimeout: close.
  'downstream_pre_cx_timeout',
  // Downstream TLS termination (src/listener/tls_termination.ts).
  'ssl.handshake',
  'ssl.connection_error',
  'ssl.no_certificate',
  'ssl.fail_verify_san',
] as const;
export const LISTENER: StatScopeDef<(typeof LISTENER_FIELDS)[number]> = {
  prefix: 'listener',
  tag: 'listener_address',
  fields: LISTENER_FIELDS,
  gauges: new Set(['downstream_cx_active']),
};
export const L = offsetsOf(LISTENER_FIELDS);

const TCP_FIELDS = [
  'downstream_cx_total',
  'downstream_cx_no_route',
  'downstream_cx_tx_bytes_total',
  'downstream_cx_rx_bytes_total',
  'idle_timeout',
  'downstream_flow_control_paused_reading_total',
  'downstream_flow_control_resumed_reading_total',
] as const;
export const TCP: StatScopeDef<(typeof TCP_FIELDS)[number]> = {
  prefix: 'tcp',
  tag: 'tcp_prefix',
  fields: TCP_FIELDS,
  gauges: new Set(),
};
export const T = offsetsOf(TCP_FIELDS);

const HTTP_FIELDS = [
  'downstream_cx_total',
  'downstream_cx_active',
  'downstream_cx_http1_total',
  'downstream_cx_http2_total',
  'downstream_cx_protocol_error',
  'downstream_rq_total',
  'downstream_rq_active',
  'downstream_rq_completed',
  'downstream_rq_1xx',
  'downstream_rq_2xx',
  'downstream_rq_3xx',
  'downstream_rq_4xx',
  'downstream_rq_5xx',
  'downstream_rq_rx_reset',
  'no_route',
  'no_cluster',
  'rq_direct_response',
  'rq_redirect',
  'downstream_rq_idle_timeout',
  'downstream_rq_header_timeout',
  // AuthorizationPolicy / RequestAuthentication filters on the connection manager (src/filters/http/rbac, jwt_authn).
  'rbac.allowed',
  'rbac.denied',
  'rbac.shadow_allowed',
  'rbac.shadow_denied',
  'jwt_authn.allowed',
  'jwt_authn.denied',
] as const;
/** From the request's first byte to the end of the response (local replies too). */
const HTTP_HISTOGRAMS = ['downstream_rq_time'] as const;
/** Envoy's `http.<stat_prefix>.*` connection-manager stats. */
export const HTTP: StatScopeDef<(typeof HTTP_FIELDS)[number] | (typeof HTTP_HISTOGRAMS)[number]> = {
  prefix: 'http',
  tag: 'http_conn_manager_prefix',
  fields: HTTP_FIELDS,
  gauges: new Set(['downstream_cx_active', 'downstream_rq_active']),
  histograms: HTTP_HISTOGRAMS,
};
export const H = offsetsOf<(typeof HTTP_FIELDS)[number] | (typeof HTTP_HISTOGRAMS)[number]>(HTTP_FIELDS, HTTP_HISTOGRAMS);

/** Server-wide stats with fixed names, defined once at startup. */
export const SERVER_STATS = {
  handoffFailed: { name: 'legate.handoff.failed', prom: 'legate_handoff_failed', kind: 'counter' },
  workerRestarts: { name: 'legate.worker.restarts', prom: 'legate_worker_restarts', kind: 'counter' },
  configRejected: { name: 'legate.config.update_rejected', prom: 'legate_config_update_rejected', kind: 'counter' },
  configApplied: { name: 'legate.config.update_success', prom: 'legate_config_update_success', kind: 'counter' },
  // Istio gives every network RBAC filter the stat prefix `tcp.`: one set for all TCP chains.
  tcpRbacAllowed: { name: 'tcp.rbac.allowed', prom: 'envoy_tcp_rbac_allowed', kind: 'counter' },
  tcpRbacDenied: { name: 'tcp.rbac.denied', prom: 'envoy_tcp_rbac_denied', kind: 'counter' },
  tcpRbacShadowAllowed: { name: 'tcp.rbac.shadow_allowed', prom: 'envoy_tcp_rbac_shadow_allowed', kind: 'counter' },
  tcpRbacShadowDenied: { name: 'tcp.rbac.shadow_denied', prom: 'envoy_tcp_rbac_shadow_denied', kind: 'counter' },
} as const;
