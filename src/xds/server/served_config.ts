import { createHash } from 'node:crypto';
import type { Cluster, Listener, NameInfo, RouteConfiguration } from '../../config/model.js';
import { anyFromEnvoyJson } from '../proto_json.js';
import { encodeCluster } from '../encode/cluster.js';
import { encodeLoadAssignment } from '../encode/endpoint.js';
import { encodeListener } from '../encode/listener.js';
import { encodeNameTable } from '../encode/name_table.js';
import { encodeRouteConfiguration } from '../encode/route.js';
import type { Json } from '../encode/values.js';
import { TYPE, TYPE_KEYS, type TypeKey } from '../type_urls.js';

/** One resource as served: its Envoy JSON packed as an Any, and a content hash (its Delta version). */
export interface ServedResource {
  name: string;
  version: string;
  any: Json;
}

/** What one proxy (or every proxy of one scope) is served, per type, with a version per type for SotW. */
export interface ServedConfig {
  resources: Record<TypeKey, Map<string, ServedResource>>;
  versions: Record<TypeKey, string>;
}

/** The model as translation gives it for one scope. */
export interface ScopedModel {
  listeners: readonly Listener[];
  routes: readonly RouteConfiguration[];
  clusters: readonly Cluster[];
  nameTable?: Readonly<Record<string, NameInfo>>;
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** Envoy JSON resources (with `@type`) → the served form, hashed by content. */
export function served(jsonByType: Record<TypeKey, [string, Json][]>): ServedConfig {
  const resources = {} as ServedConfig['resources'];
  const versions = {} as ServedConfig['versions'];
  for (const type of TYPE_KEYS) {
    const map = new Map<string, ServedResource>();
    for (const [name, json] of jsonByType[type]) map.set(name, { name, version: hash(JSON.stringify(json)), any: anyFromEnvoyJson(json) });
    resources[type] = map;
    versions[type] = hash([...map.values()].map((r) => `${r.name}=${r.version}`).sort().join('\n'));
  }
  return { resources, versions };
}

/**
 * A sidecar's or gateway's configuration as istiod would push it: EDS clusters without hosts
 * and their ClusterLoadAssignments, listeners with RDS, route configurations, the name table.
 */
export function envoyResources(m: ScopedModel): Record<TypeKey, [string, Json][]> {
  return {
    cluster: m.clusters.map((c) => [c.name, encodeCluster(c)]),
    endpoint: m.clusters.filter((c) => c.type === 'EDS').map((c) => [c.name, { '@type': TYPE.endpoint, ...encodeLoadAssignment(c.name, c.endpoints) }]),
    listener: m.listeners.map((l) => [l.name, encodeListener(l)]),
    route: m.routes.map((r) => [r.name, encodeRouteConfiguration(r)]),
    nameTable: m.nameTable ? [['', { '@type': TYPE.nameTable, ...encodeNameTable(m.nameTable) }]] : [],
  };
}
