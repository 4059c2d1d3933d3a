import type { Diagnostic } from '../diagnostics.js';
import { parseMesh } from '../mesh.js';
import type { Cluster, Listener, MeshSettings, NameInfo, ProxyRole, RouteConfiguration } from '../model.js';
import type { Resource } from '../resources.js';
import { checkFields } from '../validate/fields.js';
import { SPECS } from '../validate/schemas.js';
import { SECURITY_SPECS } from '../validate/security_schemas.js';
import { buildRbac, readAuthorizationPolicy, type AuthorizationPolicyDef } from './authorization_policy.js';
import { buildJwtProviders, readRequestAuthentication, type RequestAuthenticationDef } from './request_authentication.js';
import { secureListeners } from './security.js';
import { serviceClusters } from './clusters.js';
import { Reporter, type ResourceReport, type TranslateOptions } from './context.js';
import { checkReferences } from './references.js';
import { readDestinationRule } from './destination_rule.js';
import { allocateServiceVips, buildNameTable } from './dns.js';
import { readGateway, routerTranslate, selectGateways } from './gateway.js';
import { exportedTo } from './hosts.js';
import { sidecarOutbound } from './outbound.js';
import { buildServices, DestinationRuleIndex, ServiceView } from './registry.js';
import { readServiceEntry, readWorkloadEntry } from './service_entry.js';
import { sidecarListeners } from './sidecar.js';
import { readSidecar, selectSidecar, egressAllows } from './sidecar_scope.js';
import type { DestinationRuleDef, GatewayDef, ServiceEntryDef, SidecarDef, VirtualServiceDef, WorkloadEntryDef } from './types.js';
import { readVirtualService } from './virtual_service.js';
import { effectiveInboundMtls, readPeerAuthentication, type PeerAuthenticationDef } from './peer_authentication.js';

export interface Translation {
  role: ProxyRole;
  mesh: MeshSettings;
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  nameTable: Record<string, NameInfo>;
  diagnostics: Diagnostic[];
}

const ISTIO_GROUP = /^networking\.istio\.io\/(v1|v1beta1|v1alpha3)$/;
const SECURITY_GROUP = /^security\.istio\.io\/(v1|v1beta1)$/;
/** Istio kinds Legate reads but does not implement: warned, not fatal. */
const UNIMPLEMENTED_KINDS = new Set(['WorkloadGroup', 'EnvoyFilter', 'ProxyConfig']);

/**
 * Istio resolves conflicts in favour of the oldest resource, then by namespace/name. A
 * resource without creationTimestamp has Go's zero time there, i.e. it counts as oldest.
 */
export function byAge(a: Resource, b: Resource): number {
  const ta = a.creationTimestamp ? Date.parse(a.creationTimestamp) || 0 : 0;
  const tb = b.creationTimestamp ? Date.parse(b.creationTimestamp) || 0 : 0;
  if (ta !== tb) return ta - tb;
  const na = `${a.namespace}/${a.name}`;
  const nb = `${b.namespace}/${b.name}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** byAge over many resources: keys computed once, not per comparison. */
const ageKeys = new WeakMap<Resource, { r: Resource; t: number; n: string }>();
function sortByAge(resources: readonly Resource[]): Resource[] {
  const keyed = resources.map((r) => {
    let k = ageKeys.get(r);
    if (!k) ageKeys.set(r, (k = { r, t: r.creationTimestamp ? Date.parse(r.creationTimestamp) || 0 : 0, n: `${r.namespace}/${r.name}` }));
    return k;
  });
  keyed.sort((a, b) => (a.t !== b.t ? a.t - b.t : a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return keyed.map((k) => k.r);
}

interface Defs {
  meshResource?: Resource;
  serviceEntries: ServiceEntryDef[];
  workloadEntries: WorkloadEntryDef[];
  destinationRules: DestinationRuleDef[];
  virtualServices: VirtualServiceDef[];
  gateways: GatewayDef[];
  sidecars: SidecarDef[];
  authorizationPolicies: AuthorizationPolicyDef[];
  requestAuthentications: RequestAuthenticationDef[];
  peerAuthentications: PeerAuthenticationDef[];
}

/** Validates every resource (structure, values) and reads the usable ones, oldest first. */
export function readResources(resources: readonly Resource[], report: Reporter): Defs {
  const defs: Defs = { serviceEntries: [], workloadEntries: [], destinationRules: [], virtualServices: [], gateways: [], sidecars: [], authorizationPolicies: [], requestAuthentications: [], peerAuthentications: [] };
  const seen = new Map<string, Resource>();
  for (const res of sortByAge(resources)) {
    if (!res.kind) {
      report.at(res, ['kind'], 'kind is required');
      continue;
    }
    if (!res.name) {
      report.at(res, ['metadata', 'name'], 'metadata.name is required');
      continue;
    }
    if (res.kind === 'ConfigMap' && res.apiVersion === 'v1') {
      if (res.name !== 'istio') continue;
      if (defs.meshResource) report.at(res, ['metadata', 'name'], `a second "istio" ConfigMap is ignored (using ${defs.meshResource.file}:${defs.meshResource.line})`, 'warning');
      else defs.meshResource = res;
      continue;
    }
    const security = SECURITY_GROUP.test(res.apiVersion);
    if (!ISTIO_GROUP.test(res.apiVersion) && !security) {
      report.at(res, ['apiVersion'], `unknown apiVersion/kind ${res.apiVersion || '(none)'} ${res.kind}: ignored`, 'warning');
      continue;
    }
    const id = `${res.kind}/${res.namespace}/${res.name}`;
    const dup = seen.get(id);
    if (dup) {
      report.at(res, ['metadata', 'name'], `duplicate ${id} (first defined at ${dup.file}:${dup.line})`);
      continue;
    }
    seen.set(id, res);
    // Own keys only: a kind such as `constructor` or `__proto__` must not find Object's members.
    const specs = security ? SECURITY_SPECS : SPECS;
    const schema = Object.hasOwn(specs, res.kind) ? specs[res.kind] : undefined;
    if (!schema) {
      const what = UNIMPLEMENTED_KINDS.has(res.kind) ? `${res.kind} is not implemented` : `unknown kind ${res.kind}`;
      report.at(res, ['kind'], `${what}: ignored`, 'warning');
      continue;
    }
    const memo = readMemo.get(res);
    if (memo) {
      for (const d of memo.recorded) report.at(res, d.path, d.message, d.severity);
      if (memo.def) (defs[LIST_OF[res.kind]] as unknown[]).push(memo.def);
      continue;
    }
    const r = report.for(res);
    const before = Object.fromEntries(Object.values(LIST_OF).map((k) => [k, defs[k].length]));
    checkFields(res.spec, schema, ['spec'], (path, message, severity) => (severity === 'error' ? r.error(path, message) : r.warn(path, message)));
    readOne(res, r, defs);
    const list = defs[LIST_OF[res.kind]] as unknown[];
    readMemo.set(res, { def: list.length > before[LIST_OF[res.kind]] ? list[list.length - 1] : undefined, recorded: r.recorded });
  }
  return defs;
}

/**
 * Reading (validation included) depends on the resource alone, and the parse cache returns
 * the same Resource object while its YAML is unchanged: a reload re-reads only what changed.
 */
const readMemo = new WeakMap<Resource, { def: unknown; recorded: ResourceReport['recorded'] }>();
const LIST_OF: Record<string, Exclude<keyof Defs, 'meshResource'>> = {
  ServiceEntry: 'serviceEntries',
  WorkloadEntry: 'workloadEntries',
  DestinationRule: 'destinationRules',
  VirtualService: 'virtualServices',
  Gateway: 'gateways',
  Sidecar: 'sidecars',
  AuthorizationPolicy: 'authorizationPolicies',
  RequestAuthentication: 'requestAuthentications',
  PeerAuthentication: 'peerAuthentications',
};

function readOne(res: Resource, r: ResourceReport, defs: Defs): void {
    switch (res.kind) {
      case 'ServiceEntry': {
        const d = readServiceEntry(r);
        if (d && r.errors === 0) defs.serviceEntries.push(d);
        break;
      }
      case 'WorkloadEntry': {
        const d = readWorkloadEntry(r);
        if (d && r.errors === 0) defs.workloadEntries.push({ resource: res, endpoint: d.endpoint });
        break;
      }
      case 'DestinationRule': {
        const d = readDestinationRule(r);
        if (d && r.errors === 0) defs.destinationRules.push(d);
        break;
      }
      case 'VirtualService': {
        const d = readVirtualService(r);
        if (d && r.errors === 0) defs.virtualServices.push(d);
        break;
      }
      case 'Gateway': {
        const d = readGateway(r);
        if (d && r.errors === 0) defs.gateways.push(d);
        break;
      }
      case 'Sidecar': {
        const d = readSidecar(r);
        if (d && r.errors === 0) defs.sidecars.push(d);
        break;
      }
      case 'AuthorizationPolicy': {
        const d = readAuthorizationPolicy(r);
        if (d && r.errors === 0) defs.authorizationPolicies.push(d);
        break;
      }
      case 'RequestAuthentication': {
        const d = readRequestAuthentication(r);
        if (d && r.errors === 0) defs.requestAuthentications.push(d);
        break;
      }
      case 'PeerAuthentication': {
        const d = readPeerAuthentication(r);
        if (d && r.errors === 0) defs.peerAuthentications.push(d);
        break;
      }
    }
}

/**
 * Istio YAML → the Envoy-shaped model for one proxy (a sidecar, or a router serving
 * Gateways). Pure: the same resources and options always give the same output.
 */
export function translate(resources: readonly Resource[], opts: TranslateOptions): Translation {
  const report = new Reporter();
  const role = opts.role ?? 'sidecar';
  const proxyNs = opts.namespace ?? 'default';
  const proxyLabels = opts.labels ?? {};
  const defs = readResources(resources, report);
  const meshRes = defs.meshResource;
  const mesh = parseMesh(meshRes?.data?.mesh, (path, message, severity, innerLine) => {
    if (!meshRes) return;
    const base = meshRes.lineOf(['data', 'mesh']);
    if (innerLine !== undefined) report.atLine(meshRes, base + innerLine, path, message, severity);
    else report.at(meshRes, path.split('.'), message, severity);
  });
  checkReferences(defs.virtualServices, defs.destinationRules, defs.serviceEntries, report);

  const sidecar = role === 'sidecar' ? selectSidecar(defs.sidecars, proxyNs, proxyLabels, mesh.rootNamespace, report) : undefined;
  const outboundPolicy = sidecar?.outboundTrafficPolicy ?? mesh.outboundTrafficPolicy;
  // Auto-allocated VIPs become addresses before anything is built from the services.
  const dns = allocateServiceVips(buildServices(defs.serviceEntries, defs.workloadEntries), mesh, opts, report);
  const view = new ServiceView(dns.services, proxyNs, mesh, sidecar, report);
  const rules = new DestinationRuleIndex(defs.destinationRules, proxyNs, mesh.rootNamespace, mesh, report);

  const inboundMtls = role === 'sidecar' ? effectiveInboundMtls(defs.peerAuthentications, proxyNs, proxyLabels, mesh.rootNamespace, report) : undefined;
  const base = sidecarListeners(mesh, opts, outboundPolicy, sidecar, inboundMtls);
  const clusters = new Map<string, Cluster>(base.clusters.map((c) => [c.name, c]));
  for (const svc of view.all) {
    for (const c of serviceClusters(svc, rules.lookup(svc.hostname, svc.namespace), mesh)) if (!clusters.has(c.name)) clusters.set(c.name, c);
  }
  const visibleVs = defs.virtualServices.filter((vs) => exportedTo(vs.exportTo, vs.resource.namespace, proxyNs, mesh.defaultVirtualServiceExportTo));

  let listeners: Listener[];
  let routes: RouteConfiguration[];
  if (role === 'router') {
    const out = routerTranslate({
      gateways: selectGateways(defs.gateways, opts.labels),
      virtualServices: visibleVs,
      view,
      clusters,
      proxyNamespace: proxyNs,
      proxyLabels,
      tcpIdleTimeoutMs: mesh.tcpIdleTimeoutMs,
      topology: mesh.gatewayTopology,
      report,
    });
    listeners = out.listeners;
    routes = out.routes;
  } else {
    const meshVs = visibleVs.filter((vs) => vs.gateways.includes('mesh') && vs.hosts.some((h) => egressAllows(sidecar, vs.resource.namespace, h, proxyNs)));
    const out = sidecarOutbound({
      view,
      virtualServices: meshVs,
      clusters,
      outboundPolicy,
      tcpIdleTimeoutMs: mesh.tcpIdleTimeoutMs,
      hcmTimeouts: opts.hcmTimeouts,
      proxyNamespace: proxyNs,
      proxyLabels,
      report,
    });
    listeners = [...base.listeners, ...out.listeners];
    routes = [...out.routes, ...base.routes];
  }
  const authorization = {
    rbac: buildRbac(defs.authorizationPolicies, proxyNs, proxyLabels, mesh.rootNamespace),
    jwtProviders: buildJwtProviders(defs.requestAuthentications, proxyNs, proxyLabels, mesh.rootNamespace),
  };
  listeners = secureListeners(listeners, authorization, role);
  // istiod writes MeshConfig protocolDetectionTimeout on every listener, continuing at the timeout.
  if (mesh.protocolDetectionTimeoutMs > 0) listeners = listeners.map((l) => ({ ...l, listenerFiltersTimeoutMs: mesh.protocolDetectionTimeoutMs }));
  const nameTable = buildNameTable(view.all, dns.autoAllocated);
  return { role, mesh, listeners, routes, clusters: [...clusters.values()], nameTable, diagnostics: report.diagnostics };
}
