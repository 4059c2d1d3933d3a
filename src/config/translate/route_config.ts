import {
  BLACKHOLE_CLUSTER,
  ENVOY_SERVER_NAME,
  HTTP_CONNECTION_MANAGER,
  PASSTHROUGH_CLUSTER,
  type HashPolicy,
  type HttpConnectionManagerFilter,
  type Route,
  type RouteConfiguration,
  type VirtualHost,
} from '../model.js';
import { defaultRetryPolicy, emptyMutations } from './http_route.js';

/** Istio's outbound / gateway HCM with RDS: fault, cors, router. */
/** The HCM's timeouts: Istio's sidecar values (both disabled) unless the proxy's flags say otherwise. */
export interface HcmTimeouts {
  streamIdleTimeoutMs: number;
  requestHeadersTimeoutMs: number;
}

export const SIDECAR_HCM_TIMEOUTS: Readonly<HcmTimeouts> = Object.freeze({ streamIdleTimeoutMs: 0, requestHeadersTimeoutMs: 0 });

/**
 * The `server` header of responses (Envoy's server_name). istiod sets `istio-envoy` on inbound
 * and gateway HCMs and leaves outbound ones at Envoy's default (ENVOY_SERVER_NAME): what an app
 * sees from a call through its own sidecar.
 */
export const ISTIO_SERVER_NAME = 'istio-envoy';

export function httpConnectionManager(routeConfigName: string, statPrefix: string, timeouts: HcmTimeouts = SIDECAR_HCM_TIMEOUTS): HttpConnectionManagerFilter {
  return {
    name: HTTP_CONNECTION_MANAGER,
    statPrefix,
    routeConfigName,
    httpFilters: ['envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.router'],
    stripAnyHostPort: true,
    streamIdleTimeoutMs: timeouts.streamIdleTimeoutMs,
    requestHeadersTimeoutMs: timeouts.requestHeadersTimeoutMs,
    useRemoteAddress: false,
    normalizePath: true,
    upgradeTypes: ['websocket'],
    serverName: ENVOY_SERVER_NAME,
    serverHeaderTransformation: 'OVERWRITE',
  };
}

const catchAllMatch = () => ({ prefix: '/', caseSensitive: true, headers: [], queryParameters: [] });

/** Istio's route for a service without a VirtualService: everything to `outbound|port||host`. */
export function defaultRoute(cluster: string, host: string, port: number, hash: HashPolicy | undefined): Route {
  return {
    name: 'default',
    match: catchAllMatch(),
    route: { cluster, timeoutMs: 0, retryPolicy: defaultRetryPolicy(), requestMirrorPolicies: [], hashPolicy: hash ? [hash] : [] },
    ...emptyMutations(),
    operation: `${host}:${port}/*`,
  };
}

/** The sidecar's catch-all virtual host: PassthroughCluster (ALLOW_ANY) or 502 (REGISTRY_ONLY). */
export function catchAllVirtualHost(mode: 'ALLOW_ANY' | 'REGISTRY_ONLY'): VirtualHost {
  if (mode === 'REGISTRY_ONLY') {
    return {
      name: 'block_all',
      domains: ['*'],
      routes: [{ name: 'block_all', match: catchAllMatch(), directResponse: { status: 502 }, ...emptyMutations() }],
      includeRequestAttemptCount: true,
    };
  }
  return {
    name: 'allow_any',
    domains: ['*'],
    routes: [
      {
        name: 'allow_any',
        match: catchAllMatch(),
        route: { cluster: PASSTHROUGH_CLUSTER, timeoutMs: 0, requestMirrorPolicies: [], hashPolicy: [] },
        ...emptyMutations(),
      },
    ],
    includeRequestAttemptCount: true,
  };
}

/** A gateway port with no VirtualService bound: every request gets 404 (no route). */
export function blackholeVirtualHost(port: number): VirtualHost {
  return { name: `blackhole:${port}`, domains: ['*'], routes: [], includeRequestAttemptCount: true };
}

/**
 * Collects virtual hosts for one route configuration, dropping a domain a previous virtual
 * host already claimed (Envoy rejects duplicates; Istio keeps the first).
 */
export class RouteConfigBuilder {
  private readonly vhosts: VirtualHost[] = [];
  private readonly domains = new Set<string>();
  private readonly names = new Set<string>();

  constructor(readonly name: string) {}

  has(vhostName: string): boolean {
    return this.names.has(vhostName);
  }

  /** Gateways merge the routes of several VirtualServices for the same host, in age order. */
  appendRoutes(vhostName: string, routes: VirtualHost['routes']): void {
    const vh = this.vhosts.find((v) => v.name === vhostName);
    if (vh) vh.routes.push(...routes);
  }

  add(vh: VirtualHost): boolean {
    if (this.names.has(vh.name)) return false;
    const domains = vh.domains.filter((d) => !this.domains.has(d));
    if (domains.length === 0) return false;
    for (const d of domains) this.domains.add(d);
    this.names.add(vh.name);
    this.vhosts.push(domains.length === vh.domains.length ? vh : { ...vh, domains });
    return true;
  }

  build(): RouteConfiguration {
    return { name: this.name, virtualHosts: this.vhosts, validateClusters: false };
  }
}

export const BLACKHOLE = BLACKHOLE_CLUSTER;
