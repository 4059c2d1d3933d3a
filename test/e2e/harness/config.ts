/**
 * Builders for the Istio YAML a test pod's proxy reads. Each returns one YAML document;
 * Pod.writeConfig joins them with `---`.
 */

export interface MeshOptions {
  outboundTrafficPolicy?: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  terminationDrainDuration?: string;
  connectTimeout?: string;
  /** MeshConfig accessLogFile (`/dev/stdout` puts access log lines on the proxy's stdout). */
  accessLogFile?: string;
  accessLogEncoding?: 'TEXT' | 'JSON';
  /** Extra MeshConfig YAML lines, indented as top-level keys of data.mesh. */
  extra?: string;
}

/** The `istio` mesh ConfigMap (v1/ConfigMap istio, data.mesh). */
export function meshConfigMap(o: MeshOptions = {}): string {
  const mesh: string[] = [];
  if (o.outboundTrafficPolicy) mesh.push('outboundTrafficPolicy:', `  mode: ${o.outboundTrafficPolicy}`);
  if (o.connectTimeout) mesh.push(`connectTimeout: ${o.connectTimeout}`);
  if (o.accessLogFile) mesh.push(`accessLogFile: ${o.accessLogFile}`);
  if (o.accessLogEncoding) mesh.push(`accessLogEncoding: ${o.accessLogEncoding}`);
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
  endpoints?: { address: string; ports?: Record<string, number>; weight?: number; labels?: Record<string, string>; serviceAccount?: string }[];
}

/** A networking.istio.io/v1 resource whose spec is written as JSON-in-YAML (valid YAML, no quoting traps). */
function istioResource(kind: string, name: string, namespace: string | undefined, spec: unknown): string {
  return [
    'apiVersion: networking.istio.io/v1',
    `kind: ${kind}`,
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${namespace ?? 'default'}`,
    `spec: ${JSON.stringify(spec)}`,
  ].join('\n');
}

/**
 * A VirtualService: `spec` as Istio's API has it (hosts, http: [{match, route, rewrite,
 * headers, retries, timeout, fault, redirect, directResponse, …}], …).
 */
export function virtualService(name: string, spec: Record<string, unknown>, namespace?: string): string {
  return istioResource('VirtualService', name, namespace, spec);
}

/** A Gateway: `spec` as Istio's API has it (selector, servers: [{port, hosts, bind, tls}]). */
export function gateway(name: string, spec: Record<string, unknown>, namespace?: string): string {
  return istioResource('Gateway', name, namespace, spec);
}

/** A DestinationRule: `spec` as Istio's API has it (host, subsets: [{name, labels}], trafficPolicy). */
export function destinationRule(name: string, spec: Record<string, unknown>, namespace?: string): string {
  return istioResource('DestinationRule', name, namespace, spec);
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
