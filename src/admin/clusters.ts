import type { Cluster } from '../config/model.js';
import { UNLIMITED } from '../config/model.js';
import type { HostRegistry, RegisteredHost } from '../cluster/host_registry.js';
import { HOST_COUNTERS, HOST_GAUGES, HS } from '../cluster/host_shared.js';
import type { OutlierManager } from '../cluster/outlier/manager.js';

/** What /clusters reads: every cluster's hosts with their shared stats, and the outlier verdicts. */
export interface ClustersView {
  hosts: HostRegistry;
  outlier: OutlierManager;
}

/** Envoy's built-in thresholds for the high priority, which Istio leaves alone. */
const HIGH_PRIORITY = { max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 };

function defaultThresholds(c: Cluster) {
  const cb = c.circuitBreakers;
  return {
    max_connections: cb?.maxConnections ?? UNLIMITED,
    max_pending_requests: cb?.maxPendingRequests ?? UNLIMITED,
    max_requests: cb?.maxRequests ?? UNLIMITED,
    max_retries: cb?.maxRetries ?? UNLIMITED,
  };
}

/** Locality `region/zone/sub_zone` as Istio writes it. */
function locality(h: RegisteredHost): { region: string; zone: string; sub_zone: string } {
  const [region = '', zone = '', sub_zone = ''] = (h.locality ?? '').split('/');
  return { region, zone, sub_zone };
}

/** A DNS cluster's hosts carry the name they were resolved from. */
const hostname = (c: Cluster) => (c.type === 'STRICT_DNS' || c.type === 'LOGICAL_DNS' ? c.endpoints[0]?.address ?? '' : '');

function hostStats(view: ClustersView, h: RegisteredHost): { name: string; value: number; gauge: boolean }[] {
  const slots = view.hosts.slots;
  return [
    ...HOST_COUNTERS.map((name) => ({ name, value: slots.read(h.slot, HS[name]), gauge: false })),
    ...HOST_GAUGES.map((name) => ({ name, value: Math.max(0, slots.read(h.slot, HS[name])), gauge: true })),
  ];
}

/** Envoy's /clusters text: `cluster::host::stat::value`, one line each. */
export function clustersText(clusters: readonly Cluster[], view: ClustersView): string {
  const out: string[] = [];
  for (const c of clusters) {
    const n = c.name;
    out.push(`${n}::observability_name::${n}`);
    for (const [k, v] of Object.entries(defaultThresholds(c))) out.push(`${n}::default_priority::${k}::${v}`);
    for (const [k, v] of Object.entries(HIGH_PRIORITY)) out.push(`${n}::high_priority::${k}::${v}`);
    out.push(`${n}::added_via_api::true`);
    if (view.outlier.hasDetector(n)) {
      // Success-rate ejection is off in Istio: Envoy prints -1 for its figures.
      for (const k of ['success_rate_average', 'success_rate_ejection_threshold', 'local_origin_success_rate_average', 'local_origin_success_rate_ejection_threshold'])
        out.push(`${n}::outlier::${k}::-1`);
    }
    for (const h of view.hosts.get(n)?.hosts.values() ?? []) {
      const p = `${n}::${h.key}`;
      for (const s of hostStats(view, h)) out.push(`${p}::${s.name}::${s.value}`);
      out.push(`${p}::hostname::${hostname(c)}`);
      out.push(`${p}::health_flags::${view.hosts.slots.isEjected(h.slot) ? '/failed_outlier_check' : 'healthy'}`);
      out.push(`${p}::weight::${h.weight}`);
      const l = locality(h);
      out.push(`${p}::region::${l.region}`, `${p}::zone::${l.zone}`, `${p}::sub_zone::${l.sub_zone}`);
      out.push(`${p}::canary::false`, `${p}::priority::0`, `${p}::success_rate::-1`, `${p}::local_origin_success_rate::-1`);
    }
  }
  return out.join('\n') + '\n';
}

/** Envoy's /clusters?format=json (admin.v3.Clusters): zero values left out, as proto JSON does. */
export function clustersJson(clusters: readonly Cluster[], view: ClustersView): unknown {
  return {
    cluster_statuses: clusters.map((c) => ({
      name: c.name,
      observability_name: c.name,
      added_via_api: true,
      circuit_breakers: { thresholds: [defaultThresholds(c), { priority: 'HIGH', ...HIGH_PRIORITY }] },
      host_statuses: [...(view.hosts.get(c.name)?.hosts.values() ?? [])].map((h) => {
        const l = locality(h);
        const ejected = view.hosts.slots.isEjected(h.slot);
        return {
          address: { socket_address: { address: h.address, port_value: h.port } },
          stats: hostStats(view, h).map((s) => ({ ...(s.gauge ? { type: 'GAUGE' } : {}), name: s.name, ...(s.value ? { value: String(s.value) } : {}) })),
          health_status: { eds_health_status: 'HEALTHY', ...(ejected ? { failed_outlier_check: true } : {}) },
          weight: h.weight,
          ...(hostname(c) ? { hostname: hostname(c) } : {}),
          ...(l.region || l.zone || l.sub_zone ? { locality: Object.fromEntries(Object.entries(l).filter(([, v]) => v)) } : {}),
        };
      }),
    })),
  };
}
