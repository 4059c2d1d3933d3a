/**
 * Builders for the Istio YAML a test pod's proxy reads. Each returns one YAML document;
 * Pod.writeConfig joins them with `---`.
 */

export interface MeshOptions {
  outboundTrafficPolicy?: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  terminationDrainDuration?: string;
  connectTimeout?: string;
  /** Extra MeshConfig YAML lines, indented as top-level keys of data.mesh. */
  extra?: string;
}

/** The `istio` mesh ConfigMap (v1/ConfigMap istio, data.mesh). */
export function meshConfigMap(o: MeshOptions = {}): string {
  const mesh: string[] = [];
  if (o.outboundTrafficPolicy) mesh.push('outboundTrafficPolicy:', `  mode: ${o.outboundTrafficPolicy}`);
  if (o.connectTimeout) mesh.push(`connectTimeout: ${o.connectTimeout}`);
  if (o.terminationDrainDuration) mesh.push('defaultConfig:', `  terminationDrainDuration: ${o.terminationDrainDuration}`);
  if (o.extra) mesh.push(...o.extra.split('\n'));
  return [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: istio',
    '  namespace: istio-system',
    'data:',
    '  mesh: |-',
    ...(mesh.length ? mesh : ['{}']).map((l) => `    ${l}`),
  ].join('\n');
}

export interface ServiceEntryOptions {
  name: string;
  namespace?: string;
  hosts: string[];
  addresses?: string[];
  ports: { number: number; name: string; protocol?: string; targetPort?: number }[];
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  endpoints?: { address: string; ports?: Record<string, number>; weight?: number }[];
}

/** A networking.istio.io/v1 ServiceEntry, written as JSON-in-YAML (valid YAML, no quoting traps). */
export function serviceEntry(o: ServiceEntryOptions): string {
  const spec: Record<string, unknown> = {
    hosts: o.hosts,
    ports: o.ports,
    resolution: o.resolution ?? 'STATIC',
    location: o.location ?? 'MESH_EXTERNAL',
  };
  if (o.addresses) spec.addresses = o.addresses;
  if (o.endpoints) spec.endpoints = o.endpoints;
  return [
    'apiVersion: networking.istio.io/v1',
    'kind: ServiceEntry',
    'metadata:',
    `  name: ${o.name}`,
    `  namespace: ${o.namespace ?? 'default'}`,
    `spec: ${JSON.stringify(spec)}`,
  ].join('\n');
}
