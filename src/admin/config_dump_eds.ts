import type { Cluster } from '../config/model.js';

/**
 * Envoy's ClusterLoadAssignment view of a cluster's endpoints, for `/config_dump?include_eds`
 * (the endpoints as configured; DNS clusters show their host names, not resolved addresses).
 */
export function endpointConfig(c: Cluster): Record<string, unknown> {
  return {
    cluster_name: c.name,
    endpoints: [
      {
        lb_endpoints: c.endpoints.map((e) => ({
          endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          health_status: 'HEALTHY',
          load_balancing_weight: e.weight,
          ...(e.labels ? { metadata: { filter_metadata: { istio: e.labels } } } : {}),
        })),
      },
    ],
  };
}

/**
 * Envoy's `?mask=`: a protobuf FieldMask (comma-separated dotted paths) applied to each entry;
 * fields not named are left out.
 */
export function applyMask(entry: unknown, mask: string): unknown {
  const out: Record<string, unknown> = {};
  for (const path of mask.split(',').map((p) => p.trim()).filter(Boolean)) {
    const keys = path.split('.');
    let src: unknown = entry;
    for (const k of keys) src = src !== null && typeof src === 'object' ? (src as Record<string, unknown>)[k] : undefined;
    if (src === undefined) continue;
    let dst = out;
    for (const k of keys.slice(0, -1)) dst = (dst[k] ??= {}) as Record<string, unknown>;
    dst[keys[keys.length - 1]] = src;
  }
  return out;
}
