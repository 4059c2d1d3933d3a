import type { Cluster, FilterChain, Listener, RouteConfiguration, VirtualHost } from '../model.js';
import { BLACKHOLE_CLUSTER, PASSTHROUGH_CLUSTER } from '../model.js';
import type { Reporter } from './context.js';
import { outboundClusterName } from './clusters.js';
import { destinationResolver, hashPolicies, tcpProxy } from './destinations.js';
import { specificity, virtualHostDomains } from './hosts.js';
import { matchApplies, virtualServiceRoutes, type RouteContext } from './http_route.js';
import type { ServiceView } from './registry.js';
import { catchAllVirtualHost, defaultRoute, httpConnectionManager, RouteConfigBuilder, type HcmTimeouts } from './route_config.js';
import { isHttpProtocol } from './service_entry.js';
import type { Service, ServicePort, VirtualServiceDef } from './types.js';
import { tcpChain } from './sidecar.js';
import { tlsRouteChains } from './tls_route.js';
import { MESH_GATEWAY } from './virtual_service.js';

export interface OutboundInput {
  view: ServiceView;
  /** VirtualServices bound to `mesh`, visible to the proxy, in age order. */
  virtualServices: VirtualServiceDef[];
  clusters: Map<string, Cluster>;
  outboundPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  tcpIdleTimeoutMs: number;
  hcmTimeouts?: HcmTimeouts;
  proxyNamespace: string;
  proxyLabels: Record<string, string>;
  report: Reporter;
}

interface Assignment {
  vs: VirtualServiceDef;
  score: number;
}

/** For each service, the VirtualService that routes it: the most specific host wins, then the oldest. */
function assignVirtualServices(input: OutboundInput): { byService: Map<Service, Assignment>; orphans: { vs: VirtualServiceDef; host: string }[] } {
  const byService = new Map<Service, Assignment>();
  const orphans: { vs: VirtualServiceDef; host: string }[] = [];
  for (const vs of input.virtualServices) {
    vs.hosts.forEach((h, i) => {
      const services = input.view.matching(h);
      if (services.length === 0) orphans.push({ vs, host: h });
      const score = specificity(h);
      for (const s of services) {
        const cur = byService.get(s);
        if (!cur || score > cur.score) byService.set(s, { vs, score });
        else if (score === cur.score && cur.vs !== vs)
          input.report.at(vs.resource, ['spec', 'hosts', i], `${s.hostname} is already routed by the older VirtualService ${cur.vs.resource.namespace}/${cur.vs.resource.name}: ignored for it`, 'warning');
      }
    });
  }
  return { byService, orphans };
}

/**
 * The sidecar's outbound side: `0.0.0.0_<port>` HTTP listeners (HCM with route config
 * `<port>`), `<vip>_<port>` / `0.0.0.0_<port>` TCP listeners, and the route configurations.
 */
export function sidecarOutbound(input: OutboundInput): { listeners: Listener[]; routes: RouteConfiguration[] } {
  const { view, report } = input;
  const { byService, orphans } = assignVirtualServices(input);
  const listeners = new Map<string, Listener>();
  const routeConfigs = new Map<number, RouteConfigBuilder>();
  const hash = hashPolicies(input.clusters);
  const ctxFor = (port: number): RouteContext => ({
    port,
    gateway: MESH_GATEWAY,
    proxyNamespace: input.proxyNamespace,
    proxyLabels: input.proxyLabels,
    destination: destinationResolver(view, port),
    hashPolicyFor: hash,
  });
  const wildcardListener = (port: number): Listener => {
    const name = `0.0.0.0_${port}`;
    let l = listeners.get(name);
    if (!l) {
      l = { name, address: { address: '0.0.0.0', port }, trafficDirection: 'OUTBOUND', bindToPort: false, useOriginalDst: false, filterChains: [] };
      listeners.set(name, l);
    }
    return l;
  };
  const fallbackChain = () =>
    input.outboundPolicy === 'REGISTRY_ONLY'
      ? tcpChain(BLACKHOLE_CLUSTER, BLACKHOLE_CLUSTER, input.tcpIdleTimeoutMs)
      : tcpChain('PassthroughFilterChain', PASSTHROUGH_CLUSTER, input.tcpIdleTimeoutMs);
  const httpPort = (port: number): RouteConfigBuilder => {
    let rc = routeConfigs.get(port);
    if (!rc) {
      rc = new RouteConfigBuilder(String(port));
      routeConfigs.set(port, rc);
      const l = wildcardListener(port);
      l.listenerFilters = ['envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector'];
      l.filterChains.push({
        name: `0.0.0.0_${port}`,
        match: { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] },
        filters: [httpConnectionManager(String(port), `outbound_0.0.0.0_${port}`, input.hcmTimeouts)],
      });
      l.defaultFilterChain ??= fallbackChain();
    }
    return rc;
  };

  const memo = vhostMemo(input);
  for (const svc of view.all) {
    const vs = byService.get(svc)?.vs;
    for (const port of svc.ports) {
      if (port.protocol === 'UDP') continue;
      if (isHttpProtocol(port.protocol)) {
        const ctx = ctxFor(port.number);
        const cluster = outboundClusterName(port.number, svc.hostname);
        const name = `${svc.hostname}:${port.number}`;
        const key = `${objectId(vs)}|${objectId(svc.entry)}|${svc.addresses.join(',')}|${JSON.stringify(hash(cluster) ?? null)}|${vs ? destinationsKey(vs, ctx) : ''}`;
        httpPort(port.number).add(
          memo.get(name, key, () => {
            const routes = vs ? virtualServiceRoutes(vs, ctx) : [];
            if (routes.length === 0) routes.push(defaultRoute(cluster, svc.hostname, port.number, hash(cluster)));
            return { name, domains: virtualHostDomains(svc.hostname, port.number, input.proxyNamespace, svc.addresses), routes, includeRequestAttemptCount: true };
          }),
        );
      } else {
        addTcpService(svc, port, vs, input, listeners, wildcardListener, fallbackChain);
      }
    }
  }
  // VirtualService hosts that name no service still get virtual hosts, on their destinations' ports.
  for (const { vs, host } of orphans) {
    for (const port of orphanPorts(vs, view)) {
      const rc = httpPort(port);
      const routes = virtualServiceRoutes(vs, ctxFor(port));
      if (routes.length > 0) rc.add({ name: `${host}:${port}`, domains: [host, `${host}:${port}`], routes, includeRequestAttemptCount: true });
    }
  }
  const routes: RouteConfiguration[] = [];
  for (const rc of [...routeConfigs.values()].sort((a, b) => Number(a.name) - Number(b.name))) {
    rc.add(catchAllVirtualHost(input.outboundPolicy));
    routes.push(rc.build());
  }
  return { listeners: [...listeners.values()], routes };
}

const ids = new WeakMap<object, number>();
let nextId = 1;
/** A number per object (0 for none), for memo keys over immutable, memoized definitions. */
function objectId(o: object | undefined): number {
  if (!o) return 0;
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

/** What a VirtualService's routes depend on outside itself: the clusters its destinations resolve to and their hash policies. */
function destinationsKey(vs: VirtualServiceDef, ctx: RouteContext): string {
  const parts: string[] = [];
  const add = (d: any) => {
    if (!d) return;
    const { cluster } = ctx.destination(d, vs.resource.namespace);
    parts.push(cluster, JSON.stringify(ctx.hashPolicyFor(cluster) ?? null));
  };
  for (const h of vs.http) {
    for (const r of Array.isArray(h?.route) ? h.route : []) add(r?.destination);
    add(h?.mirror);
    for (const m of Array.isArray(h?.mirrors) ? h.mirrors : []) add(m?.destination);
  }
  return parts.join(',');
}

/**
 * Virtual hosts of the previous translation for the same proxy, reused when nothing they
 * depend on changed: the route configuration then holds the same objects and the snapshot
 * diff compares (and sends) only the virtual hosts that changed.
 */
const vhostMemos = new Map<string, Map<string, { key: string; vh: VirtualHost }>>();
function vhostMemo(input: OutboundInput) {
  const ctxKey = `${input.proxyNamespace}|${JSON.stringify(input.proxyLabels)}`;
  const prev = vhostMemos.get(ctxKey) ?? new Map<string, { key: string; vh: VirtualHost }>();
  const next = new Map<string, { key: string; vh: VirtualHost }>();
  vhostMemos.set(ctxKey, next);
  return {
    get(name: string, key: string, build: () => VirtualHost): VirtualHost {
      const hit = prev.get(name);
      const vh = hit && hit.key === key ? hit.vh : build();
      next.set(name, { key, vh });
      return vh;
    },
  };
}

function orphanPorts(vs: VirtualServiceDef, view: ServiceView): number[] {
  const ports = new Set<number>();
  for (const h of vs.http) {
    for (const m of Array.isArray(h?.match) ? h.match : []) if (Number.isInteger(m?.port)) ports.add(m.port);
    for (const d of Array.isArray(h?.route) ? h.route : []) {
      const svc = view.lookup(String(d?.destination?.host ?? ''));
      if (Number.isInteger(d?.destination?.port?.number)) ports.add(d.destination.port.number);
      else if (svc) for (const p of svc.ports) if (isHttpProtocol(p.protocol)) ports.add(p.number);
    }
  }
  if (ports.size === 0 && vs.http.length > 0) ports.add(80);
  return [...ports];
}

/** The tcp_proxy target of a TCP service port: the first applicable VirtualService tcp route, else its own cluster. */
function tcpTargets(svc: Service, port: ServicePort, vs: VirtualServiceDef | undefined, input: OutboundInput): { cluster: string; weight: number }[] {
  if (vs) {
    const ctx = { port: port.number, gateway: MESH_GATEWAY, proxyNamespace: input.proxyNamespace, proxyLabels: input.proxyLabels };
    const resolve = destinationResolver(input.view, port.number);
    for (const t of vs.tcp) {
      const matches: any[] = Array.isArray(t.match) && t.match.length > 0 ? t.match : [undefined];
      if (!matches.some((m) => matchApplies(m, ctx, vs.resource.namespace))) continue;
      return t.route.map((d: any) => ({ cluster: resolve(d.destination, vs.resource.namespace).cluster, weight: t.route.length === 1 ? 100 : d.weight ?? 0 }));
    }
  }
  return [{ cluster: outboundClusterName(port.number, svc.hostname), weight: 100 }];
}

function addTcpService(
  svc: Service,
  port: ServicePort,
  vs: VirtualServiceDef | undefined,
  input: OutboundInput,
  listeners: Map<string, Listener>,
  wildcardListener: (port: number) => Listener,
  fallbackChain: () => FilterChain,
): void {
  const own = outboundClusterName(port.number, svc.hostname);
  const proxy = tcpProxy(own, tcpTargets(svc, port, vs, input), input.tcpIdleTimeoutMs);
  const chain = (match: FilterChain['match'] = {}): FilterChain => ({ name: own, match, filters: [proxy] });
  // VirtualService tls routes pick by SNI first; what they do not match goes to the service itself.
  const sniChains = port.protocol === 'TLS' || port.protocol === 'HTTPS' ? sidecarTlsRoutes(vs, port.number, input) : [];
  const exact = svc.addresses.filter((a) => !a.includes('/'));
  const cidrs = svc.addresses.filter((a) => a.includes('/'));
  const firstHost = svc.entry.hosts[0] === svc.hostname;
  for (const ip of exact) {
    const name = `${ip}_${port.number}`;
    const taken = listeners.get(name);
    if (taken) {
      if (firstHost) input.report.at(svc.entry.resource, ['spec', 'addresses'], `${ip}:${port.number} is already claimed by ${taken.filterChains[0]?.name}: ignored here`, 'warning');
      continue;
    }
    // As istiod writes it: one filter chain without a match.
    listeners.set(name, { name, address: { address: ip, port: port.number }, trafficDirection: 'OUTBOUND', bindToPort: false, useOriginalDst: false, filterChains: [...sniChains, chain()] });
  }
  if (exact.length > 0 && cidrs.length === 0) return;
  const l = wildcardListener(port.number);
  if (cidrs.length === 0 && (port.protocol === 'TLS' || port.protocol === 'HTTPS')) {
    // Istio: TLS services without a VIP share the port, told apart by SNI; anything else passes through.
    l.listenerFilters = ['envoy.filters.listener.tls_inspector'];
    for (const c of sniChains) if (!l.filterChains.some((o) => o.name === c.name)) l.filterChains.push(c);
    l.filterChains.push(chain({ transportProtocol: 'tls', serverNames: [svc.hostname] }));
    l.defaultFilterChain ??= fallbackChain();
    return;
  }
  if (cidrs.length > 0) {
    // More specific than the HTTP chain: keep CIDR chains first.
    l.filterChains.unshift(chain({ destinationPort: port.number, prefixRanges: cidrs }));
    return;
  }
  const current = l.defaultFilterChain;
  const claimedByService = current && current.name !== PASSTHROUGH_CLUSTER && current.name !== 'PassthroughFilterChain' && current.name !== BLACKHOLE_CLUSTER;
  if (claimedByService) {
    if (firstHost && current.name !== own)
      input.report.at(svc.entry.resource, ['spec', 'ports'], `port ${port.number} without addresses is already claimed by ${current.name}: ignored here`, 'warning');
    return;
  }
  l.defaultFilterChain = chain();
}

/** The `mesh` tls routes of the service's VirtualService on this port (empty without one). */
function sidecarTlsRoutes(vs: VirtualServiceDef | undefined, port: number, input: OutboundInput): FilterChain[] {
  if (!vs || vs.tls.length === 0) return [];
  const ctx = { port, gateway: MESH_GATEWAY, proxyNamespace: input.proxyNamespace, proxyLabels: input.proxyLabels, destination: destinationResolver(input.view, port), tcpIdleTimeoutMs: input.tcpIdleTimeoutMs };
  return tlsRouteChains(vs, ctx);
}
