import { UNLIMITED, type Cluster } from '../../config/model.js';
import { encodeLoadAssignment } from './endpoint.js';
import { encodeUpstreamTls } from './upstream_tls.js';
import { ADS_SOURCE, duration, istioMetadata, put, type Json } from './values.js';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/**
 * The model's Cluster → an Envoy v3 Cluster, the inverse of convert/cluster.ts. An EDS cluster
 * carries no hosts: they go out as its ClusterLoadAssignment (endpoint.ts), named like the
 * cluster, as istiod sends them. Not carried (the model keeps them, xDS clients would need
 * more than Legate's converter reads): locality load-balancing settings, slow
 * start, the consistent-hash key (routes carry it as hash_policy), the inbound override address.
 */
export function encodeCluster(c: Cluster): Json {
  const out: Json = { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: c.name, type: c.type, lb_policy: c.lbPolicy, connect_timeout: duration(c.connectTimeoutMs) };
  if (c.type === 'EDS') out.eds_cluster_config = { eds_config: ADS_SOURCE, service_name: c.name };
  else out.load_assignment = encodeLoadAssignment(c.name, c.endpoints);
  if (c.upstreamBindAddress) out.upstream_bind_config = { source_address: { address: c.upstreamBindAddress, port_value: 0 } };
  // No breakers in the model means no limits; Envoy without circuit_breakers would apply 1024 each.
  const cb = c.circuitBreakers ?? { maxConnections: UNLIMITED, maxPendingRequests: UNLIMITED, maxRequests: UNLIMITED, maxRetries: UNLIMITED, trackRemaining: false };
  out.circuit_breakers = {
      thresholds: [{ max_connections: cb.maxConnections, max_pending_requests: cb.maxPendingRequests, max_requests: cb.maxRequests, max_retries: cb.maxRetries, track_remaining: cb.trackRemaining }],
    };
  const od = c.outlierDetection;
  if (od) {
    out.outlier_detection = {
      consecutive_5xx: od.consecutive5xx,
      enforcing_consecutive_5xx: od.enforcingConsecutive5xx,
      consecutive_gateway_failure: od.consecutiveGatewayFailure,
      enforcing_consecutive_gateway_failure: od.enforcingConsecutiveGatewayFailure,
      split_external_local_origin_errors: od.splitExternalLocalOriginErrors,
      interval: duration(od.intervalMs),
      base_ejection_time: duration(od.baseEjectionTimeMs),
      max_ejection_percent: od.maxEjectionPercent,
      enforcing_success_rate: od.enforcingSuccessRate,
    };
    put(out.outlier_detection, 'consecutive_local_origin_failure', od.consecutiveLocalOriginFailure);
    if (od.healthyPanicThreshold !== undefined) out.common_lb_config = { healthy_panic_threshold: { value: od.healthyPanicThreshold } };
  }
  if (c.ringHash) out.ring_hash_lb_config = { minimum_ring_size: c.ringHash.minimumRingSize };
  if (c.maglev) out.maglev_lb_config = { table_size: c.maglev.tableSize };
  if (c.type === 'STRICT_DNS' || c.type === 'LOGICAL_DNS') {
    put(out, 'dns_refresh_rate', c.dnsRefreshRateMs === undefined ? undefined : duration(c.dnsRefreshRateMs));
    put(out, 'respect_dns_ttl', c.respectDnsTtl);
    put(out, 'dns_lookup_family', c.dnsLookupFamily);
  }
  const http = httpOptions(c);
  if (http) out.typed_extension_protocol_options = { [HTTP_OPTIONS]: http };
  const ka = c.tcpKeepalive;
  if (ka) {
    const keepalive: Json = {};
    put(keepalive, 'keepalive_probes', ka.probes);
    put(keepalive, 'keepalive_time', ka.timeMs === undefined ? undefined : Math.round(ka.timeMs / 1000));
    put(keepalive, 'keepalive_interval', ka.intervalMs === undefined ? undefined : Math.round(ka.intervalMs / 1000));
    out.upstream_connection_options = { tcp_keepalive: keepalive };
  }
  Object.assign(out, encodeUpstreamTls(c));
  const istio: Record<string, unknown> = {};
  if (c.istioConfig) istio.config = c.istioConfig;
  if (c.service) istio.services = [{ host: c.service.host, name: c.service.host.split('.')[0], namespace: c.service.namespace }];
  Object.assign(out, istioMetadata(istio));
  return out;
}

function httpOptions(c: Cluster): Json | undefined {
  const common: Json = {};
  put(common, 'idle_timeout', c.idleTimeoutMs === undefined ? undefined : duration(c.idleTimeoutMs));
  put(common, 'max_connection_duration', c.maxConnectionDurationMs === undefined ? undefined : duration(c.maxConnectionDurationMs));
  put(common, 'max_requests_per_connection', c.maxRequestsPerConnection);
  const out: Json = { '@type': `type.googleapis.com/${HTTP_OPTIONS}` };
  if (Object.keys(common).length > 0) out.common_http_protocol_options = common;
  const upstream: Json = {};
  put(upstream, 'auto_sni', c.autoSni);
  put(upstream, 'auto_san_validation', c.autoSanValidation);
  if (Object.keys(upstream).length > 0) out.upstream_http_protocol_options = upstream;
  if (c.useClientProtocol) out.use_downstream_protocol_config = { http_protocol_options: {}, http2_protocol_options: {} };
  else if (c.http2) {
    const h2: Json = {};
    put(h2, 'max_concurrent_streams', c.http2.maxConcurrentStreams);
    out.explicit_http_config = { http2_protocol_options: h2 };
  }
  return Object.keys(out).length > 1 ? out : undefined;
}
