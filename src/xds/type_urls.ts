/** The xDS resource types Legate subscribes to, in Envoy's (and Istio's) push order. */
export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  nameTable: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
} as const;

export type TypeKey = keyof typeof TYPE;
export type TypeUrl = (typeof TYPE)[TypeKey];

export const TYPE_KEYS: readonly TypeKey[] = ['cluster', 'endpoint', 'listener', 'route', 'nameTable'];

/** Short names for logs and stats: cds, eds, lds, rds, nds. */
export const SHORT: Record<TypeKey, string> = { cluster: 'cds', endpoint: 'eds', listener: 'lds', route: 'rds', nameTable: 'nds' };

export function keyOf(url: string): TypeKey | undefined {
  return TYPE_KEYS.find((k) => TYPE[k] === url);
}
