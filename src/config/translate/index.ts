import type { Diagnostic } from '../diagnostics.js';
import { parseMesh } from '../mesh.js';
import type { Cluster, FilterChain, Listener, MeshSettings, NameInfo } from '../model.js';
import type { Resource } from '../resources.js';
import { Reporter, type TranslateOptions } from './context.js';
import { readServiceEntry, serviceClusters, type Service } from './service_entry.js';
import { sidecarListeners, tcpChain } from './sidecar.js';
import { translateDns } from './dns.js';

export interface Translation {
  mesh: MeshSettings;
  listeners: Listener[];
  clusters: Cluster[];
  nameTable: Record<string, NameInfo>;
  diagnostics: Diagnostic[];
}

const ISTIO_GROUP = /^networking\.istio\.io\/(v1|v1beta1|v1alpha3)$/;
/** Kinds that are read but whose translation lands with later work: warned, not fatal. */
const PENDING_KINDS = new Set(['VirtualService', 'DestinationRule', 'Gateway', 'WorkloadEntry', 'Sidecar', 'WorkloadGroup', 'EnvoyFilter']);

/** Istio resolves conflicts in favour of the oldest resource, then by namespace/name. */
function byAge(a: Resource, b: Resource): number {
  const ta = a.creationTimestamp ?? '';
  const tb = b.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = `${a.namespace}/${a.name}`;
  const nb = `${b.namespace}/${b.name}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function checkIdentity(res: Resource, report: Reporter): boolean {
  if (!res.kind) {
    report.at(res, ['kind'], 'kind is required');
    return false;
  }
  if (!res.name) {
    report.at(res, ['metadata', 'name'], 'metadata.name is required');
    return false;
  }
  return true;
}

/** Istio YAML → the Envoy-shaped model. Pure: the same resources always give the same output. */
export function translate(resources: readonly Resource[], opts: TranslateOptions): Translation {
  const report = new Reporter();
  let meshResource: Resource | undefined;
  const services: Service[] = [];
  for (const res of [...resources].sort(byAge)) {
    if (!checkIdentity(res, report)) continue;
    if (res.kind === 'ConfigMap' && res.apiVersion === 'v1') {
      if (res.name !== 'istio') continue;
      if (meshResource) report.at(res, ['metadata', 'name'], `a second "istio" ConfigMap is ignored (using ${meshResource.file}:${meshResource.line})`, 'warning');
      else meshResource = res;
      continue;
    }
    if (!ISTIO_GROUP.test(res.apiVersion)) {
      report.at(res, ['apiVersion'], `unknown apiVersion/kind ${res.apiVersion || '(none)'} ${res.kind}: ignored`, 'warning');
      continue;
    }
    if (res.kind === 'ServiceEntry') {
      const svc = readServiceEntry(res, report);
      if (svc) services.push(svc);
    } else if (PENDING_KINDS.has(res.kind)) {
      report.at(res, ['kind'], `${res.kind} is not implemented yet: ignored`, 'warning');
    } else {
      report.at(res, ['kind'], `unknown kind ${res.kind}: ignored`, 'warning');
    }
  }
  const mesh = parseMesh(meshResource?.data?.mesh, (path, message, severity) => meshResource && report.at(meshResource, path.split('.'), message, severity));
  const base = sidecarListeners(mesh, opts);
  const clusters = new Map<string, Cluster>(base.clusters.map((c) => [c.name, c]));
  const listeners = new Map<string, Listener>();
  const dns = translateDns(services, mesh, opts, report);
  for (const svc of dns.services) {
    for (const c of serviceClusters(svc, mesh.connectTimeoutMs, mesh.dnsRefreshRateMs)) {
      if (clusters.has(c.name)) {
        report.at(svc.resource, ['spec', 'hosts'], `cluster ${c.name} is already defined by an older resource: ignored here`, 'warning');
        continue;
      }
      clusters.set(c.name, c);
    }
    addServiceListeners(svc, mesh, listeners, report);
  }
  return { mesh, listeners: [...base.listeners, ...listeners.values()], clusters: [...clusters.values()], nameTable: dns.nameTable, diagnostics: report.diagnostics };
}

/** Istio's per-service outbound listeners: `<vip>_<port>` for addresses, `0.0.0.0_<port>` otherwise. */
function addServiceListeners(svc: Service, mesh: MeshSettings, listeners: Map<string, Listener>, report: Reporter): void {
  const host = svc.hosts[0];
  for (const port of svc.ports) {
    const cluster = `outbound|${port.number}||${host}`;
    const exact = svc.addresses.filter((a) => !a.includes('/'));
    const cidrs = svc.addresses.filter((a) => a.includes('/'));
    for (const ip of exact) {
      const name = `${ip}_${port.number}`;
      if (listeners.has(name)) {
        report.at(svc.resource, ['spec', 'addresses'], `${ip}:${port.number} is already claimed by an older ServiceEntry: ignored here`, 'warning');
        continue;
      }
      listeners.set(name, serviceListener(name, ip, port.number, [], tcpChain(cluster, cluster, mesh.tcpIdleTimeoutMs)));
    }
    if (exact.length > 0 && cidrs.length === 0) continue;
    const name = `0.0.0.0_${port.number}`;
    const listener = listeners.get(name) ?? serviceListener(name, '0.0.0.0', port.number, [], undefined);
    listeners.set(name, listener);
    if (cidrs.length > 0) {
      listener.filterChains.push(tcpChain(cluster, cluster, mesh.tcpIdleTimeoutMs, { destinationPort: port.number, prefixRanges: cidrs }));
    } else if (listener.defaultFilterChain) {
      report.at(svc.resource, ['spec', 'ports'], `port ${port.number} without addresses is already claimed by an older ServiceEntry (${listener.defaultFilterChain.name}): ignored here`, 'warning');
    } else {
      listener.defaultFilterChain = tcpChain(cluster, cluster, mesh.tcpIdleTimeoutMs);
    }
  }
}

function serviceListener(name: string, address: string, port: number, chains: FilterChain[], dflt: FilterChain | undefined): Listener {
  return {
    name,
    address: { address, port },
    trafficDirection: 'OUTBOUND',
    bindToPort: false,
    useOriginalDst: false,
    filterChains: chains,
    defaultFilterChain: dflt,
  };
}
