import type { Histogram } from 'hdr-histogram-js';
import type { StatsRegistry } from '../stats/store.js';
import { formatQuantiles } from '../stats/latency.js';
import type { ServerGauges } from './prometheus.js';

export interface StatsQuery {
  filter?: RegExp;
  usedOnly: boolean;
  /** Envoy's `type=`: All, Counters, Gauges (Histograms has none here yet). */
  type: 'All' | 'Counters' | 'Gauges' | 'Histograms';
}

/** Reads `?filter=` (a regex, partial match as RE2 in Envoy), `?usedonly`, `?type=`; a bad regex is an error string. */
export function parseStatsQuery(params: URLSearchParams): StatsQuery | string {
  const f = params.get('filter');
  let filter: RegExp | undefined;
  try {
    filter = f ? new RegExp(f) : undefined;
  } catch {
    return 'Invalid re2 regex';
  }
  const type = (params.get('type') ?? 'All') as StatsQuery['type'];
  if (!['All', 'Counters', 'Gauges', 'Histograms'].includes(type)) return `invalid type ${type}`;
  return { filter, usedOnly: params.has('usedonly'), type };
}

/**
 * The stats a query selects, sorted by name. Counters live in shared memory without Envoy's
 * per-stat "used" bit, so `usedonly` keeps the stats that are not zero: a stat written back to
 * zero (a gauge) is left out, where Envoy would keep it.
 */
export function selectStats(registry: StatsRegistry, q: StatsQuery, server?: ServerGauges): { name: string; value: number }[] {
  const out: { name: string; value: number }[] = [];
  if (q.type === 'Histograms') return out;
  const serverEntries = Object.entries(server ?? {}).map(([k, value]) => ({ info: { name: `server.${k}`, kind: 'gauge' }, value }));
  for (const { info, value } of [...registry.entries(), ...serverEntries]) {
    if (q.type === 'Counters' && info.kind !== 'counter') continue;
    if (q.type === 'Gauges' && info.kind !== 'gauge') continue;
    if (q.usedOnly && value === 0) continue;
    if (q.filter && !q.filter.test(info.name)) continue;
    out.push({ name: info.name, value });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Histograms the query selects as Envoy's quantile lines, from the workers' merged HdrHistograms (slot → histogram). */
export function histogramLines(registry: StatsRegistry, q: StatsQuery, quantiles: ReadonlyMap<number, Histogram>): string[] {
  if (q.type === 'Counters' || q.type === 'Gauges') return [];
  const out: string[] = [];
  for (const { info, base } of registry.histograms()) {
    if (q.filter && !q.filter.test(info.name)) continue;
    const h = quantiles.get(base);
    if (q.usedOnly && !h?.totalCount) continue;
    out.push(`${info.name}: ${formatQuantiles(h)}`);
  }
  return out;
}

/** Envoy's /stats text: `name: value` per line, histogram quantile lines among them, sorted by name. */
export function statsText(stats: readonly { name: string; value: number }[], histograms: readonly string[] = []): string {
  const lines = stats.map((e) => `${e.name}: ${e.value}`).concat(histograms).sort();
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
