import { isIP } from 'node:net';
import type { NameInfo } from '../config/model.js';

export interface NameLookupOptions {
  /** The pod's search domains (resolv.conf), first one first. */
  search: string[];
  /** The proxy's namespace (POD_NAMESPACE), for bare short names. */
  namespace: string;
  /** The cluster's DNS domain, e.g. cluster.local. */
  clusterDomain: string;
}

export interface NameHit {
  /** The name the table holds the addresses under (the CNAME target for a search-path form). */
  host: string;
  v4: string[];
  v6: string[];
  /** The query was `<name>.<first search domain>`: answered as CNAME to `host`'s form. */
  viaSearch: boolean;
  /** The form the query matched before the search suffix (a table host or an alias of one). */
  alias: string;
}

interface Row {
  host: string;
  v4: string[];
  v6: string[];
}

/**
 * The DNS proxy's view of the name table, as Istio's agent builds it: each host, plus for a
 * Kubernetes-style host `<name>.<ns>.svc.<domain>` the forms `<name>.<ns>`, `<name>.<ns>.svc`
 * and, in the proxy's own namespace, `<name>`; and each of those with the pod's first search
 * domain appended (what a resolver with `ndots:5` asks first), answered as a CNAME to the
 * form itself.
 */
export class NameLookup {
  private readonly names = new Map<string, Row>();
  private readonly hits = new Map<string, NameHit>();
  private readonly firstSearch: string | undefined;

  constructor(
    readonly table: Record<string, NameInfo>,
    readonly opts: NameLookupOptions,
  ) {
    this.firstSearch = opts.search[0];
    const svcSuffix = `.svc.${opts.clusterDomain}`;
    for (const [host, info] of Object.entries(table)) {
      const row: Row = { host, v4: info.ips.filter((ip) => isIP(ip) === 4), v6: info.ips.filter((ip) => isIP(ip) === 6) };
      this.add(host, row);
      if (!host.endsWith(svcSuffix)) continue;
      const parts = host.slice(0, -svcSuffix.length).split('.');
      if (parts.length !== 2) continue;
      const [name, ns] = parts;
      this.add(`${name}.${ns}`, row);
      this.add(`${name}.${ns}.svc`, row);
      if (ns === opts.namespace) this.add(name, row);
    }
  }

  private add(name: string, row: Row): void {
    // A real host wins over an alias of another host.
    const existing = this.names.get(name);
    if (!existing || (row.host === name && existing.host !== name)) {
      this.names.set(name, row);
      this.hits.set(name, { host: row.host, v4: row.v4, v6: row.v6, viaSearch: false, alias: name });
    }
  }

  /** `qname`: lower case, no trailing dot. The result is shared: do not modify it. */
  lookup(qname: string): NameHit | undefined {
    const hit = this.hits.get(qname);
    if (hit) return hit;
    const s = this.firstSearch;
    if (s && qname.length > s.length + 1 && qname.endsWith(`.${s}`)) {
      const alias = qname.slice(0, -(s.length + 1));
      const r = this.names.get(alias);
      if (r) return { host: r.host, v4: r.v4, v6: r.v6, viaSearch: true, alias };
    }
    return undefined;
  }

  /** Every name answered, with what it resolves to (for /dns). */
  dump(): Record<string, { host: string; ips: string[] }> {
    const out: Record<string, { host: string; ips: string[] }> = {};
    for (const [name, row] of [...this.names].sort(([a], [b]) => (a < b ? -1 : 1))) out[name] = { host: row.host, ips: [...row.v4, ...row.v6] };
    return out;
  }

  get size(): number {
    return this.names.size;
  }
}
