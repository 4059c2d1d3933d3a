import type { Snapshot } from '../config/model.js';
import type { Rejection } from '../config/source.js';
import { applyMask, endpointConfig } from './config_dump_eds.js';

/** What /config_dump reads besides the snapshot. */
export interface ConfigDumpView {
  snapshot(): Snapshot | undefined;
  lastRejected(): Rejection | undefined;
  /** Version and time at which a resource object (listener, route configuration, cluster) last changed. */
  resourceInfo?(resource: object): { version: number | string; at: string } | undefined;
  configInfo?(): Record<string, unknown>;
  /** A section's version_info when the source has its own (xDS: the type's last accepted version). */
  sectionVersion?(section: keyof typeof SECTIONS): string | undefined;
}

const SECTIONS = {
  dynamic_listeners: 'legate.admin.v1.ListenersConfigDump',
  dynamic_route_configs: 'legate.admin.v1.RoutesConfigDump',
  dynamic_active_clusters: 'legate.admin.v1.ClustersConfigDump',
  dynamic_endpoint_configs: 'legate.admin.v1.EndpointsConfigDump',
} as const;
type Section = keyof typeof SECTIONS;

/**
 * Envoy's /config_dump layout (configs[] of listeners, route configurations, clusters, each
 * entry with version_info and last_updated) over Legate's model, plus the mesh settings and
 * a `legate` block: active version, when and from where it was loaded, and the last rejected
 * change with its errors. `?resource=dynamic_listeners|dynamic_route_configs|dynamic_active_clusters`
 * returns just those entries; `?name_regex=` filters by name. Endpoints (`dynamic_endpoint_configs`)
 * are listed only with `?include_eds`, as in Envoy; `?mask=a.b,c` keeps only those fields of each entry.
 */
export function configDump(view: ConfigDumpView, params: URLSearchParams): { status: number; body: unknown } {
  const s = view.snapshot();
  let nameRe: RegExp | undefined;
  const pattern = params.get('name_regex');
  if (pattern) {
    try {
      nameRe = new RegExp(pattern);
    } catch {
      return { status: 400, body: { error: `invalid name_regex ${JSON.stringify(pattern)}` } };
    }
  }
  const resource = params.get('resource');
  const includeEds = params.has('include_eds');
  const mask = params.get('mask');
  if (resource && !(resource in SECTIONS)) return { status: 400, body: { error: `unknown resource ${JSON.stringify(resource)} (one of ${Object.keys(SECTIONS).join(', ')})` } };
  const entries = (section: Section): unknown[] => {
    if (!s) return [];
    const info = (o: object) => {
      const i = view.resourceInfo?.(o);
      return { version_info: String(i?.version ?? s.version), last_updated: i?.at ?? s.builtAt };
    };
    const keep = (name: string) => !nameRe || nameRe.test(name);
    switch (section) {
      case 'dynamic_listeners':
        return s.listeners.filter((l) => keep(l.name)).map((l) => ({ name: l.name, active_state: { ...info(l), listener: l } }));
      case 'dynamic_route_configs':
        return s.routes.filter((r) => keep(r.name)).map((r) => ({ ...info(r), route_config: r }));
      case 'dynamic_active_clusters':
        return s.clusters.filter((c) => keep(c.name)).map((c) => ({ ...info(c), cluster: c }));
      case 'dynamic_endpoint_configs':
        return s.clusters.filter((c) => keep(c.name)).map((c) => ({ ...info(c), endpoint_config: endpointConfig(c) }));
    }
  };
  const masked = (list: unknown[]) => (mask ? list.map((e) => applyMask(e, mask)) : list);
  if (resource) return { status: 200, body: { configs: masked(entries(resource as Section)) } };
  const sections = (Object.keys(SECTIONS) as Section[]).filter((k) => includeEds || k !== 'dynamic_endpoint_configs');
  const rejected = view.lastRejected() ?? null;
  return {
    status: 200,
    body: {
      configs: s
        ? [
            ...sections.map((k) => ({ '@type': SECTIONS[k], version_info: view.sectionVersion?.(k) ?? String(s.version), [k]: masked(entries(k)) })),
            { '@type': 'legate.admin.v1.MeshConfigDump', version_info: String(s.version), mesh: s.mesh },
          ]
        : [],
      legate: {
        version: s?.version ?? 0,
        role: s?.role,
        last_updated: s?.builtAt,
        source: s?.source,
        last_rejected: rejected,
        ...(view.configInfo?.() ?? {}),
      },
      last_rejected: rejected,
    },
  };
}
