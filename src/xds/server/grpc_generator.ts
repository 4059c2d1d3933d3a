import type { Resource } from '../../config/resources.js';
import { resolveHost } from '../../config/translate/hosts.js';
import { portProtocol } from '../../config/translate/service_entry.js';
import type { Route, VirtualHost } from '../../config/model.js';
import { encodeCluster } from '../encode/cluster.js';
import { encodeLoadAssignment } from '../encode/endpoint.js';
import { encodeRouteConfiguration } from '../encode/route.js';
import { ADS_SOURCE, type Json } from '../encode/values.js';
import { TYPE, type TypeKey } from '../type_urls.js';
import type { ScopedModel } from './served_config.js';

/** A ServiceEntry host and one of its gRPC / HTTP2 ports: what a proxyless client dials as `xds:///host:port`. */
export interface GrpcService {
  host: string;
  port: number;
}

const GRPC_PROTOCOLS = new Set(['GRPC', 'HTTP2']);

/** The hosts and ports of ServiceEntries whose ports speak gRPC or HTTP/2 (explicitly or by name prefix). */
export function grpcServices(resources: readonly Resource[]): GrpcService[] {
  const out: GrpcService[] = [];
  for (const r of resources) {
    if (r.kind !== 'ServiceEntry' || !Array.isArray(r.spec?.hosts) || !Array.isArray(r.spec?.ports)) continue;
    for (const p of r.spec.ports)
      if (GRPC_PROTOCOLS.has(portProtocol(p ?? {})) && Number.isInteger(p.number))
        for (const h of r.spec.hosts) if (typeof h === 'string' && !h.startsWith('*')) out.push({ host: resolveHost(h, r.namespace), port: p.number });
  }
  return out;
}

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

/**
 * What istiod's gRPC generator gives proxyless clients: per service port an "API listener"
 * named `host:port` (and `host` alone when the host has one such port) whose connection
 * manager takes its routes over RDS; the routes are the sidecar's virtual host for that host
 * (so VirtualServices apply), narrowed to what gRPC implements; clusters as round robin (gRPC
 * knows no LEAST_REQUEST), DNS clusters as LOGICAL_DNS, original-destination clusters left out.
 * Only services visible to the client's namespace (their cluster exists in its scope) count.
 */
export function grpcResources(m: ScopedModel, services: readonly GrpcService[]): Record<TypeKey, [string, Json][]> {
  const clusterNames = new Set(m.clusters.map((c) => c.name));
  const visible = services.filter((s) => clusterNames.has(`outbound|${s.port}||${s.host}`));
  const portsOf = new Map<string, number>();
  for (const s of visible) portsOf.set(s.host, (portsOf.get(s.host) ?? 0) + 1);
  const listener: [string, Json][] = [];
  const route: [string, Json][] = [];
  for (const s of visible) {
    const name = `${s.host}:${s.port}`;
    const names = portsOf.get(s.host) === 1 ? [name, s.host] : [name];
    for (const n of names) listener.push([n, apiListener(n, name)]);
    route.push([name, encodeRouteConfiguration({ name, validateClusters: false, virtualHosts: [virtualHost(m, s)] })]);
  }
  const clusters = m.clusters.filter((c) => c.type !== 'ORIGINAL_DST');
  return {
    listener,
    route,
    cluster: clusters.map((c) => [c.name, grpcCluster(encodeCluster(c))]),
    endpoint: clusters.filter((c) => c.type === 'EDS').map((c) => [c.name, { '@type': TYPE.endpoint, ...encodeLoadAssignment(c.name, c.endpoints) }]),
    nameTable: [],
  };
}

function apiListener(name: string, routeName: string): Json {
  const hcm = { '@type': HCM_TYPE, stat_prefix: name, rds: { config_source: ADS_SOURCE, route_config_name: routeName }, http_filters: [ROUTER] };
  return { '@type': TYPE.listener, name, api_listener: { api_listener: hcm } };
}

function virtualHost(m: ScopedModel, s: GrpcService): VirtualHost {
  const domains = [s.host, `${s.host}:${s.port}`];
  const sidecar = m.routes.find((r) => r.name === String(s.port))?.virtualHosts.find((vh) => vh.domains.includes(s.host));
  // Fault and CORS are HTTP filters the API listener does not have: their per-route settings go.
  const routes: Route[] = sidecar ? sidecar.routes.map(({ fault: _f, cors: _c, ...r }) => r) : [defaultRoute(`outbound|${s.port}||${s.host}`)];
  return { name: `${s.host}:${s.port}`, domains, routes, includeRequestAttemptCount: false };
}

function defaultRoute(cluster: string): Route {
  return {
    name: 'default',
    match: { prefix: '/', caseSensitive: true, headers: [], queryParameters: [] },
    route: { cluster, timeoutMs: 0, requestMirrorPolicies: [], hashPolicy: [] },
    requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [],
  };
}

function grpcCluster(c: Json): Json {
  const out = { ...c, lb_policy: 'ROUND_ROBIN' };
  if (out.type === 'STRICT_DNS') out.type = 'LOGICAL_DNS';
  delete out.ring_hash_lb_config;
  delete out.maglev_lb_config;
  return out;
}
