import type { StatsRegistry } from '../stats/store.js';
import { histogramLines, readBuckets } from '../stats/buckets.js';
import { renderIstioMetrics } from '../stats/istio/render.js';
import { formatQuantiles } from '../stats/latency.js';
import type { Histogram } from 'hdr-histogram-js';

/** Envoy's `server.*` gauges, computed when read. */
export interface ServerGauges {
  /** 1 while the server is LIVE. */
  live: number;
  uptime: number;
  concurrency: number;
  /** Envoy's server state: 0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING. */
  state: number;
  memory_allocated: number;
  memory_heap_size: number;
}

/**
 * What 15090 and the admin's /stats/prometheus serve: Istio's standard metrics, then Envoy's
 * stats with Envoy's Prometheus names (`envoy_` + the name with its tags extracted) — counters
 * and gauges, `envoy_server_*`, and histograms with Envoy's default buckets. One TYPE line per family.
 */
export function renderPrometheus(registry: StatsRegistry, server?: ServerGauges): string {
  let out = registry.istio ? renderIstioMetrics(registry.istio.shared, registry.istio.peers) : '';
  const families = new Map<string, { kind: string; lines: string[] }>();
  const add = (name: string, kind: string, line: string) => {
    let fam = families.get(name);
    if (!fam) families.set(name, (fam = { kind, lines: [] }));
    fam.lines.push(line);
  };
  for (const { info, value } of registry.entries()) add(info.promName, info.kind, `${info.promName}${info.promLabels ? `{${info.promLabels}}` : ''} ${value}`);
  if (server) for (const [k, v] of Object.entries(server)) add(`envoy_server_${k}`, 'gauge', `envoy_server_${k} ${v}`);
  for (const [name, fam] of families) out += `# TYPE ${name} ${fam.kind}\n${fam.lines.join('\n')}\n`;
  const histograms = new Map<string, string>();
  for (const { info, base } of registry.histograms()) {
    histograms.set(info.promName, (histograms.get(info.promName) ?? '') + histogramLines(info.promName, info.promLabels, readBuckets((i) => registry.read(i), base)));
  }
  for (const [name, lines] of histograms) out += `# TYPE ${name} histogram\n${lines}`;
  return out;
}

