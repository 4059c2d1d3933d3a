import { isIP } from 'node:net';
import type { Cluster, LbEndpoint } from '../model.js';
import type { Resource } from '../resources.js';
import type { Reporter } from './context.js';

/** A ServiceEntry port after validation, with the protocol Istio would infer. */
export interface ServicePort {
  number: number;
  name: string;
  protocol: string;
  targetPort?: number;
}

export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';

export interface Service {
  resource: Resource;
  hosts: string[];
  addresses: string[];
  ports: ServicePort[];
  resolution: Resolution;
  location: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  endpoints: { address: string; ports: Record<string, number>; labels: Record<string, string>; weight: number; locality?: string }[];
}

const RESOLUTIONS = new Set(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']);
const PROTOCOLS = new Set(['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS', 'UDP']);
const HOST_RE = /^(\*|\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$|^\*$/i;

/** Istio's protocol for a port: explicit `protocol`, else the `name` prefix (`http-…`), else unknown. */
export function portProtocol(p: { protocol?: string; name?: string }): string {
  if (p.protocol) return p.protocol.toUpperCase();
  const prefix = (p.name ?? '').split('-')[0].toLowerCase();
  const byName: Record<string, string> = { http: 'HTTP', http2: 'HTTP2', https: 'HTTPS', grpc: 'GRPC', 'grpc-web': 'GRPC-WEB', tcp: 'TCP', tls: 'TLS', mongo: 'MONGO', redis: 'REDIS', mysql: 'MYSQL', udp: 'UDP' };
  return byName[prefix] ?? 'UNKNOWN';
}

export function isHttpProtocol(protocol: string): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'GRPC-WEB';
}

const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) < 65536;

function isAddressOrCidr(a: string): boolean {
  const [ip, bits, extra] = a.split('/');
  if (extra !== undefined) return false;
  const family = isIP(ip);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

/** Validates a ServiceEntry; returns undefined (after reporting) when it cannot be used. */
export function readServiceEntry(res: Resource, report: Reporter): Service | undefined {
  const spec = res.spec;
  if (!spec || typeof spec !== 'object') {
    report.at(res, ['spec'], 'spec is required');
    return undefined;
  }
  let ok = true;
  const fail = (path: (string | number)[], msg: string) => {
    report.at(res, path, msg);
    ok = false;
  };
  const hosts: string[] = [];
  if (!Array.isArray(spec.hosts) || spec.hosts.length === 0) fail(['spec', 'hosts'], 'at least one host is required');
  else
    spec.hosts.forEach((h: unknown, i: number) => {
      if (typeof h !== 'string' || !HOST_RE.test(h)) fail(['spec', 'hosts', i], `invalid host ${JSON.stringify(h)}`);
      else hosts.push(h.toLowerCase());
    });
  const addresses: string[] = [];
  if (spec.addresses !== undefined) {
    if (!Array.isArray(spec.addresses)) fail(['spec', 'addresses'], 'must be a list of IPs or CIDRs');
    else
      spec.addresses.forEach((a: unknown, i: number) => {
        if (typeof a !== 'string' || !isAddressOrCidr(a)) fail(['spec', 'addresses', i], `invalid address ${JSON.stringify(a)} (expected an IP or CIDR)`);
        else addresses.push(a);
      });
  }
  const ports: ServicePort[] = [];
  if (!Array.isArray(spec.ports) || spec.ports.length === 0) fail(['spec', 'ports'], 'at least one port is required');
  else
    spec.ports.forEach((p: any, i: number) => {
      if (!p || typeof p !== 'object') return fail(['spec', 'ports', i], 'must be a mapping');
      if (!isPort(p.number)) return fail(['spec', 'ports', i, 'number'], `invalid port ${JSON.stringify(p.number)} (1–65535)`);
      if (p.targetPort !== undefined && !isPort(p.targetPort)) return fail(['spec', 'ports', i, 'targetPort'], `invalid port ${JSON.stringify(p.targetPort)}`);
      if (p.protocol !== undefined && !PROTOCOLS.has(String(p.protocol).toUpperCase()))
        return fail(['spec', 'ports', i, 'protocol'], `unknown protocol ${JSON.stringify(p.protocol)}`);
      if (ports.some((q) => q.number === p.number)) return fail(['spec', 'ports', i, 'number'], `port ${p.number} listed twice`);
      ports.push({ number: p.number, name: String(p.name ?? `port-${p.number}`), protocol: portProtocol(p), targetPort: p.targetPort });
    });
  const resolution = (spec.resolution ?? 'NONE') as Resolution;
  if (!RESOLUTIONS.has(resolution)) fail(['spec', 'resolution'], `must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN; got ${JSON.stringify(spec.resolution)}`);
  const location = spec.location ?? 'MESH_EXTERNAL';
  if (location !== 'MESH_EXTERNAL' && location !== 'MESH_INTERNAL') fail(['spec', 'location'], `must be MESH_EXTERNAL or MESH_INTERNAL`);
  const endpoints: Service['endpoints'] = [];
  if (spec.endpoints !== undefined) {
    if (!Array.isArray(spec.endpoints)) fail(['spec', 'endpoints'], 'must be a list');
    else
      spec.endpoints.forEach((e: any, i: number) => {
        if (!e || typeof e.address !== 'string' || e.address === '') return fail(['spec', 'endpoints', i, 'address'], 'address is required');
        if (resolution === 'STATIC' && isIP(e.address) === 0 && !e.address.startsWith('unix://'))
          return fail(['spec', 'endpoints', i, 'address'], `resolution STATIC needs IP addresses, got ${JSON.stringify(e.address)}`);
        const eps: Record<string, number> = {};
        for (const [name, n] of Object.entries(e.ports ?? {})) {
          if (!isPort(n)) return fail(['spec', 'endpoints', i, 'ports', name], `invalid port ${JSON.stringify(n)}`);
          eps[name] = n;
        }
        const weight = e.weight ?? 1;
        if (!Number.isInteger(weight) || weight < 0) return fail(['spec', 'endpoints', i, 'weight'], 'weight must be a non-negative integer');
        endpoints.push({ address: e.address, ports: eps, labels: { ...(e.labels ?? {}) }, weight: weight || 1, locality: e.locality });
      });
  }
  if (resolution === 'STATIC' && endpoints.length === 0 && !spec.workloadSelector)
    report.at(res, ['spec', 'endpoints'], 'resolution STATIC without endpoints: the service has no hosts', 'warning');
  if (resolution === 'NONE' && spec.endpoints !== undefined)
    report.at(res, ['spec', 'endpoints'], 'endpoints are ignored with resolution NONE', 'warning');
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) fail(['spec', 'endpoints'], 'resolution DNS_ROUND_ROBIN takes at most one endpoint');
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && spec.endpoints === undefined)
    hosts.forEach((h, i) => h.startsWith('*') && fail(['spec', 'hosts', i], `wildcard host ${h} cannot be resolved: resolution ${resolution} without endpoints needs plain hosts`));
  if (spec.workloadSelector !== undefined) report.at(res, ['spec', 'workloadSelector'], 'workloadSelector is not implemented yet', 'warning');
  for (const i of (spec.ports ?? []).keys()) {
    const p = ports[i];
    if (p && isHttpProtocol(p.protocol))
      report.at(res, ['spec', 'ports', i], `protocol ${p.protocol}: HTTP routing is not implemented yet; carried as TCP`, 'warning');
  }
  return ok ? { resource: res, hosts, addresses, ports, resolution, location, endpoints } : undefined;
}

export function outboundClusterName(port: number, host: string, subset = ''): string {
  return `outbound|${port}|${subset}|${host}`;
}

/**
 * One cluster per host × port, Istio's `outbound|port||host`. With resolution DNS /
 * DNS_ROUND_ROBIN the endpoints keep their hostnames (the host itself when there are none),
 * resolved on the main thread with Istio's settings: the mesh's dnsRefreshRate, the record
 * TTL respected, IPv4 only (a single-stack pod).
 */
export function serviceClusters(svc: Service, connectTimeoutMs: number, dnsRefreshRateMs = 60_000): Cluster[] {
  const clusters: Cluster[] = [];
  const dns = svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN';
  for (const host of svc.hosts) {
    for (const port of svc.ports) {
      const endpoints: LbEndpoint[] = [];
      if (dns && svc.endpoints.length === 0) endpoints.push({ address: host, port: port.targetPort ?? port.number, weight: 1 });
      if (svc.resolution !== 'NONE') {
        for (const e of svc.endpoints) {
          if (isIP(e.address) === 0 && (!dns || e.address.startsWith('unix://'))) continue;
          endpoints.push({
            address: e.address,
            port: e.ports[port.name] ?? port.targetPort ?? port.number,
            weight: e.weight,
            labels: e.labels,
            locality: e.locality,
          });
        }
      }
      clusters.push({
        name: outboundClusterName(port.number, host),
        type: svc.resolution === 'NONE' ? 'ORIGINAL_DST' : svc.resolution === 'STATIC' ? 'STATIC' : svc.resolution === 'DNS' ? 'STRICT_DNS' : 'LOGICAL_DNS',
        lbPolicy: svc.resolution === 'NONE' ? 'CLUSTER_PROVIDED' : 'LEAST_REQUEST',
        connectTimeoutMs,
        endpoints,
        service: { host, namespace: svc.resource.namespace, port: port.number },
        ...(dns ? { dnsRefreshRateMs, respectDnsTtl: true, dnsLookupFamily: 'V4_ONLY' as const } : {}),
      });
    }
  }
  return clusters;
}
