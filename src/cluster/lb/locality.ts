import type { LocalityLbSetting } from '../../config/model.js';
import type { Host } from '../host.js';

/** `region/zone/subzone`, any part possibly empty (Istio's locality string). */
export interface Locality {
  region: string;
  zone: string;
  subzone: string;
}

export function parseLocality(s: string | undefined): Locality {
  const [region = '', zone = '', subzone = ''] = (s ?? '').split('/');
  return { region, zone, subzone };
}

/** Istio's LocalityMatch: a `region/zone/subzone` pattern, `*` matching anything, missing parts matching anything. */
export function localityMatches(pattern: string, locality: string | undefined): boolean {
  const want = pattern.split('/');
  const have = (locality ?? '').split('/');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '*') return true;
    if (want[i] !== (have[i] ?? '')) return false;
  }
  return true;
}

/**
 * Istio's failover priority of an endpoint for a proxy: 0 same subzone, 1 same zone,
 * 2 same region, 3 another region, 4 another region that is not the `failover.to` of the
 * proxy's region (when the rule names one). Callers compact the levels they get.
 */
export function failoverPriority(proxy: Locality, endpoint: Locality, failover: LocalityLbSetting['failover']): number {
  if (proxy.region === endpoint.region) {
    if (proxy.zone !== endpoint.zone) return 2;
    return proxy.subzone === endpoint.subzone ? 0 : 1;
  }
  const rule = failover?.find((f) => f.from === proxy.region);
  return rule && rule.to !== endpoint.region ? 4 : 3;
}

/** Hosts grouped by priority, in order, empty levels dropped (Envoy wants consecutive priorities). */
export function priorityLevels(hosts: readonly Host[], proxyLocality: string, setting: LocalityLbSetting | undefined): Host[][] {
  const proxy = parseLocality(proxyLocality);
  const levels: Host[][] = [[], [], [], [], []];
  for (const h of hosts) levels[failoverPriority(proxy, parseLocality(h.locality), setting?.failover)].push(h);
  return levels.filter((l) => l.length > 0);
}

/**
 * Istio's `distribute` for a proxy: the rule whose `from` matches the proxy's locality,
 * turned into a weight per endpoint locality. A `to` pattern's share is split over the
 * localities it matches in proportion to their endpoint weights; localities no pattern
 * matches get no traffic. Undefined when no rule applies.
 */
export function distributeWeights(hosts: readonly Host[], proxyLocality: string, setting: LocalityLbSetting | undefined): Map<string, number> | undefined {
  const rule = setting?.distribute?.find((d) => localityMatches(d.from, proxyLocality));
  if (!rule) return undefined;
  const hostWeight = new Map<string, number>();
  for (const h of hosts) hostWeight.set(h.locality ?? '', (hostWeight.get(h.locality ?? '') ?? 0) + h.weight);
  const out = new Map<string, number>();
  for (const [pattern, share] of Object.entries(rule.to)) {
    const matched = [...hostWeight.keys()].filter((loc) => !out.has(loc) && localityMatches(pattern, loc));
    const total = matched.reduce((a, loc) => a + hostWeight.get(loc)!, 0);
    for (const loc of matched) out.set(loc, (share * hostWeight.get(loc)!) / total);
  }
  for (const loc of hostWeight.keys()) if (!out.has(loc)) out.set(loc, 0);
  return out;
}
