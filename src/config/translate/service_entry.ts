import { isIP } from 'node:net';
import type { ResourceReport } from './context.js';
import { resolveHost } from './hosts.js';
import { addressOrCidrError, hostError, isPlainObject, isPort } from '../validate/values.js';
import type { Resolution, ServiceEntryDef, ServicePort, WorkloadEndpoint } from './types.js';
import type { Path } from '../validate/fields.js';

const RESOLUTIONS = new Set(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']);
const PROTOCOLS = new Set(['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS', 'UDP']);

/** Istio's protocol for a port: explicit `protocol`, else the `name` prefix (`http-…`), else unknown. */
export function portProtocol(p: { protocol?: unknown; name?: unknown }): string {
  // Wrongly typed fields are reported by the schema check; here they only must not throw.
  if (typeof p.protocol === 'string' && p.protocol) return p.protocol.toUpperCase();
  const name = typeof p.name === 'string' ? p.name.toLowerCase() : '';
  const prefix = name.startsWith('grpc-web') ? 'grpc-web' : name.split('-')[0];
  const byName: Record<string, string> = { http: 'HTTP', http2: 'HTTP2', https: 'HTTPS', grpc: 'GRPC', 'grpc-web': 'GRPC-WEB', tcp: 'TCP', tls: 'TLS', mongo: 'MONGO', redis: 'REDIS', mysql: 'MYSQL', udp: 'UDP' };
  return byName[prefix] ?? 'UNKNOWN';
}

export function isHttpProtocol(protocol: string): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'GRPC-WEB';
}

export function isProtocolName(p: unknown): boolean {
  return typeof p === 'string' && PROTOCOLS.has(p.toUpperCase());
}

/** A WorkloadEntry spec (also a ServiceEntry endpoint). Returns undefined after reporting when unusable. */
export function readWorkloadEndpoint(e: any, path: Path, r: ResourceReport, opts: { requireIp?: boolean } = {}): WorkloadEndpoint | undefined {
  if (!isPlainObject(e)) return undefined;
  if (typeof e.address !== 'string' || e.address === '') {
    r.error([...path, 'address'], 'address is required');
    return undefined;
  }
  if (opts.requireIp && isIP(e.address) === 0 && !e.address.startsWith('unix://')) {
    r.error([...path, 'address'], `resolution STATIC needs IP addresses, got ${JSON.stringify(e.address)}`);
    return undefined;
  }
  if (isIP(e.address) === 0 && !e.address.startsWith('unix://') && hostError(e.address, {})) {
    r.error([...path, 'address'], `invalid address ${JSON.stringify(e.address)} (an IP, a DNS name or unix://path)`);
    return undefined;
  }
  const ports: Record<string, number> = {};
  for (const [name, n] of Object.entries(isPlainObject(e.ports) ? e.ports : {})) {
    if (!isPort(n)) r.error([...path, 'ports', name], `invalid port ${JSON.stringify(n)} (1–65535)`);
    else ports[name] = n;
  }
  const weight = e.weight ?? 1;
  if (!Number.isInteger(weight) || weight < 0) r.error([...path, 'weight'], 'weight must be a non-negative integer');
  return {
    address: e.address,
    ports,
    labels: isPlainObject(e.labels) ? { ...e.labels } : {},
    weight: Number.isInteger(weight) && weight > 0 ? weight : 1,
    locality: typeof e.locality === 'string' ? e.locality : undefined,
    network: typeof e.network === 'string' ? e.network : undefined,
    ...(typeof e.serviceAccount === 'string' && e.serviceAccount ? { serviceAccount: e.serviceAccount } : {}),
  };
}

/** Validates a ServiceEntry; returns undefined (after reporting) when it has errors. */
export function readServiceEntry(r: ResourceReport): ServiceEntryDef | undefined {
  const res = r.res;
  const spec = res.spec;
  if (!isPlainObject(spec)) {
    r.error(['spec'], 'spec is required');
    return undefined;
  }
  const resolution = (spec.resolution ?? 'NONE') as Resolution;
  if (!RESOLUTIONS.has(resolution)) r.error(['spec', 'resolution'], `must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN; got ${JSON.stringify(spec.resolution)}`);
  const hosts: string[] = [];
  if (!Array.isArray(spec.hosts) || spec.hosts.length === 0) r.error(['spec', 'hosts'], 'at least one host is required');
  else
    spec.hosts.forEach((h: unknown, i: number) => {
      if (r.check(['spec', 'hosts', i], hostError(h, { wildcard: true }))) return;
      const host = resolveHost(h as string, res.namespace);
      if (host.startsWith('*') && (resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && !(spec.endpoints?.length > 0))
        return r.error(['spec', 'hosts', i], `wildcard host ${host} needs endpoints with resolution ${resolution}`);
      if (hosts.includes(host)) return r.warn(['spec', 'hosts', i], `host ${host} listed twice`);
      hosts.push(host);
    });
  const addresses: string[] = [];
  if (Array.isArray(spec.addresses))
    spec.addresses.forEach((a: unknown, i: number) => {
      if (!r.check(['spec', 'addresses', i], addressOrCidrError(a))) addresses.push(a as string);
    });
  if (addresses.length > 0 && resolution === 'NONE' && hosts.length > 1 && addresses.some((a) => !a.includes('/')))
    r.warn(['spec', 'addresses'], 'addresses are shared by every host of this entry');
  const ports: ServicePort[] = [];
  if (!Array.isArray(spec.ports) || spec.ports.length === 0) r.error(['spec', 'ports'], 'at least one port is required');
  else
    spec.ports.forEach((p: any, i: number) => {
      if (!isPlainObject(p)) return;
      const at = (f: string): Path => ['spec', 'ports', i, f];
      if (!isPort(p.number)) return r.error(at('number'), `invalid port ${JSON.stringify(p.number)} (1–65535)`);
      if (p.targetPort !== undefined && !isPort(p.targetPort)) return r.error(at('targetPort'), `invalid port ${JSON.stringify(p.targetPort)}`);
      if (p.protocol !== undefined && !isProtocolName(p.protocol)) return r.error(at('protocol'), `unknown protocol ${JSON.stringify(p.protocol)}`);
      if (typeof p.name !== 'string' || p.name === '') r.error(at('name'), 'port name is required');
      if (ports.some((q) => q.number === p.number)) return r.error(at('number'), `port ${p.number} listed twice`);
      if (ports.some((q) => q.name === p.name)) return r.error(at('name'), `port name ${p.name} listed twice`);
      const protocol = portProtocol(p);
      if (protocol === 'UDP') r.warn(at('protocol'), 'UDP is not proxied: ignored');
      ports.push({ number: p.number, name: String(p.name ?? ''), protocol, targetPort: p.targetPort });
    });
  const location = spec.location ?? 'MESH_EXTERNAL';
  if (location !== 'MESH_EXTERNAL' && location !== 'MESH_INTERNAL') r.error(['spec', 'location'], `must be MESH_EXTERNAL or MESH_INTERNAL, got ${JSON.stringify(location)}`);
  if (spec.endpoints !== undefined && spec.workloadSelector !== undefined) r.error(['spec', 'workloadSelector'], 'only one of endpoints or workloadSelector can be set');
  const endpoints: WorkloadEndpoint[] = [];
  if (Array.isArray(spec.endpoints)) {
    if (resolution === 'NONE' && spec.endpoints.length > 0) r.error(['spec', 'endpoints'], 'endpoints need a resolution other than NONE');
    spec.endpoints.forEach((e: any, i: number) => {
      const ep = readWorkloadEndpoint(e, ['spec', 'endpoints', i], r, { requireIp: resolution === 'STATIC' });
      if (!ep) return;
      for (const name of Object.keys(ep.ports)) {
        if (!ports.some((p) => p.name === name)) r.error(['spec', 'endpoints', i, 'ports', name], `no port named ${name} in spec.ports`);
      }
      endpoints.push(ep);
    });
  }
  if (resolution === 'STATIC' && endpoints.length === 0 && !spec.workloadSelector)
    r.warn(['spec', 'endpoints'], 'resolution STATIC without endpoints: the service has no hosts');
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) r.error(['spec', 'endpoints'], 'resolution DNS_ROUND_ROBIN takes at most one endpoint');
  if (resolution === 'NONE' && addresses.length === 0 && hosts.some((h) => !h.startsWith('*'))) {
    // Allowed by Istio: connections are told apart by port only (0.0.0.0_<port> listeners).
  }
  const exportTo = readExportTo(spec.exportTo, r);
  const workloadSelector = isPlainObject(spec.workloadSelector?.labels) ? { ...spec.workloadSelector.labels } : undefined;
  if (r.errors > 0) return undefined;
  return { resource: res, hosts, addresses, ports, resolution, location, endpoints, workloadSelector, exportTo };
}

/** exportTo: `*`, `.`, `~` or namespace names; `~` must stand alone. */
export function readExportTo(v: unknown, r: ResourceReport): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  v.forEach((e: unknown, i: number) => {
    if (typeof e !== 'string' || !(e === '*' || e === '.' || e === '~' || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(e)))
      return r.error(['spec', 'exportTo', i], `invalid exportTo ${JSON.stringify(e)} (".", "*", "~" or a namespace)`);
    out.push(e);
  });
  if (out.includes('~') && out.length > 1) r.error(['spec', 'exportTo'], '"~" cannot be combined with other exportTo values');
  if (out.includes('*') && out.length > 1) r.warn(['spec', 'exportTo'], '"*" already exports everywhere; other values are redundant');
  return out;
}

/** Reads a WorkloadEntry. */
export function readWorkloadEntry(r: ResourceReport): { endpoint: WorkloadEndpoint } | undefined {
  if (!isPlainObject(r.res.spec)) {
    r.error(['spec'], 'spec is required');
    return undefined;
  }
  const endpoint = readWorkloadEndpoint(r.res.spec, ['spec'], r);
  return endpoint && r.errors === 0 ? { endpoint } : undefined;
}
