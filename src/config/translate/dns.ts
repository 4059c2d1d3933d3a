import { isIP } from 'node:net';
import type { MeshSettings, NameInfo } from '../model.js';
import { allocateVips } from '../../dns/vip.js';
import { dnsFlags, type DnsFlagInputs } from '../../dns/settings.js';
import { isWildcard } from './hosts.js';
import type { Reporter } from './context.js';
import type { Service } from './types.js';

const eligible = (s: Service) => s.addresses.length === 0 && s.resolution !== 'NONE' && !isWildcard(s.hostname);

/**
 * What DNS capture adds to translation, before listeners are built. With auto-allocation on,
 * each plain host of a ServiceEntry without `addresses` (resolution other than NONE) gets a
 * VIP (src/dns/vip.ts) that becomes its address: the listeners built from it are
 * `<vip>_<port>`, so two TCP services on one port are told apart by the VIP their name
 * resolved to. `services` must be in age order (buildServices' order): VIP stability depends
 * on it. Returns the services to translate and the ones whose addresses were allocated.
 */
export function allocateServiceVips(
  services: readonly Service[],
  mesh: MeshSettings,
  inputs: DnsFlagInputs,
  report: Reporter,
): { services: Service[]; autoAllocated: ReadonlySet<Service> } {
  const auto = new Set<Service>();
  if (!dnsFlags(mesh.proxyMetadata, inputs).autoAllocate) return { services: [...services], autoAllocated: auto };
  let vips: ReturnType<typeof allocateVips> = new Map();
  try {
    vips = allocateVips(services.filter(eligible).map((s) => s.hostname), services.flatMap((s) => s.addresses));
  } catch (err) {
    report.at(services[0].entry.resource, ['spec', 'hosts'], (err as Error).message);
  }
  const out = services.map((s) => {
    const vip = eligible(s) ? vips.get(s.hostname) : undefined;
    if (!vip) return s;
    const withVip: Service = { ...s, addresses: [vip.v4] };
    auto.add(withVip);
    return withVip;
  });
  return { services: out, autoAllocated: auto };
}

/**
 * The DNS proxy's name table (Istio's NDS): every plain host the proxy sees whose service has
 * exact (non-CIDR) addresses, configured or auto-allocated. `services` hold one entry per host.
 */
export function buildNameTable(services: readonly Service[], autoAllocated: ReadonlySet<Service>): Record<string, NameInfo> {
  const nameTable: Record<string, NameInfo> = {};
  for (const s of services) {
    const ips = s.addresses.filter((a) => isIP(a) !== 0);
    if (ips.length === 0 || isWildcard(s.hostname) || nameTable[s.hostname]) continue;
    nameTable[s.hostname] = { ips, namespace: s.namespace, ...(autoAllocated.has(s) ? { autoAllocated: true } : {}) };
  }
  return nameTable;
}
