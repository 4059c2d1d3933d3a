import type { StatsRegistry } from '../stats/store.js';

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
export function selectStats(registry: StatsRegistry, q: StatsQuery): { name: string; value: number }[] {
  const out: { name: string; value: number }[] = [];
  if (q.type === 'Histograms') return out;
  for (const { info, value } of registry.entries()) {
    if (q.type === 'Counters' && info.kind !== 'counter') continue;
    if (q.type === 'Gauges' && info.kind !== 'gauge') continue;
    if (q.usedOnly && value === 0) continue;
    if (q.filter && !q.filter.test(info.name)) continue;
    out.push({ name: info.name, value });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Envoy's /stats text: `name: value` per line. */
export function statsText(stats: readonly { name: string; value: number }[]): string {
  let s = '';
  for (const e of stats) s += `${e.name}: ${e.value}\n`;
  return s;
}
