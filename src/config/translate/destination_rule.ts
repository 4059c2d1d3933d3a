import type { ResourceReport } from './context.js';
import { resolveHost } from './hosts.js';
import { readExportTo } from './service_entry.js';
import { readTrafficPolicy } from './traffic_policy.js';
import type { DestinationRuleDef, SubsetDef } from './types.js';
import { hostError, isDns1123Label, isPlainObject } from '../validate/values.js';

/** Validates a DestinationRule; returns undefined (after reporting) when it has errors. */
export function readDestinationRule(r: ResourceReport): DestinationRuleDef | undefined {
  const res = r.res;
  const spec = res.spec;
  if (!isPlainObject(spec)) {
    r.error(['spec'], 'spec is required');
    return undefined;
  }
  if (typeof spec.host !== 'string' || spec.host === '') r.error(['spec', 'host'], 'host is required');
  else r.check(['spec', 'host'], hostError(spec.host, { wildcard: true, star: false }));
  const trafficPolicy = readTrafficPolicy(spec.trafficPolicy, ['spec', 'trafficPolicy'], r);
  const subsets: SubsetDef[] = [];
  if (Array.isArray(spec.subsets)) {
    spec.subsets.forEach((s: any, i: number) => {
      if (!isPlainObject(s)) return;
      const at = ['spec', 'subsets', i];
      if (typeof s.name !== 'string' || s.name === '') return r.error([...at, 'name'], 'subset name is required');
      if (!isDns1123Label(s.name)) return r.error([...at, 'name'], `subset name ${JSON.stringify(s.name)} must be a DNS label (lower-case letters, digits, '-')`);
      if (subsets.some((o) => o.name === s.name)) return r.error([...at, 'name'], `duplicate subset name ${s.name}`);
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(isPlainObject(s.labels) ? s.labels : {})) {
        if (typeof v !== 'string') r.error([...at, 'labels', k], 'label values must be strings');
        else labels[k] = v;
      }
      if (Object.keys(labels).length === 0) r.warn([...at, 'labels'], `subset ${s.name} has no labels: it selects every endpoint`);
      subsets.push({ name: s.name, labels, trafficPolicy: readTrafficPolicy(s.trafficPolicy, [...at, 'trafficPolicy'], r) });
    });
  }
  const exportTo = readExportTo(spec.exportTo, r);
  if (r.errors > 0) return undefined;
  return { resource: res, host: resolveHost(spec.host, res.namespace), trafficPolicy, subsets, exportTo };
}
