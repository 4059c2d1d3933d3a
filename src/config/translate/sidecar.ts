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
} from '../model.js';
import type { TranslateOptions } from './context.js';

export function tcpChain(name: string, cluster: string, idleTimeoutMs: number, match: FilterChain['match'] = {}, statPrefix = cluster): FilterChain {
  return { name, match, filters: [{ name: 'envoy.filters.network.tcp_proxy', statPrefix, cluster, idleTimeoutMs }] };
}

/**
 * Loop guard, as Istio's `virtualOutbound-blackhole` / `virtualInbound-blackhole`: a connection
 * whose original destination is one of the proxy's own capture ports would loop forever (and
 * one that was never redirected reports the listener's own address), so it is closed. Its
 * own stat prefix keeps it apart from REGISTRY_ONLY's BlackHoleCluster in tcp.* stats.
 */
function loopGuardChains(opts: TranslateOptions, direction: 'virtualOutbound' | 'virtualInbound', idle: number): FilterChain[] {
  return [opts.outboundPort, opts.inboundPort].map((port) => tcpChain(`${direction}-blackhole`, BLACKHOLE_CLUSTER, idle, { destinationPort: port }, `${direction}-blackhole`));
}

/** The two capture listeners and Istio's well-known clusters. */
export function sidecarListeners(mesh: MeshSettings, opts: TranslateOptions): { listeners: Listener[]; clusters: Cluster[] } {
  const idle = mesh.tcpIdleTimeoutMs;
  const outboundDefault =
    mesh.outboundTrafficPolicy === 'REGISTRY_ONLY' ? tcpChain('BlackHoleCluster', BLACKHOLE_CLUSTER, idle) : tcpChain('PassthroughFilterChain', PASSTHROUGH_CLUSTER, idle);
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
      filterChains: loopGuardChains(opts, VIRTUAL_INBOUND, idle),
      defaultFilterChain: tcpChain('virtualInbound-catchall-tcp', INBOUND_PASSTHROUGH_CLUSTER, idle),
    },
  ];
  const clusters: Cluster[] = [
    { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeoutMs: mesh.connectTimeoutMs, endpoints: [] },
    { name: BLACKHOLE_CLUSTER, type: 'STATIC', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: mesh.connectTimeoutMs, endpoints: [] },
    {
      name: INBOUND_PASSTHROUGH_CLUSTER,
      type: 'ORIGINAL_DST',
      lbPolicy: 'CLUSTER_PROVIDED',
      connectTimeoutMs: mesh.connectTimeoutMs,
      upstreamBindAddress: opts.inboundSourceAddress,
      originalDstOverrideAddress: opts.inboundTargetAddress,
      endpoints: [],
    },
  ];
  return { listeners, clusters };
}
