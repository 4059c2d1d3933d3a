import type { StatsRegistry } from '../stats/store.js';

/** Envoy's stats in Prometheus text exposition format (one TYPE line per metric family). */
export function renderPrometheus(registry: StatsRegistry): string {
  const families = new Map<string, { kind: string; lines: string[] }>();
  for (const { info, value } of registry.entries()) {
    let fam = families.get(info.promName);
    if (!fam) {
      fam = { kind: info.kind, lines: [] };
      families.set(info.promName, fam);
    }
    fam.lines.push(`${info.promName}${info.promLabels ? `{${info.promLabels}}` : ''} ${value}`);
  }
  let out = '';
  for (const [name, fam] of families) out += `# TYPE ${name} ${fam.kind}\n${fam.lines.join('\n')}\n`;
  return out;
}

/** Envoy's /stats text: `name: value`, sorted, optionally filtered by a regex. */
export function renderStatsText(registry: StatsRegistry, filter?: RegExp): string {
  return registry
    .entries()
    .filter((e) => !filter || filter.test(e.info.name))
    .map((e) => `${e.info.name}: ${e.value}`)
    .sort()
    .join('\n') + '\n';
}
