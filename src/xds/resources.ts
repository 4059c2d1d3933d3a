import type { Cluster, LbEndpoint, Listener, NameInfo, RouteConfiguration } from '../config/model.js';
import { HTTP_CONNECTION_MANAGER } from '../config/model.js';
import type { TypeUpdate } from './ads_client.js';
import { convertCluster, type ConvertedCluster } from './convert/cluster.js';
import { convertLoadAssignment } from './convert/endpoint.js';
import { convertListener, type ConvertedListener } from './convert/listener.js';
import { convertNameTable } from './convert/name_table.js';
import { ConversionReport } from './convert/report.js';
import { convertRouteConfiguration } from './convert/route.js';
import { typeUrl, type Json } from './convert/values.js';
import { TYPE, type TypeKey } from './type_urls.js';

interface Entry<T> {
  version: string;
  value: T;
}

/** What the proxy would serve from what it has, and what is still waiting for its dependency. */
export interface Assembled {
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  nameTable?: Record<string, NameInfo>;
  warming: { clusters: string[]; listeners: string[] };
  /** The xDS version each resource object came with (for /config_dump). */
  versions: Map<object, string>;
}

/**
 * The xDS resources received so far, converted, per type. An update is converted whole
 * before anything is kept, so a bad resource leaves the state as it was (NACK). Assembly
 * applies Envoy's warming: a cluster waits for its ClusterLoadAssignment and a listener for
 * its RouteConfigurations; until then the previous version of the same name keeps serving
 * (or, for a new one, it is not there yet).
 */
export class XdsResources {
  readonly clusters = new Map<string, Entry<ConvertedCluster>>();
  readonly endpoints = new Map<string, Entry<LbEndpoint[]>>();
  readonly listeners = new Map<string, Entry<ConvertedListener>>();
  readonly routes = new Map<string, Entry<RouteConfiguration>>();
  nameTable: Entry<Record<string, NameInfo>> | undefined;
  /** Per type: the last accepted version and when. */
  readonly accepted = new Map<TypeKey, { version: string; at: string }>();
  readonly received = new Set<TypeKey>();

  /** Converts and keeps an update; throws ConversionError (nothing kept) when a resource is bad. */
  apply(u: TypeUpdate, report: ConversionReport): void {
    const converted = u.resources.map((r) => {
      if (typeUrl(r.resource) !== TYPE[u.type]) report.fail(r.name ?? '(unnamed)', `resource of type ${typeUrl(r.resource)} in a ${TYPE[u.type]} response`);
      return { version: r.version ?? u.version, ...this.convert(u.type, r.resource, report) };
    });
    const map = this.mapOf(u.type);
    // SotW responses for wildcard types carry the whole set: what is missing is gone.
    if (u.protocol === 'sotw' && (u.type === 'cluster' || u.type === 'listener')) map?.clear();
    for (const c of converted) {
      if (map) map.set(c.name, { version: c.version, value: c.value as never });
      else this.nameTable = { version: c.version, value: c.value as Record<string, NameInfo> };
    }
    for (const name of u.removed ?? []) {
      if (map) map.delete(name);
      else this.nameTable = undefined;
    }
    this.received.add(u.type);
    this.accepted.set(u.type, { version: u.version, at: new Date().toISOString() });
  }

  private mapOf(t: TypeKey): Map<string, Entry<unknown>> | undefined {
    return { cluster: this.clusters, endpoint: this.endpoints, listener: this.listeners, route: this.routes, nameTable: undefined }[t];
  }

  private convert(t: TypeKey, r: Json, report: ConversionReport): { name: string; value: unknown } {
    switch (t) {
      case 'cluster': {
        const c = convertCluster(r, report);
        return { name: c.cluster.name, value: c };
      }
      case 'endpoint':
        return { name: r.cluster_name, value: convertLoadAssignment(r, report) };
      case 'listener':
        return { name: r.name, value: convertListener(r, report) };
      case 'route':
        return { name: r.name, value: convertRouteConfiguration(r, report) };
      case 'nameTable':
        return { name: '', value: convertNameTable(r) };
    }
  }

  /** EDS names the clusters wait for. */
  edsNames(): string[] {
    const out = new Set<string>();
    for (const e of this.clusters.values()) if (e.value.edsName) out.add(e.value.edsName);
    return [...out].sort();
  }

  /** RDS names the listeners' connection managers wait for. */
  rdsNames(): string[] {
    const out = new Set<string>();
    for (const e of this.listeners.values()) for (const n of e.value.rdsNames) out.add(n);
    return [...out].sort();
  }

  knownVersions(t: TypeKey): Record<string, string> {
    const map = this.mapOf(t);
    if (!map) return this.nameTable ? { '': this.nameTable.version } : {};
    return Object.fromEntries([...map].map(([name, e]) => [name, e.version]));
  }

  /** The model from what is here, `previous` standing in for resources still warming. */
  assemble(previous: { listeners: Listener[]; routes: RouteConfiguration[]; clusters: Cluster[] } | undefined): Assembled {
    const versions = new Map<object, string>();
    const warming: Assembled['warming'] = { clusters: [], listeners: [] };
    const prevCluster = new Map(previous?.clusters.map((c) => [c.name, c]));
    const clusters: Cluster[] = [];
    for (const [name, e] of this.clusters) {
      const { cluster, edsName } = e.value;
      if (!edsName) {
        clusters.push(cluster);
        versions.set(cluster, e.version);
        continue;
      }
      const eps = this.endpoints.get(edsName);
      if (eps) {
        const c = this.withEndpoints(cluster, eps.value);
        clusters.push(c);
        versions.set(c, e.version);
      } else {
        warming.clusters.push(name);
        const old = prevCluster.get(name);
        if (old) clusters.push(old);
      }
    }
    const prevListener = new Map(previous?.listeners.map((l) => [l.name, l]));
    const prevRoutes = new Map(previous?.routes.map((r) => [r.name, r]));
    const inline = new Map<string, RouteConfiguration>();
    const listeners: Listener[] = [];
    for (const [name, e] of this.listeners) {
      const { listener, rdsNames, inlineRoutes } = e.value;
      if (!listener) continue;
      if (rdsNames.every((n) => this.routes.has(n))) {
        listeners.push(listener);
        versions.set(listener, e.version);
        for (const r of inlineRoutes) {
          inline.set(r.name, r);
          versions.set(r, e.version);
        }
      } else {
        warming.listeners.push(name);
        const old = prevListener.get(name);
        if (old) listeners.push(old);
      }
    }
    const routes: RouteConfiguration[] = [];
    for (const name of routeNames(listeners)) {
      const rds = this.routes.get(name);
      const r = rds?.value ?? inline.get(name) ?? prevRoutes.get(name);
      if (!r) continue;
      if (rds) versions.set(r, rds.version);
      routes.push(r);
    }
    const out: Assembled = { listeners, routes, clusters, warming, versions };
    if (this.nameTable) out.nameTable = this.nameTable.value;
    return out;
  }

  /** One merged object per (cluster, assignment) pair, so unchanged pairs keep their identity across builds. */
  private merged = new WeakMap<Cluster, { eps: LbEndpoint[]; out: Cluster }>();
  private withEndpoints(c: Cluster, eps: LbEndpoint[]): Cluster {
    const m = this.merged.get(c);
    if (m && m.eps === eps) return m.out;
    const out = { ...c, endpoints: eps };
    this.merged.set(c, { eps, out });
    return out;
  }
}

function routeNames(listeners: Listener[]): Set<string> {
  const out = new Set<string>();
  for (const l of listeners)
    for (const fc of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])])
      for (const f of fc.filters) if (f.name === HTTP_CONNECTION_MANAGER) out.add(f.routeConfigName);
  return out;
}
