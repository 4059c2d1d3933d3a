import type { StatsRegistry } from '../../stats/store.js';
import type { OutlierStatName } from './detector.js';

/** Envoy's `cluster.<name>.outlier_detection.*` stats (the consecutive-error ones; success rate is not implemented). */
const FIELDS: readonly (OutlierStatName | 'ejections_active')[] = [
  'ejections_active',
  'ejections_enforced_total',
  'ejections_overflow',
  'ejections_enforced_consecutive_5xx',
  'ejections_detected_consecutive_5xx',
  'ejections_enforced_consecutive_gateway_failure',
  'ejections_detected_consecutive_gateway_failure',
  'ejections_enforced_consecutive_local_origin_failure',
  'ejections_detected_consecutive_local_origin_failure',
];

export type OutlierStatIndex = Record<OutlierStatName | 'ejections_active', number>;

/** Defined when a cluster gets a detector (main thread writes them; slots never move for a name). */
export function defineOutlierStats(registry: StatsRegistry, cluster: string): OutlierStatIndex {
  const out = {} as OutlierStatIndex;
  const labels = `cluster_name="${cluster.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  for (const f of FIELDS) {
    out[f] = registry.define(`cluster.${cluster}.outlier_detection.${f}`, f === 'ejections_active' ? 'gauge' : 'counter', `envoy_cluster_outlier_detection_${f}`, labels);
  }
  return out;
}
