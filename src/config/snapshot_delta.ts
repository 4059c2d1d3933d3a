import type { Cluster, Listener, MeshSettings, NameInfo, RouteConfiguration, Snapshot, VirtualHost } from './model.js';

/**
 * Snapshots share what did not change. On the main thread a new translation is compared,
 * resource by resource (listener, route configuration, cluster), with the snapshot in force:
 * an unchanged resource is replaced by the previous object, so it stays identical (===), and
 * only the changed ones travel to workers as a delta. A worker applies the delta on top of its
 * snapshot, so its unchanged objects stay identical too and anything compiled from them (route
 * tables, per-cluster load-balancer state) can be kept, e.g. in a WeakMap keyed by the object.
 * An endpoint change therefore sends one cluster and leaves every route table alone.
 */
export interface ResourceDelta<T> {
  upsert: T[];
  remove: string[];
}

export interface SnapshotDelta {
  baseVersion: number;
  version: number;
  source: string;
  builtAt: string;
  role: Snapshot['role'];
  /** Present only when MeshConfig changed. */
  mesh?: MeshSettings;
  /** The DNS proxy's name table: the names added or changed and the names removed; present only when it changed. */
  nameTable?: NameTableDelta;
  listeners: ResourceDelta<Listener>;
  routes: ResourceDelta<RouteConfiguration>;
  /**
   * Route configurations changed in a few virtual hosts: the new list of virtual hosts, each
   * either a (new or changed) virtual host or the name of an unchanged one the worker already
   * has. A route change then costs its virtual hosts, not the whole port's configuration.
   */
  routePatches?: RoutePatch[];
  clusters: ResourceDelta<Cluster>;
}

export interface NameTableDelta {
  upsert: Record<string, NameInfo>;
  remove: string[];
}

export interface RoutePatch {
  name: string;
  validateClusters: false;
  virtualHosts: (VirtualHost | string)[];
}

const fingerprints = new WeakMap<object, string>();
/** A resource's content as a string, cached per object. */
function fingerprint(o: object): string {
  let f = fingerprints.get(o);
  if (f === undefined) {
    f = JSON.stringify(o);
    fingerprints.set(o, f);
  }
  return f;
}

/**
 * Equal contents. A route configuration is compared virtual host by virtual host: the
 * translator reuses unchanged (memoized) virtual hosts, so most compare by identity and
 * only changed ones are serialised.
 */
function same(a: object, b: object): boolean {
  if (a === b) return true;
  const va = (a as { virtualHosts?: object[] }).virtualHosts;
  const vb = (b as { virtualHosts?: object[] }).virtualHosts;
  if (!va || !vb) return fingerprint(a) === fingerprint(b);
  const ra = a as RouteConfiguration;
  const rb = b as RouteConfiguration;
  if (ra.name !== rb.name || ra.validateClusters !== rb.validateClusters || va.length !== vb.length) return false;
  for (let i = 0; i < va.length; i++) if (va[i] !== vb[i] && fingerprint(va[i]) !== fingerprint(vb[i])) return false;
  return true;
}

function share<T extends { name: string }>(prev: readonly T[], next: T[]): { out: T[]; delta: ResourceDelta<T> } {
  const before = new Map(prev.map((r) => [r.name, r]));
  const delta: ResourceDelta<T> = { upsert: [], remove: [] };
  const out = next.map((r) => {
    const old = before.get(r.name);
    if (old && same(old, r)) return old;
    delta.upsert.push(r);
    return r;
  });
  const names = new Set(next.map((r) => r.name));
  for (const name of before.keys()) if (!names.has(name)) delta.remove.push(name);
  return { out, delta };
}

/** `next` with every unchanged resource replaced by `prev`'s object, and the delta between them. */
export function shareWith(prev: Snapshot | undefined, next: Snapshot): { snapshot: Snapshot; delta?: SnapshotDelta; changed: boolean } {
  if (!prev) return { snapshot: next, changed: true };
  const l = share(prev.listeners, next.listeners);
  const r = share(prev.routes, next.routes);
  const routePatches = patchRoutes(prev.routes, r.out, r.delta);
  const c = share(prev.clusters, next.clusters);
  const meshSame = same(prev.mesh, next.mesh);
  const names = diffNames(prev.nameTable ?? {}, next.nameTable ?? {});
  const namesSame = names.remove.length === 0 && Object.keys(names.upsert).length === 0;
  const snapshot: Snapshot = { ...next, mesh: meshSame ? prev.mesh : next.mesh, listeners: l.out, routes: r.out, clusters: c.out };
  if (namesSame) snapshot.nameTable = prev.nameTable;
  const empty = (d: ResourceDelta<unknown>) => d.upsert.length === 0 && d.remove.length === 0;
  const changed = !meshSame || !namesSame || prev.role !== next.role || !empty(l.delta) || !empty(r.delta) || routePatches.length > 0 || !empty(c.delta);
  const delta: SnapshotDelta = {
    baseVersion: prev.version,
    version: next.version,
    source: next.source,
    builtAt: next.builtAt,
    role: next.role,
    listeners: l.delta,
    routes: r.delta,
    clusters: c.delta,
  };
  if (!meshSame) delta.mesh = next.mesh;
  if (!namesSame) delta.nameTable = names;
  if (routePatches.length > 0) delta.routePatches = routePatches;
  return { snapshot, delta, changed };
}

/**
 * Turns changed route configurations that keep most of their virtual hosts into patches
 * (moving them out of the upserts), and makes the new configurations reuse the unchanged
 * virtual host objects.
 */
function patchRoutes(prev: readonly RouteConfiguration[], out: RouteConfiguration[], delta: ResourceDelta<RouteConfiguration>): RoutePatch[] {
  const patches: RoutePatch[] = [];
  const before = new Map(prev.map((rc) => [rc.name, rc]));
  delta.upsert = delta.upsert.filter((rc) => {
    const old = before.get(rc.name);
    if (!old || old.validateClusters !== rc.validateClusters) return true;
    const oldVh = new Map(old.virtualHosts.map((v) => [v.name, v]));
    let kept = 0;
    const virtualHosts: (VirtualHost | string)[] = [];
    const reused: VirtualHost[] = rc.virtualHosts.map((v) => {
      const o = oldVh.get(v.name);
      if (o && (o === v || fingerprint(o) === fingerprint(v))) {
        kept++;
        virtualHosts.push(v.name);
        return o;
      }
      virtualHosts.push(v);
      return v;
    });
    if (kept * 2 < rc.virtualHosts.length) return true;
    const shared: RouteConfiguration = { ...rc, virtualHosts: reused };
    out[out.indexOf(rc)] = shared;
    patches.push({ name: rc.name, validateClusters: rc.validateClusters, virtualHosts });
    return false;
  });
  return patches;
}

const sameName = (a: NameInfo, b: NameInfo) =>
  a.namespace === b.namespace && !!a.autoAllocated === !!b.autoAllocated && a.ips.length === b.ips.length && a.ips.every((ip, i) => ip === b.ips[i]);

/** Name by name, so that a new service sends its own names, not the whole table (which can hold every service). */
function diffNames(prev: Record<string, NameInfo>, next: Record<string, NameInfo>): NameTableDelta {
  const d: NameTableDelta = { upsert: {}, remove: [] };
  for (const [name, info] of Object.entries(next)) {
    const old = Object.hasOwn(prev, name) ? prev[name] : undefined;
    if (!old || !sameName(old, info)) d.upsert[name] = info;
  }
  for (const name of Object.keys(prev)) if (!Object.hasOwn(next, name)) d.remove.push(name);
  return d;
}

function applyNames(prev: Record<string, NameInfo> | undefined, d: NameTableDelta): Record<string, NameInfo> {
  const out = { ...prev };
  for (const name of d.remove) delete out[name];
  return Object.assign(out, d.upsert);
}

function apply<T extends { name: string }>(prev: readonly T[], d: ResourceDelta<T>): T[] {
  if (d.upsert.length === 0 && d.remove.length === 0) return prev as T[];
  const byName = new Map(prev.map((r) => [r.name, r]));
  for (const name of d.remove) byName.delete(name);
  for (const r of d.upsert) byName.set(r.name, r);
  return [...byName.values()];
}

function applyPatches(routes: RouteConfiguration[], patches: RoutePatch[] | undefined): RouteConfiguration[] {
  if (!patches?.length) return routes;
  const byName = new Map(routes.map((rc) => [rc.name, rc]));
  for (const p of patches) {
    const old = byName.get(p.name);
    if (!old) throw new Error(`route patch for unknown route configuration ${p.name}`);
    const vh = new Map(old.virtualHosts.map((v) => [v.name, v]));
    byName.set(p.name, {
      name: p.name,
      validateClusters: p.validateClusters,
      virtualHosts: p.virtualHosts.map((v) => (typeof v === 'string' ? vh.get(v)! : v)),
    });
  }
  return [...byName.values()];
}

/** A worker's side: the new snapshot from its current one and a delta based on it. */
export function applyDelta(prev: Snapshot, d: SnapshotDelta): Snapshot {
  if (d.baseVersion !== prev.version) throw new Error(`delta for version ${d.baseVersion} applied to version ${prev.version}`);
  return {
    version: d.version,
    source: d.source,
    builtAt: d.builtAt,
    role: d.role,
    mesh: d.mesh ?? prev.mesh,
    listeners: apply(prev.listeners, d.listeners),
    routes: applyPatches(apply(prev.routes, d.routes), d.routePatches),
    clusters: apply(prev.clusters, d.clusters),
    nameTable: d.nameTable ? applyNames(prev.nameTable, d.nameTable) : prev.nameTable,
  };
}
