import { TCP_PROXY, type HttpConnectionManagerFilter, type Listener, type RouteConfiguration, type TcpProxyFilter, type VirtualHost } from '../config/model.js';
import type { Destination } from './listener_table.js';

/**
 * Until the HTTP connection manager runs in workers, a connection that lands on an HCM chain
 * is carried as TCP so nothing that worked before breaks: to the cluster of the virtual host
 * whose domains name the original destination (a service VIP), else — on a gateway whose
 * routes all go to one cluster — that cluster, else the listener's default chain
 * (PassthroughCluster / BlackHoleCluster / a TCP service on the same port).
 */
const DEFAULT_IDLE_MS = 3_600_000;
const byRouteConfig = new WeakMap<RouteConfiguration, Map<string, string | null>>();

function heaviest(vh: VirtualHost): string | undefined {
  // Prefer the catch-all route (Istio's default / last route), then any routed one.
  const routed = vh.routes.filter((r) => r.route);
  const catchAll = [...routed].reverse().find((r) => r.match.prefix === '/' && r.match.headers.length === 0 && r.match.queryParameters.length === 0);
  const action = (catchAll ?? routed[0])?.route;
  if (!action) return undefined;
  if (action.cluster) return action.cluster;
  const wc = action.weightedClusters?.clusters ?? [];
  return wc.reduce<(typeof wc)[number] | undefined>((a, b) => (!a || b.weight > a.weight ? b : a), undefined)?.name;
}

function clusterFor(rc: RouteConfiguration, dst: Destination, gateway: boolean): string | undefined {
  let cache = byRouteConfig.get(rc);
  if (!cache) byRouteConfig.set(rc, (cache = new Map()));
  const key = `${dst.address}:${dst.port}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let found: string | undefined;
  // Bounded: passthrough traffic can name any number of destinations.
  if (cache.size >= 4096) cache.clear();
  for (const vh of rc.virtualHosts) {
    if (vh.domains.includes(dst.address) || vh.domains.includes(key)) {
      found = heaviest(vh);
      break;
    }
  }
  if (!found && gateway) {
    const all = new Set(rc.virtualHosts.map(heaviest).filter((c): c is string => !!c));
    if (all.size === 1) found = [...all][0];
  }
  cache.set(key, found ?? null);
  return found;
}

export function hcmAsTcp(hcm: HttpConnectionManagerFilter, listener: Listener, dst: Destination, routes: ReadonlyMap<string, RouteConfiguration>): TcpProxyFilter | undefined {
  const dflt = listener.defaultFilterChain?.filters[0];
  const idleTimeoutMs = dflt?.name === TCP_PROXY ? dflt.idleTimeoutMs : DEFAULT_IDLE_MS;
  const rc = routes.get(hcm.routeConfigName);
  const cluster = rc && clusterFor(rc, dst, listener.bindToPort);
  if (cluster) return { name: TCP_PROXY, statPrefix: cluster, cluster, idleTimeoutMs };
  return dflt?.name === TCP_PROXY ? dflt : undefined;
}
