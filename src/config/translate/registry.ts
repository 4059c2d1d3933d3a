import type { MeshSettings } from '../model.js';
import type { Reporter } from './context.js';
import { exportedTo, hostSubsetOf, isWildcard, labelsMatch, mostSpecific } from './hosts.js';
import { egressAllows } from './sidecar_scope.js';
import type { DestinationRuleDef, Service, ServiceEntryDef, SidecarDef, SubsetDef, WorkloadEntryDef } from './types.js';

/** ServiceEntries (in age order) → one Service per host, endpoints from inline entries or selected WorkloadEntries. */
export function buildServices(entries: ServiceEntryDef[], workloads: WorkloadEntryDef[]): Service[] {
  const out: Service[] = [];
  for (const e of entries) {
    const endpoints = e.workloadSelector
      ? workloads.filter((w) => w.resource.namespace === e.resource.namespace && labelsMatch(e.workloadSelector, w.endpoint.labels)).map((w) => w.endpoint)
      : e.endpoints;
    for (const hostname of e.hosts) {
      out.push({ hostname, namespace: e.resource.namespace, entry: e, addresses: e.addresses, ports: e.ports, resolution: e.resolution, location: e.location, endpoints });
    }
  }
  return out;
}

/**
 * The services one proxy sees: exported to its namespace, allowed by its Sidecar's egress
 * hosts, one per host name (the proxy's own namespace first, then the oldest; the others
 * are reported).
 */
export class ServiceView {
  readonly byHost = new Map<string, Service>();
  readonly wildcards: Service[] = [];
  readonly all: Service[] = [];

  constructor(services: Service[], proxyNs: string, mesh: MeshSettings, sidecar: SidecarDef | undefined, report: Reporter) {
    const visible = services.filter(
      (s) => exportedTo(s.entry.exportTo, s.namespace, proxyNs, mesh.defaultServiceExportTo) && egressAllows(sidecar, s.namespace, s.hostname, proxyNs),
    );
    // Stable: services are in age order; the proxy's namespace wins a tie on the host name.
    const ordered = [...visible.filter((s) => s.namespace === proxyNs), ...visible.filter((s) => s.namespace !== proxyNs)];
    for (const s of ordered) {
      const prev = this.byHost.get(s.hostname);
      if (prev) {
        if (prev.entry !== s.entry)
          report.at(s.entry.resource, ['spec', 'hosts'], `host ${s.hostname} is already defined by ServiceEntry ${prev.namespace}/${prev.entry.resource.name}: ignored here`, 'warning');
        continue;
      }
      this.byHost.set(s.hostname, s);
      if (isWildcard(s.hostname)) this.wildcards.push(s);
    }
    for (const s of visible) if (this.byHost.get(s.hostname) === s) this.all.push(s);
  }

  /** Services whose host falls inside `pattern` (a VirtualService host, possibly a wildcard). */
  matching(pattern: string): Service[] {
    if (!isWildcard(pattern)) {
      const s = this.byHost.get(pattern);
      return s ? [s] : [];
    }
    return this.all.filter((s) => hostSubsetOf(s.hostname, pattern));
  }

  /** The service a destination host names: exact, else the most specific wildcard entry. */
  lookup(host: string): Service | undefined {
    return this.byHost.get(host) ?? mostSpecific(host, this.wildcards, (s) => s.hostname);
  }
}

/**
 * DestinationRules as Istio looks them up for a proxy: the proxy's namespace first, then the
 * service's namespace, then the root namespace; in each, the most specific host match.
 * Rules for the same host in the same namespace are merged (the oldest's traffic policy and
 * subsets win), as Istio does.
 */
/** Rules for one namespace: exact hosts by name, wildcards scanned (few) for the most specific. */
class RulesByHost {
  readonly exact = new Map<string, DestinationRuleDef>();
  readonly wildcards: DestinationRuleDef[] = [];
  get(host: string): DestinationRuleDef | undefined {
    return this.exact.get(host) ?? this.wildcards.find((d) => d.host === host);
  }
  add(dr: DestinationRuleDef): void {
    if (isWildcard(dr.host)) this.wildcards.push(dr);
    else this.exact.set(dr.host, dr);
  }
  replace(old: DestinationRuleDef, dr: DestinationRuleDef): void {
    if (isWildcard(dr.host)) this.wildcards[this.wildcards.indexOf(old)] = dr;
    else this.exact.set(dr.host, dr);
  }
  lookup(host: string): DestinationRuleDef | undefined {
    return this.exact.get(host) ?? mostSpecific(host, this.wildcards, (d) => d.host);
  }
}

/**
 * DestinationRules as Istio looks them up for a proxy: the proxy's namespace first, then the
 * service's namespace, then the root namespace; in each, the most specific host match.
 * Rules for the same host in the same namespace are merged (the oldest's traffic policy and
 * subsets win), as Istio does.
 */
export class DestinationRuleIndex {
  private readonly byNamespace = new Map<string, RulesByHost>();

  constructor(rules: DestinationRuleDef[], private readonly proxyNs: string, private readonly rootNs: string, mesh: MeshSettings, report: Reporter) {
    for (const dr of rules) {
      const ns = dr.resource.namespace;
      if (!exportedTo(dr.exportTo, ns, proxyNs, mesh.defaultDestinationRuleExportTo)) continue;
      let list = this.byNamespace.get(ns);
      if (!list) this.byNamespace.set(ns, (list = new RulesByHost()));
      const first = list.get(dr.host);
      if (!first) {
        // Read definitions are memoized across reloads: never mutated, copied when merged.
        list.add(dr);
        continue;
      }
      const same: DestinationRuleDef = { ...first, subsets: [...first.subsets] };
      list.replace(first, same);
      if (dr.trafficPolicy && same.trafficPolicy)
        report.at(dr.resource, ['spec', 'trafficPolicy'], `DestinationRule ${ns}/${same.resource.name} for ${dr.host} is older: this trafficPolicy is ignored`, 'warning');
      else if (dr.trafficPolicy) same.trafficPolicy = dr.trafficPolicy;
      dr.subsets.forEach((s: SubsetDef, i) => {
        if (same.subsets.some((o) => o.name === s.name))
          report.at(dr.resource, ['spec', 'subsets', i, 'name'], `subset ${s.name} of ${dr.host} is already defined by ${ns}/${same.resource.name}: ignored`, 'warning');
        else same.subsets.push(s);
      });
    }
  }

  lookup(host: string, serviceNs: string): DestinationRuleDef | undefined {
    for (const ns of [this.proxyNs, serviceNs, this.rootNs]) {
      const dr = this.byNamespace.get(ns)?.lookup(host);
      if (dr) return dr;
    }
    return undefined;
  }
}

/** Subsets defined for a host by any rule (visible or not): validates VirtualService destinations. */
export class SubsetCatalog {
  private readonly exact = new Map<string, Set<string>>();
  private readonly wildcards: DestinationRuleDef[] = [];
  constructor(rules: DestinationRuleDef[]) {
    for (const d of rules) {
      if (isWildcard(d.host)) this.wildcards.push(d);
      else {
        const set = this.exact.get(d.host) ?? new Set<string>();
        for (const s of d.subsets) set.add(s.name);
        this.exact.set(d.host, set);
      }
    }
  }
  defines(host: string, subset: string): boolean {
    if (this.exact.get(host)?.has(subset)) return true;
    return this.wildcards.some((d) => hostSubsetOf(host, d.host) && d.subsets.some((s) => s.name === subset));
  }
}
