import { isIP } from 'node:net';
import type { MeshSettings, NameInfo } from '../model.js';
import { allocateVips } from '../../dns/vip.js';
import { dnsFlags, type DnsFlagInputs } from '../../dns/settings.js';
import type { Service } from './service_entry.js';
import type { Reporter } from './context.js';

export interface DnsTranslation {
  /** The services to build listeners and clusters from: auto-allocated ones split per host, one VIP each. */
  services: Service[];
  nameTable: Record<string, NameInfo>;
}

const eligible = (s: Service) => s.addresses.length === 0 && s.resolution !== 'NONE';

/**
 * What DNS capture adds to translation. With auto-allocation on, a ServiceEntry without
 * `addresses`, resolution other than NONE, gets a VIP per non-wildcard host (src/dns/vip.ts),
 * which becomes its address: the listeners built from it are `<vip>_<port>`, so two TCP
 * services on one port are told apart by the VIP their name resolved to. The name table holds
 * every non-wildcard host with exact (non-CIDR) addresses; the oldest resource wins a host.
 * `services` must be in age order: VIP stability depends on it.
 */
export function translateDns(services: readonly Service[], mesh: MeshSettings, inputs: DnsFlagInputs, report: Reporter): DnsTranslation {
  const flags = dnsFlags(mesh.proxyMetadata, inputs);
  let out: Service[] = [...services];
  const auto = new Set<Service>();
  if (flags.autoAllocate) {
    const hosts = services.filter(eligible).flatMap((s) => s.hosts.filter((h) => !h.startsWith('*')));
    let vips: ReturnType<typeof allocateVips> = new Map();
    try {
      vips = allocateVips(hosts, services.flatMap((s) => s.addresses));
    } catch (err) {
      report.at(services[0].resource, ['spec', 'hosts'], (err as Error).message);
    }
    out = services.flatMap((s) => {
      if (!eligible(s)) return [s];
      const split: Service[] = s.hosts.filter((h) => vips.has(h)).map((h) => ({ ...s, hosts: [h], addresses: [vips.get(h)!.v4] }));
      for (const x of split) auto.add(x);
      const rest = s.hosts.filter((h) => !vips.has(h));
      return rest.length > 0 ? [...split, { ...s, hosts: rest }] : split;
    });
  }
  const nameTable: Record<string, NameInfo> = {};
  for (const s of out) {
    const ips = s.addresses.filter((a) => isIP(a) !== 0);
    if (ips.length === 0) continue;
    for (const h of s.hosts) {
      if (h.startsWith('*') || nameTable[h]) continue;
      nameTable[h] = { ips, namespace: s.resource.namespace, ...(auto.has(s) ? { autoAllocated: true } : {}) };
    }
  }
  return { services: out, nameTable };
}
