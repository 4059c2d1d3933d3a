import type { Cluster, HashPolicy, TcpProxyFilter } from '../model.js';
import { TCP_PROXY } from '../model.js';
import { outboundClusterName } from './clusters.js';
import { resolveHost } from './hosts.js';
import type { RouteContext } from './http_route.js';
import type { ServiceView } from './registry.js';

/**
 * How a VirtualService destination becomes a cluster name (Istio's GetDestinationCluster):
 * the service the host resolves to (exact, else most specific wildcard entry) names the
 * cluster; the port is the destination's, else the service's only port, else the listener's.
 */
export function destinationResolver(view: ServiceView, listenerPort: number): RouteContext['destination'] {
  return (d: any, vsNamespace: string) => {
    const host = resolvedHost(d, vsNamespace);
    const svc = view.lookup(host);
    const port = d?.port?.number ?? (svc && svc.ports.length === 1 ? svc.ports[0].number : listenerPort);
    return { cluster: outboundClusterName(port, svc?.hostname ?? host, d?.subset ?? ''), host, port };
  };
}

/** Destinations are immutable parts of memoized definitions: resolve each one's host once. */
const hostMemo = new WeakMap<object, string>();
function resolvedHost(d: any, ns: string): string {
  if (!d || typeof d !== 'object') return resolveHost(String(d?.host ?? ''), ns);
  let h = hostMemo.get(d);
  if (h === undefined) hostMemo.set(d, (h = resolveHost(String(d.host ?? ''), ns)));
  return h;
}

export function hashPolicies(clusters: Map<string, Cluster>): (name: string) => HashPolicy | undefined {
  return (name) => clusters.get(name)?.consistentHash;
}

/** tcp_proxy to one cluster, or to weighted ones (the heaviest doubles as `cluster` for single-cluster readers). */
export function tcpProxy(statPrefix: string, targets: { cluster: string; weight: number }[], idleTimeoutMs: number): TcpProxyFilter {
  const live = targets.length > 1 ? targets.filter((t) => t.weight > 0) : targets;
  const heaviest = live.reduce((a, b) => (b.weight > a.weight ? b : a), live[0]);
  const f: TcpProxyFilter = { name: TCP_PROXY, statPrefix: live.length > 1 ? statPrefix : heaviest.cluster, cluster: heaviest.cluster, idleTimeoutMs };
  if (live.length > 1) f.weightedClusters = live.map((t) => ({ name: t.cluster, weight: t.weight }));
  return f;
}
