import type { Reporter } from './context.js';
import { hostSubsetOf, resolveHost } from './hosts.js';
import { SubsetCatalog } from './registry.js';
import type { DestinationRuleDef, ServiceEntryDef, VirtualServiceDef } from './types.js';
import type { Path } from '../validate/fields.js';
import { isIP } from 'node:net';

/**
 * Cross-resource checks on VirtualService destinations: a subset no DestinationRule defines
 * is an error (every request to it would fail); a host no ServiceEntry defines is a warning
 * (Kubernetes Services are not read from files, so the host may be meant for later).
 */
export function checkReferences(vss: VirtualServiceDef[], drs: DestinationRuleDef[], ses: ServiceEntryDef[], report: Reporter): void {
  const hosts = new Set<string>();
  const wildcards: string[] = [];
  for (const se of ses) for (const h of se.hosts) if (h.startsWith('*')) wildcards.push(h);
  else hosts.add(h);
  const known = (h: string) => hosts.has(h) || wildcards.some((w) => hostSubsetOf(h, w));
  const warned = new Set<string>();
  const subsets = new SubsetCatalog(drs);
  for (const vs of vss) {
    for (const ref of referencesOf(vs)) {
      if (ref.subset !== undefined && !subsets.defines(ref.host, ref.subset))
        report.at(vs.resource, [...ref.path, 'subset'], `subset ${ref.subset} of ${ref.host} is not defined by any DestinationRule`);
      const key = `${vs.resource.namespace}/${vs.resource.name}/${ref.host}`;
      if (!ref.ip && !known(ref.host) && !warned.has(key)) {
        warned.add(key);
        report.at(vs.resource, [...ref.path, 'host'], `host ${ref.host} is not defined by any ServiceEntry: requests to it get no healthy upstream`, 'warning');
      }
    }
  }
}

interface Reference {
  path: Path;
  host: string;
  subset?: string;
  ip: boolean;
}

/** A VirtualService's destinations, resolved once per (memoized, immutable) definition. */
const refsMemo = new WeakMap<VirtualServiceDef, Reference[]>();
function referencesOf(vs: VirtualServiceDef): Reference[] {
  let refs = refsMemo.get(vs);
  if (refs) return refs;
  refs = [];
  const ns = vs.resource.namespace;
  const add = (d: any, path: Path) => {
    if (!d || typeof d.host !== 'string') return;
    const host = resolveHost(d.host, ns);
    refs!.push({ path, host, subset: typeof d.subset === 'string' ? d.subset : undefined, ip: isIP(host) !== 0 });
  };
  vs.http.forEach((h: any, i: number) => {
    (Array.isArray(h?.route) ? h.route : []).forEach((d: any, j: number) => add(d?.destination, ['spec', 'http', i, 'route', j, 'destination']));
    if (h?.mirror) add(h.mirror, ['spec', 'http', i, 'mirror']);
    (Array.isArray(h?.mirrors) ? h.mirrors : []).forEach((m: any, j: number) => add(m?.destination, ['spec', 'http', i, 'mirrors', j, 'destination']));
  });
  vs.tcp.forEach((t: any, i: number) => (Array.isArray(t?.route) ? t.route : []).forEach((d: any, j: number) => add(d?.destination, ['spec', 'tcp', i, 'route', j, 'destination'])));
  refsMemo.set(vs, refs);
  return refs;
}
