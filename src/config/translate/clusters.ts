import { isIP } from 'node:net';
import type { Cluster, ClusterType, LbEndpoint, MeshSettings } from '../model.js';
import { istioConfigPath } from './http_route.js';
import { labelsMatch } from './hosts.js';
import { applyPolicy, defaultCircuitBreakers, effectivePolicy } from './traffic_policy.js';
import type { DestinationRuleDef, Service, ServicePort, SubsetDef } from './types.js';
import { meshTls } from './upstream_tls.js';

export function outboundClusterName(port: number, host: string, subset = ''): string {
  return `outbound|${port}|${subset}|${host}`;
}

const TYPE_BY_RESOLUTION: Record<Service['resolution'], ClusterType> = { NONE: 'ORIGINAL_DST', STATIC: 'EDS', DNS: 'STRICT_DNS', DNS_ROUND_ROBIN: 'LOGICAL_DNS' };

function endpointsFor(svc: Service, port: ServicePort, subset: SubsetDef | undefined): LbEndpoint[] {
  if (svc.resolution === 'NONE') return [];
  const out: LbEndpoint[] = [];
  for (const e of svc.endpoints) {
    if (subset && !labelsMatch(subset.labels, e.labels)) continue;
    if (e.address.startsWith('unix://')) continue;
    if (svc.resolution === 'STATIC' && isIP(e.address) === 0) continue;
    const ep: LbEndpoint = { address: e.address, port: e.ports[port.name] ?? port.targetPort ?? port.number, weight: e.weight };
    if (Object.keys(e.labels).length > 0) ep.labels = e.labels;
    if (e.locality) ep.locality = e.locality;
    if (e.network) ep.network = e.network;
    out.push(ep);
  }
  // DNS resolution without endpoints resolves the host name itself (Istio's behaviour).
  if (out.length === 0 && svc.endpoints.length === 0 && (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN') && !svc.hostname.startsWith('*')) {
    out.push({ address: svc.hostname, port: port.targetPort ?? port.number, weight: 1 });
  }
  return out;
}

function baseCluster(svc: Service, port: ServicePort, subset: SubsetDef | undefined, mesh: MeshSettings): Cluster {
  const type = TYPE_BY_RESOLUTION[svc.resolution];
  const c: Cluster = {
    name: outboundClusterName(port.number, svc.hostname, subset?.name),
    type,
    lbPolicy: type === 'ORIGINAL_DST' ? 'CLUSTER_PROVIDED' : 'LEAST_REQUEST',
    connectTimeoutMs: mesh.connectTimeoutMs,
    endpoints: endpointsFor(svc, port, subset),
    circuitBreakers: defaultCircuitBreakers(),
    service: { host: svc.hostname, namespace: svc.namespace, port: port.number, ...(subset ? { subset: subset.name } : {}), location: svc.location },
  };
  // Resolved on the main thread (src/dns) with Istio's settings: the record TTL respected, IPv4 only (a single-stack pod).
  if (type === 'STRICT_DNS' || type === 'LOGICAL_DNS') Object.assign(c, { dnsRefreshRateMs: mesh.dnsRefreshRateMs, respectDnsTtl: true, dnsLookupFamily: 'V4_ONLY' });
  return c;
}

/**
 * Istio's outbound clusters for one service: `outbound|port||host` per port and
 * `outbound|port|subset|host` per DestinationRule subset, over the endpoints whose labels
 * match; the rule's traffic policy (port-level, then the subset's) applied on top of Istio's
 * defaults.
 */
export function serviceClusters(svc: Service, dr: DestinationRuleDef | undefined, mesh: MeshSettings): Cluster[] {
  // Memoized on the (immutable, memoized) definitions: an unchanged service gives the same
  // Cluster objects, so the snapshot diff sees them unchanged without comparing contents.
  const meshKey = `${mesh.connectTimeoutMs}|${mesh.dnsRefreshRateMs}|${mesh.enableAutoMtls}|${mesh.trustDomain}`;
  const byDr = memo.get(svc.entry) ?? new WeakMap<object, Map<string, { meshKey: string; endpoints: unknown; clusters: Cluster[] }>>();
  memo.set(svc.entry, byDr);
  const byHost = byDr.get(dr ?? NO_RULE) ?? new Map();
  byDr.set(dr ?? NO_RULE, byHost);
  const hit = byHost.get(svc.hostname);
  if (hit && hit.meshKey === meshKey && hit.endpoints === svc.endpoints) return hit.clusters;
  const clusters = buildClusters(svc, dr, mesh);
  byHost.set(svc.hostname, { meshKey, endpoints: svc.endpoints, clusters });
  return clusters;
}

const memo = new WeakMap<object, WeakMap<object, Map<string, { meshKey: string; endpoints: unknown; clusters: Cluster[] }>>>();
const NO_RULE = {};

function buildClusters(svc: Service, dr: DestinationRuleDef | undefined, mesh: MeshSettings): Cluster[] {
  const out: Cluster[] = [];
  for (const port of svc.ports) {
    if (port.protocol === 'UDP') continue;
    for (const subset of [undefined, ...(dr?.subsets ?? [])]) {
      const c = baseCluster(svc, port, subset, mesh);
      if (dr) {
        const original = { type: c.type, lbPolicy: c.lbPolicy };
        applyPolicy(c, effectivePolicy(dr.trafficPolicy, subset?.trafficPolicy, port.number));
        // ORIGINAL_DST clusters pick the host themselves: load-balancer settings don't apply.
        if (original.type === 'ORIGINAL_DST') {
          c.lbPolicy = original.lbPolicy;
          delete c.ringHash;
          delete c.maglev;
        }
        c.istioConfig = istioConfigPath('destination-rule', dr.resource.namespace, dr.resource.name);
      }
      // HTTP2 / gRPC ports speak HTTP/2 to the upstream whatever h2UpgradePolicy says (Istio).
      if (port.protocol === 'HTTP2' || port.protocol === 'GRPC' || port.protocol === 'GRPC-WEB') c.http2 = { ...c.http2, upgrade: true };
      meshTls(c, svc, port, subset, mesh);
      out.push(c);
    }
  }
  return out;
}
