import type { StatsRegistry, StatsWriter } from '../stats/store.js';
import type { TypeKey } from './type_urls.js';

const OUTCOMES = ['update_attempt', 'update_success', 'update_rejected'] as const;
type Outcome = (typeof OUTCOMES)[number];

/** Envoy's subscription stat roots: CDS and LDS have fixed ones; RDS is per connection manager and route name. */
const ROOTS: Partial<Record<TypeKey, string>> = { cluster: 'cluster_manager.cds', listener: 'listener_manager.lds' };

/** Envoy's `control_plane.*` and xDS subscription stats, written on the main thread. */
export class XdsStats {
  private readonly connected: number;

  constructor(
    private readonly registry: StatsRegistry,
    private readonly writer: StatsWriter,
  ) {
    this.connected = registry.define('control_plane.connected_state', 'gauge', 'envoy_control_plane_connected_state');
  }

  setConnected(c: boolean): void {
    this.writer.v[this.connected] = c ? 1 : 0;
  }

  /** One response of `type`; for RDS, `rds` lists the (stat_prefix, route name) pairs it was for. */
  count(type: TypeKey, outcome: Outcome, rds: { statPrefix: string; name: string }[] = []): void {
    const root = ROOTS[type];
    if (root) this.inc(`${root}.${outcome}`, `envoy_${root.replace(/\./g, '_')}_${outcome}`, '');
    for (const r of rds) this.inc(`http.${r.statPrefix}.rds.${r.name}.${outcome}`, `envoy_http_rds_${outcome}`, `http_conn_manager_prefix="${r.statPrefix}",rds_route_config="${r.name}"`);
  }

  private inc(name: string, prom: string, labels: string): void {
    this.writer.inc(this.registry.define(name, 'counter', prom, labels));
  }
}
