/** Istio YAML the benchmark feeds Legate: the mesh ConfigMap and ServiceEntries. */

/** Drain 0 s so that stopping the proxy between runs does not wait out the default 5 s. */
export const MESH_YAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |-
    outboundTrafficPolicy:
      mode: ALLOW_ANY
    defaultConfig:
      terminationDrainDuration: 0s
`;

export interface EntrySpec {
  name: string;
  vip: string;
  port: number;
  endpointPort: number;
  /** More endpoints on 127.0.0.1 (load balancing), after `endpointPort`. */
  moreEndpointPorts?: readonly number[];
  /** TCP (tcp_proxy, the default) or HTTP (the HTTP connection manager and router). */
  protocol?: 'TCP' | 'HTTP' | 'GRPC';
}

/** A ServiceEntry: VIP:port → 127.0.0.1:endpointPort, through tcp_proxy (TCP) or the HTTP connection manager (HTTP). */
export function serviceEntry(e: EntrySpec): string {
  const proto = e.protocol ?? 'TCP';
  const portName = `${proto.toLowerCase()}-${e.port}`;
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${e.name}
  namespace: bench
spec:
  hosts: [${e.name}.bench.internal]
  addresses: [${e.vip}]
  ports:
    - number: ${e.port}
      name: ${portName}
      protocol: ${proto}
  resolution: STATIC
  location: MESH_EXTERNAL
  endpoints:
${[e.endpointPort, ...(e.moreEndpointPorts ?? [])].map((p) => `    - address: 127.0.0.1\n      ports:\n        ${portName}: ${p}\n`).join('')}`;
}

/** A DestinationRule choosing the load balancer for entry `name`'s host (Istio's `loadBalancer.simple`). */
export function destinationRule(name: string, simple: 'LEAST_REQUEST' | 'ROUND_ROBIN' | 'RANDOM'): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${name}
  namespace: bench
spec:
  host: ${name}.bench.internal
  trafficPolicy:
    loadBalancer:
      simple: ${simple}
`;
}

/** The endpoint port of entry `i` in `generation`: every entry changes from one generation to the next. */
export const endpointPortOf = (i: number, generation: number) => 20000 + ((i + generation) % 10000);

/**
 * `n` distinct ServiceEntries (VIPs from 10.128.0.0/9, so never the bench's VIPs), one file.
 * Names stay the same across generations (a real change, not a new set of stats); each
 * generation moves every entry's endpoint to another port.
 */
export function manyServiceEntries(n: number, generation = 0): string {
  const docs = [MESH_YAML];
  for (let i = 0; i < n; i++) {
    const vip = `10.${128 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}`;
    docs.push(serviceEntry({ name: `svc-${i}`, vip, port: 8000 + (i % 1000), endpointPort: endpointPortOf(i, generation) }));
  }
  return docs.join('---\n');
}
