import type { NameInfo } from '../../config/model.js';
import type { Json } from './values.js';

/**
 * Istio's NameTable (NDS) → the DNS proxy's table. Names are lower case without the trailing
 * dot, as the file path builds them; `alt_hosts` (the short forms istiod computes for
 * Kubernetes services, e.g. `reviews.default`) answer with the same addresses.
 */
export function convertNameTable(nt: Json): Record<string, NameInfo> {
  const out: Record<string, NameInfo> = {};
  for (const [host, info] of Object.entries((nt?.table ?? {}) as Record<string, Json>)) {
    const ips: string[] = info.ips ?? [];
    if (ips.length === 0) continue;
    const entry: NameInfo = { ips, namespace: info.namespace ?? '' };
    for (const name of [host, ...(info.alt_hosts ?? [])]) {
      const key = name.toLowerCase().replace(/\.$/, '');
      if (!Object.hasOwn(out, key)) out[key] = entry;
    }
  }
  return out;
}
