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
    const ns = vs.resource.namespace;
    const check = (d: any, path: Path) => {
      if (!d || typeof d.host !== 'string') return;
      const host = resolveHost(d.host, ns);
      if (typeof d.subset === 'string' && !subsets.defines(host, d.subset))
        report.at(vs.resource, [...path, 'subset'], `subset ${d.subset} of ${host} is not defined by any DestinationRule`);
      if (!known(host) && !isIP(host) && !warned.has(`${vs.resource.namespace}/${vs.resource.name}/${host}`)) {
        warned.add(`${vs.resource.namespace}/${vs.resource.name}/${host}`);
        report.at(vs.resource, [...path, 'host'], `host ${host} is not defined by any ServiceEntry: requests to it get no healthy upstream`, 'warning');
      }
    };
    vs.http.forEach((h: any, i: number) => {
      (Array.isArray(h?.route) ? h.route : []).forEach((d: any, j: number) => check(d?.destination, ['spec', 'http', i, 'route', j, 'destination']));
      if (h?.mirror) check(h.mirror, ['spec', 'http', i, 'mirror']);
      (Array.isArray(h?.mirrors) ? h.mirrors : []).forEach((m: any, j: number) => check(m?.destination, ['spec', 'http', i, 'mirrors', j, 'destination']));
    });
    vs.tcp.forEach((t: any, i: number) => (Array.isArray(t?.route) ? t.route : []).forEach((d: any, j: number) => check(d?.destination, ['spec', 'tcp', i, 'route', j, 'destination'])));
  }
}
