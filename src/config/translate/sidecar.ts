import {
  BLACKHOLE_CLUSTER,
  INBOUND_PASSTHROUGH_CLUSTER,
  PASSTHROUGH_CLUSTER,
  VIRTUAL_INBOUND,
  VIRTUAL_OUTBOUND,
  type Cluster,
  type FilterChain,
  type Listener,
  type MeshSettings,
  type RouteConfiguration,
} from '../model.js';
import { defaultCircuitBreakers } from './traffic_policy.js';
import { httpConnectionManager, ISTIO_SERVER_NAME } from './route_config.js';
import { emptyMutations } from './http_route.js';
import type { TranslateOptions } from './context.js';
import type { SidecarDef } from './types.js';
import { inboundMtlsChains } from './inbound_mtls.js';
import type { InboundMtls } from './peer_authentication.js';

/** No PeerAuthentication anywhere: Istio's default, PERMISSIVE. */
export const DEFAULT_INBOUND_MTLS: InboundMtls = { mode: 'PERMISSIVE', ports: new Map() };

export function tcpChain(name: string, cluster: string, idleTimeoutMs: number, match: FilterChain['match'] = {}, statPrefix = cluster): FilterChain {
  return { name, match, filters: [{ name: 'envoy.filters.network.tcp_proxy', statPrefix, cluster, idleTimeoutMs }] };
}

/** Sidecar `ingress` listeners: `inbound|<port>||` clusters to the defaultEndpoint (or the inbound target). */
function ingressChains(sidecar: SidecarDef | undefined, mesh: MeshSettings, opts: TranslateOptions): { chains: FilterChain[]; clusters: Cluster[] } {
  const chains: FilterChain[] = [];
  const clusters: Cluster[] = [];
  for (const ing of sidecar?.ingress ?? []) {
    const name = `inbound|${ing.port}||`;
    const m = /^(?:\[?([^\]]+)\]?):(\d+)$/.exec(ing.defaultEndpoint ?? '');
    const host = m && m[1] !== '0.0.0.0' ? m[1] : opts.inboundTargetAddress;
    const port = m ? Number(m[2]) : ing.port;
    chains.push(tcpChain(`0.0.0.0_${ing.port}`, name, mesh.tcpIdleTimeoutMs, { destinationPort: ing.port }));
    clusters.push({
      name,
      type: 'STATIC',
      lbPolicy: 'CLUSTER_PROVIDED',
      connectTimeoutMs: mesh.connectTimeoutMs,
      upstreamBindAddress: opts.inboundSourceAddress,
      endpoints: [{ address: host, port, weight: 1 }],
      circuitBreakers: defaultCircuitBreakers(),
    });
  }
  return { chains, clusters };
}

/**
 * Loop guard, as Istio's `virtualOutbound-blackhole` / `virtualInbound-blackhole`: a connection
 * whose original destination is one of the proxy's own capture ports would loop forever (and
 * one that was never redirected reports the listener's own address), so it is closed; inbound,
 * so is one for the admin or DNS proxy port, which must not be reachable from outside. Its
 * own stat prefix keeps it apart from REGISTRY_ONLY's BlackHoleCluster in tcp.* stats.
 */
function loopGuardChains(opts: TranslateOptions, direction: 'virtualOutbound' | 'virtualInbound', idle: number): FilterChain[] {
  // Inbound, the proxy's loopback-only ports too (see TranslateOptions.loopbackPorts): never forwarded.
  const own = direction === VIRTUAL_INBOUND ? (opts.loopbackPorts ?? []) : [];
  return [...new Set([opts.outboundPort, opts.inboundPort, ...own])].map((port) => tcpChain(`${direction}-blackhole`, BLACKHOLE_CLUSTER, idle, { destinationPort: port }, `${direction}-blackhole`));
}

/** The two capture listeners and Istio's well-known clusters. */
export function sidecarListeners(
  mesh: MeshSettings,
  opts: TranslateOptions,
  outboundPolicy: MeshSettings['outboundTrafficPolicy'] = mesh.outboundTrafficPolicy,
  sidecar?: SidecarDef,
  mtls: InboundMtls = DEFAULT_INBOUND_MTLS,
): { listeners: Listener[]; clusters: Cluster[]; routes: RouteConfiguration[] } {
  const idle = mesh.tcpIdleTimeoutMs;
  const inbound = inboundMtlsChains(mtls, mesh, {
    http: (name, match) => ({ ...inboundHttpChain(opts), name, match }),
    tcp: (name, match) => tcpChain(name, INBOUND_PASSTHROUGH_CLUSTER, idle, match),
  });
  const ingress = ingressChains(sidecar, mesh, opts);
  const outboundDefault =
    outboundPolicy === 'REGISTRY_ONLY' ? tcpChain('BlackHoleCluster', BLACKHOLE_CLUSTER, idle) : tcpChain('PassthroughFilterChain', PASSTHROUGH_CLUSTER, idle);
  const listeners: Listener[] = [
    {
      name: VIRTUAL_OUTBOUND,
      address: { address: '0.0.0.0', port: opts.outboundPort },
      trafficDirection: 'OUTBOUND',
      bindToPort: true,
      useOriginalDst: true,
      filterChains: loopGuardChains(opts, VIRTUAL_OUTBOUND, idle),
      defaultFilterChain: outboundDefault,
    },
    {
      name: VIRTUAL_INBOUND,
      address: { address: '0.0.0.0', port: opts.inboundPort },
      trafficDirection: 'INBOUND',
      bindToPort: true,
      useOriginalDst: true,
      filterChains: [...loopGuardChains(opts, VIRTUAL_INBOUND, idle), ...ingress.chains, ...inbound.chains],
      defaultFilterChain: inbound.defaultChain,
    },
  ];
  const clusters: Cluster[] = [
    // Istio's passthrough clusters speak the client's protocol (use_downstream_protocol_config).
    { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeoutMs: mesh.connectTimeoutMs, endpoints: [], useClientProtocol: true },
    { name: BLACKHOLE_CLUSTER, type: 'STATIC', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: mesh.connectTimeoutMs, endpoints: [] },
    {
      name: INBOUND_PASSTHROUGH_CLUSTER,
      type: 'ORIGINAL_DST',
      lbPolicy: 'CLUSTER_PROVIDED',
      connectTimeoutMs: mesh.connectTimeoutMs,
      upstreamBindAddress: opts.inboundSourceAddress,
      originalDstOverrideAddress: opts.inboundTargetAddress,
      endpoints: [],
      useClientProtocol: true,
    },
    ...ingress.clusters,
  ];
  return { listeners, clusters, routes: [inboundRoutes()] };
}

const INBOUND_ROUTES = 'virtualInbound';

/**
 * Istio's `virtualInbound-catchall-http`: inbound HTTP (found by http_inspector) goes through
 * the HTTP connection manager — access log, stats, limits — to the app on the original port.
 */
function inboundHttpChain(opts: TranslateOptions): FilterChain {
  return {
    name: 'virtualInbound-catchall-http',
    match: { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] },
    // Istio's inbound HCM hands the app the caller's certificate facts (x-forwarded-client-cert) over mTLS.
    filters: [
      {
        ...httpConnectionManager(INBOUND_ROUTES, `inbound_0.0.0.0_${opts.inboundPort}`, opts.hcmTimeouts),
        stripAnyHostPort: false,
        serverName: ISTIO_SERVER_NAME,
        forwardClientCertDetails: 'APPEND_FORWARD',
        setCurrentClientCertDetails: { subject: true, uri: true, dns: true, cert: false },
      },
    ],
  };
}

function inboundRoutes(): RouteConfiguration {
  return {
    name: INBOUND_ROUTES,
    validateClusters: false,
    virtualHosts: [
      {
        name: 'inbound|http|0',
        domains: ['*'],
        routes: [
          {
            name: 'default',
            match: { prefix: '/', caseSensitive: true, headers: [], queryParameters: [] },
            route: { cluster: INBOUND_PASSTHROUGH_CLUSTER, timeoutMs: 0, requestMirrorPolicies: [], hashPolicy: [] },
            ...emptyMutations(),
            // istiod's decorator for a passthrough inbound port (no Service names it).
            operation: ':0/*',
          },
        ],
        includeRequestAttemptCount: false,
      },
    ],
  };
}
