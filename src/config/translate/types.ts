import type { Resource } from '../resources.js';

/** Validated Istio resources, as the translator's later stages read them. Hosts are resolved FQDNs. */

export interface ServicePort {
  number: number;
  name: string;
  /** Istio's protocol: explicit, else from the name prefix (`http-…`), else UNKNOWN (carried as TCP). */
  protocol: string;
  targetPort?: number;
}

export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
export type Location = 'MESH_EXTERNAL' | 'MESH_INTERNAL';

export interface WorkloadEndpoint {
  address: string;
  ports: Record<string, number>;
  labels: Record<string, string>;
  weight: number;
  locality?: string;
  network?: string;
  /** The workload's service account: its SPIFFE identity, expected by ISTIO_MUTUAL clients. */
  serviceAccount?: string;
}

export interface ServiceEntryDef {
  resource: Resource;
  hosts: string[];
  addresses: string[];
  ports: ServicePort[];
  resolution: Resolution;
  location: Location;
  endpoints: WorkloadEndpoint[];
  workloadSelector?: Record<string, string>;
  exportTo?: string[];
}

export interface WorkloadEntryDef {
  resource: Resource;
  endpoint: WorkloadEndpoint;
}

/** One host of a ServiceEntry, with its endpoints resolved (inline or WorkloadEntries). */
export interface Service {
  hostname: string;
  namespace: string;
  entry: ServiceEntryDef;
  addresses: string[];
  ports: ServicePort[];
  resolution: Resolution;
  location: Location;
  endpoints: WorkloadEndpoint[];
}

/** A TrafficPolicy's four blocks (portLevelSettings hold the same four). Values are validated raw YAML. */
export interface PolicyBlocks {
  loadBalancer?: any;
  connectionPool?: any;
  outlierDetection?: any;
  tls?: any;
}

export interface TrafficPolicyDef extends PolicyBlocks {
  portLevel: Map<number, PolicyBlocks>;
}

export interface SubsetDef {
  name: string;
  labels: Record<string, string>;
  trafficPolicy?: TrafficPolicyDef;
}

export interface DestinationRuleDef {
  resource: Resource;
  host: string;
  trafficPolicy?: TrafficPolicyDef;
  subsets: SubsetDef[];
  exportTo?: string[];
}

export interface VirtualServiceDef {
  resource: Resource;
  hosts: string[];
  /** `mesh` or `namespace/name`. */
  gateways: string[];
  /** Validated raw `spec.http` entries (index kept for diagnostics). */
  http: any[];
  tcp: any[];
  /** Validated raw `spec.tls` entries: SNI routes of TLS carried through untouched. */
  tls: any[];
  exportTo?: string[];
}

export interface GatewayServerDef {
  index: number;
  port: { number: number; name: string; protocol: string };
  bind?: string;
  /** `namespace/host`; namespace `*` when none was given. */
  hosts: { namespace: string; host: string }[];
  tls?: any;
  name?: string;
}

export interface GatewayDef {
  resource: Resource;
  /** `namespace/name`. */
  key: string;
  selector?: Record<string, string>;
  servers: GatewayServerDef[];
}

export interface EgressHost {
  namespace: string;
  host: string;
}

export interface SidecarDef {
  resource: Resource;
  workloadSelector?: Record<string, string>;
  egressHosts?: EgressHost[];
  ingress: { port: number; protocol: string; name: string; defaultEndpoint?: string; index: number }[];
  outboundTrafficPolicy?: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}
