import { type Cluster, type ClusterType, type DnsLookupFamily, type LbPolicy, type OutlierDetection } from '../../config/model.js';
import { convertLoadAssignment } from './endpoint.js';
import { convertUpstreamTls } from './upstream_tls.js';
import type { ConversionReport } from './report.js';
import { bool, durationMs, istioMetadata, num, typeName, type Json } from './values.js';

const TYPES: readonly ClusterType[] = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'];
const LB: readonly LbPolicy[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV', 'CLUSTER_PROVIDED'];
const FAMILIES: readonly DnsLookupFamily[] = ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'];
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** An xDS cluster and, for EDS, the ClusterLoadAssignment name it waits for. */
export interface ConvertedCluster {
  cluster: Cluster;
  /** EDS: `eds_cluster_config.service_name`, else the cluster name. */
  edsName?: string;
}

/** Envoy v3 Cluster → the model's Cluster (endpoints empty for EDS until the assignment arrives). */
export function convertCluster(c: Json, report: ConversionReport): ConvertedCluster {
  const name: string = c.name;
  const where = `Cluster ${name}`;
  if (!name) report.fail('Cluster', 'no name');
  if (c.cluster_type) report.fail(where, `custom cluster type ${c.cluster_type.name} (e.g. aggregate) is not supported`);
  const type = (c.type ?? 'STATIC') as ClusterType;
  if (!TYPES.includes(type)) report.fail(where, `cluster type ${type} is not supported`);
  const lbPolicy = (c.lb_policy ?? 'ROUND_ROBIN') as LbPolicy;
  if (!LB.includes(lbPolicy)) report.fail(where, `lb_policy ${lbPolicy} is not supported`);
  const out: Cluster = {
    name,
    type,
    lbPolicy,
    connectTimeoutMs: durationMs(c.connect_timeout) ?? 5000,
    endpoints: type === 'EDS' ? [] : convertLoadAssignment(c.load_assignment, report, where),
  };
  const bindAddress = c.upstream_bind_config?.source_address?.address;
  if (bindAddress) out.upstreamBindAddress = bindAddress;
  const th = (c.circuit_breakers?.thresholds ?? []).find((t: Json) => (t.priority ?? 'DEFAULT') === 'DEFAULT');
  if (th) {
    out.circuitBreakers = {
      maxConnections: num(th.max_connections) ?? 1024,
      maxPendingRequests: num(th.max_pending_requests) ?? 1024,
      maxRequests: num(th.max_requests) ?? 1024,
      maxRetries: num(th.max_retries) ?? 3,
      trackRemaining: bool(th.track_remaining) ?? false,
    };
  } else out.circuitBreakers = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3, trackRemaining: false };
  if (c.outlier_detection) out.outlierDetection = outlier(c.outlier_detection, c.common_lb_config);
  if (c.ring_hash_lb_config) out.ringHash = { minimumRingSize: num(c.ring_hash_lb_config.minimum_ring_size) ?? 1024 };
  if (c.maglev_lb_config) out.maglev = { tableSize: num(c.maglev_lb_config.table_size) ?? 65537 };
  if (type === 'STRICT_DNS' || type === 'LOGICAL_DNS') {
    out.dnsRefreshRateMs = durationMs(c.dns_refresh_rate) ?? 5000;
    out.respectDnsTtl = bool(c.respect_dns_ttl) ?? false;
    const family = (c.dns_lookup_family ?? 'AUTO') as DnsLookupFamily;
    out.dnsLookupFamily = FAMILIES.includes(family) ? family : 'AUTO';
  }
  httpOptions(c, out, report);
  const ka = c.upstream_connection_options?.tcp_keepalive;
  if (ka) out.tcpKeepalive = { probes: num(ka.keepalive_probes), timeMs: secondsMs(ka.keepalive_time), intervalMs: secondsMs(ka.keepalive_interval) };
  const tls = convertUpstreamTls(c, where, report);
  if (tls) out.tls = tls;
  if (c.health_checks?.length) report.note('cluster.health_checks', `${where}: active health checks are not implemented`);
  const istio = istioMetadata(c);
  if (typeof istio.config === 'string') out.istioConfig = istio.config;
  const service = serviceOf(name, istio);
  if (service) out.service = service;
  return type === 'EDS' ? { cluster: out, edsName: c.eds_cluster_config?.service_name || name } : { cluster: out };
}

const secondsMs = (v: Json) => (num(v) === undefined ? undefined : num(v)! * 1000);

function outlier(o: Json, common: Json): OutlierDetection {
  const out: OutlierDetection = {
    consecutive5xx: num(o.consecutive_5xx) ?? 5,
    enforcingConsecutive5xx: num(o.enforcing_consecutive_5xx) ?? 100,
    consecutiveGatewayFailure: num(o.consecutive_gateway_failure) ?? 5,
    enforcingConsecutiveGatewayFailure: num(o.enforcing_consecutive_gateway_failure) ?? 0,
    splitExternalLocalOriginErrors: bool(o.split_external_local_origin_errors) ?? false,
    intervalMs: durationMs(o.interval) ?? 10_000,
    baseEjectionTimeMs: durationMs(o.base_ejection_time) ?? 30_000,
    maxEjectionPercent: num(o.max_ejection_percent) ?? 10,
    enforcingSuccessRate: 0,
  };
  const local = num(o.consecutive_local_origin_failure);
  if (local !== undefined) out.consecutiveLocalOriginFailure = local;
  const panic = num(common?.healthy_panic_threshold);
  if (panic !== undefined) out.healthyPanicThreshold = panic;
  return out;
}

/** Istio puts the upstream HTTP settings in typed_extension_protocol_options. */
function httpOptions(c: Json, out: Cluster, report: ConversionReport): void {
  const opts = c.typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  if (!opts) return;
  if (typeName(opts) !== HTTP_OPTIONS) return report.note('cluster.http_options', `Cluster ${c.name}: typed_extension_protocol_options of type ${typeName(opts)} ignored`);
  const common = opts.common_http_protocol_options;
  const idle = durationMs(common?.idle_timeout);
  if (idle !== undefined) out.idleTimeoutMs = idle;
  const maxDuration = durationMs(common?.max_connection_duration);
  if (maxDuration !== undefined) out.maxConnectionDurationMs = maxDuration;
  const perConnection = num(common?.max_requests_per_connection);
  if (perConnection !== undefined) out.maxRequestsPerConnection = perConnection;
  const upstream = opts.upstream_http_protocol_options;
  if (bool(upstream?.auto_sni)) out.autoSni = true;
  if (bool(upstream?.auto_san_validation)) out.autoSanValidation = true;
  if (upstream?.override_auto_sni_header) report.note('cluster.override_auto_sni_header', `Cluster ${c.name}: override_auto_sni_header is not supported (the Host header is used)`);
  if (opts.use_downstream_protocol_config) out.useClientProtocol = true;
  const h2 = opts.explicit_http_config?.http2_protocol_options;
  if (h2) out.http2 = { maxConcurrentStreams: num(h2.max_concurrent_streams), upgrade: true };
}

/** Istio's `outbound|9080|v1|reviews.default.svc.cluster.local` with its metadata's services[0]. */
function serviceOf(name: string, istio: Record<string, unknown>): Cluster['service'] {
  const parts = name.split('|');
  if (parts.length !== 4 || (parts[0] !== 'outbound' && parts[0] !== 'inbound')) return undefined;
  const svc = (Array.isArray(istio.services) ? istio.services[0] : undefined) as { host?: string; namespace?: string } | undefined;
  const host = svc?.host ?? parts[3];
  if (!host) return undefined;
  const out: NonNullable<Cluster['service']> = { host, namespace: svc?.namespace ?? host.split('.')[1] ?? '', port: Number(parts[1]) };
  if (parts[2]) out.subset = parts[2];
  return out;
}
