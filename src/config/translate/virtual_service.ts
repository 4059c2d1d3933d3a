import type { ResourceReport } from './context.js';
import { hostsOverlap, resolveHost } from './hosts.js';
import { readExportTo } from './service_entry.js';
import type { VirtualServiceDef } from './types.js';
import type { Path } from '../validate/fields.js';
import { checkDestination, checkHttpRoute, checkWeights } from '../validate/http_route.js';
import { addressOrCidrError, hostError, isDns1123Label, isPlainObject, isPort } from '../validate/values.js';

export const MESH_GATEWAY = 'mesh';

/**
 * A VirtualService's gateway reference as Istio resolves it: `mesh`; `namespace/name`;
 * `./name` and a bare `name` in the VirtualService's namespace; and the legacy
 * `name.namespace[.svc.cluster.local]` → `namespace/name`.
 */
export function resolveGateway(g: string, namespace: string): string {
  if (g === MESH_GATEWAY) return g;
  const slash = g.indexOf('/');
  if (slash >= 0) return g.startsWith('./') ? `${namespace}${g.slice(1)}` : g;
  const dot = g.indexOf('.');
  if (dot < 0) return `${namespace}/${g}`;
  const rest = g.slice(dot + 1);
  const end = rest.indexOf('.');
  return `${end < 0 ? rest : rest.slice(0, end)}/${g.slice(0, dot)}`;
}

function isLegacyGatewayName(g: string): boolean {
  return !g.includes('/') && g.includes('.');
}

function gatewayError(g: unknown): string | undefined {
  if (typeof g !== 'string' || g === '') return `invalid gateway ${JSON.stringify(g)}`;
  if (g === MESH_GATEWAY) return undefined;
  const parts = g.split('/');
  const ok =
    parts.length === 2
      ? (parts[0] === '.' || isDns1123Label(parts[0])) && isDns1123Label(parts[1])
      : parts.length === 1 && g.split('.').every(isDns1123Label);
  return ok ? undefined : `invalid gateway name ${JSON.stringify(g)} ("mesh", "name", "namespace/name" or "./name")`;
}

/** Istio accepts the old FQDN form with a warning; so does validation here. */
function checkGatewayName(g: unknown, path: Path, r: ResourceReport): boolean {
  if (r.check(path, gatewayError(g))) return false;
  if (isLegacyGatewayName(g as string)) r.warn(path, `legacy gateway name ${JSON.stringify(g)}: prefer "${resolveGateway(g as string, r.res.namespace)}" (namespace/name)`);
  return true;
}

/** Validates a VirtualService; returns undefined (after reporting) when it has errors. */
export function readVirtualService(r: ResourceReport): VirtualServiceDef | undefined {
  const res = r.res;
  const spec = res.spec;
  if (!isPlainObject(spec)) {
    r.error(['spec'], 'spec is required');
    return undefined;
  }
  const gateways: string[] = [];
  (Array.isArray(spec.gateways) ? spec.gateways : []).forEach((g: unknown, i: number) => {
    if (checkGatewayName(g, ['spec', 'gateways', i], r)) gateways.push(resolveGateway(g as string, res.namespace));
  });
  if (gateways.length === 0 && !(Array.isArray(spec.gateways) && spec.gateways.length > 0)) gateways.push(MESH_GATEWAY);
  const hosts: string[] = [];
  if (!Array.isArray(spec.hosts) || spec.hosts.length === 0) r.error(['spec', 'hosts'], 'VirtualService must have at least one host');
  else
    spec.hosts.forEach((h: unknown, i: number) => {
      if (r.check(['spec', 'hosts', i], hostError(h, { wildcard: true, star: true, ip: true }))) return;
      if (h === '*' && gateways.includes(MESH_GATEWAY)) return r.error(['spec', 'hosts', i], 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
      const host = resolveHost(h as string, res.namespace);
      if (hosts.includes(host)) return r.error(['spec', 'hosts', i], `duplicate host ${host}`);
      hosts.push(host);
    });
  const http = Array.isArray(spec.http) ? spec.http : [];
  const tcp = Array.isArray(spec.tcp) ? spec.tcp : [];
  const tls = Array.isArray(spec.tls) ? spec.tls : [];
  if (http.length === 0 && tcp.length === 0 && tls.length === 0) r.error(['spec'], 'http, tcp or tls must be provided in a VirtualService');
  http.forEach((h: any, i: number) => {
    checkHttpRoute(h, ['spec', 'http', i], r);
    checkMatchGateways(h?.match, gateways, ['spec', 'http', i], r);
  });
  tcp.forEach((t: any, i: number) => checkTcpRoute(t, ['spec', 'tcp', i], r, gateways));
  tls.forEach((t: any, i: number) => checkTlsRoute(t, ['spec', 'tls', i], r, gateways, hosts));
  const exportTo = readExportTo(spec.exportTo, r);
  if (r.errors > 0) return undefined;
  return { resource: res, hosts, gateways, http, tcp, tls, exportTo };
}

function checkMatchGateways(matches: unknown, gateways: string[], path: Path, r: ResourceReport): void {
  (Array.isArray(matches) ? matches : []).forEach((m: any, i: number) => {
    (Array.isArray(m?.gateways) ? m.gateways : []).forEach((g: unknown, j: number) => {
      if (!checkGatewayName(g, [...path, 'match', i, 'gateways', j], r)) return;
      if (!gateways.includes(resolveGateway(g as string, r.res.namespace)))
        r.warn([...path, 'match', i, 'gateways', j], `gateway ${g} is not among the VirtualService's gateways: this match never applies`);
    });
  });
}

function checkTcpRoute(t: any, path: Path, r: ResourceReport, gateways: string[]): void {
  if (!isPlainObject(t)) return;
  if (!Array.isArray(t.route) || t.route.length === 0) return r.error([...path, 'route'], 'TCP route is required');
  t.route.forEach((d: any, i: number) => checkDestination(d?.destination, [...path, 'route', i, 'destination'], r));
  checkWeights(t.route, [...path, 'route'], r);
  (Array.isArray(t.match) ? t.match : []).forEach((m: any, i: number) => {
    if (!isPlainObject(m)) return;
    (Array.isArray(m.destinationSubnets) ? m.destinationSubnets : []).forEach((s: unknown, j: number) => r.check([...path, 'match', i, 'destinationSubnets', j], addressOrCidrError(s)));
    if (m.port !== undefined && !isPort(m.port)) r.error([...path, 'match', i, 'port'], `invalid port ${JSON.stringify(m.port)} (1–65535)`);
  });
  checkMatchGateways(t.match, gateways, path, r);
}

/** Istio's validateTLSRoute: matches with SNI hosts that the VirtualService's hosts cover, and a route. */
function checkTlsRoute(t: any, path: Path, r: ResourceReport, gateways: string[], vsHosts: string[]): void {
  if (!isPlainObject(t)) return;
  if (!Array.isArray(t.match) || t.match.length === 0) r.error([...path, 'match'], 'TLS route must have at least one match condition');
  (Array.isArray(t.match) ? t.match : []).forEach((m: any, i: number) => {
    if (!isPlainObject(m)) return;
    const at = [...path, 'match', i];
    if (!Array.isArray(m.sniHosts) || m.sniHosts.length === 0) return r.error([...at, 'sniHosts'], 'TLS match must have at least one SNI host');
    m.sniHosts.forEach((h: unknown, j: number) => {
      if (r.check([...at, 'sniHosts', j], hostError(h, { wildcard: true, star: true }))) return;
      const sni = (h as string).toLowerCase();
      if (!vsHosts.some((v) => hostsOverlap(sni, v))) r.error([...at, 'sniHosts', j], `the SNI host ${sni} is not a match for any of the VirtualService's hosts`);
    });
    (Array.isArray(m.destinationSubnets) ? m.destinationSubnets : []).forEach((s: unknown, j: number) => r.check([...at, 'destinationSubnets', j], addressOrCidrError(s)));
    if (m.port !== undefined && !isPort(m.port)) r.error([...at, 'port'], `invalid port ${JSON.stringify(m.port)} (1–65535)`);
  });
  if (!Array.isArray(t.route) || t.route.length === 0) return r.error([...path, 'route'], 'TLS route is required');
  t.route.forEach((d: any, i: number) => checkDestination(d?.destination, [...path, 'route', i, 'destination'], r));
  checkWeights(t.route, [...path, 'route'], r);
  checkMatchGateways(t.match, gateways, path, r);
}
