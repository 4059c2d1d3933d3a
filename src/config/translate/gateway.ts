import type { Cluster, DownstreamTls, FilterChain, HttpConnectionManagerFilter, Listener, MeshSettings, RouteConfiguration } from '../model.js';
import type { Reporter, ResourceReport } from './context.js';
import { destinationResolver, hashPolicies, tcpProxy } from './destinations.js';
import { hostSubsetOf, labelsMatch } from './hosts.js';
import { matchApplies, virtualServiceRoutes, type RouteContext } from './http_route.js';
import type { ServiceView } from './registry.js';
import { blackholeVirtualHost, httpConnectionManager, ISTIO_SERVER_NAME, RouteConfigBuilder } from './route_config.js';
import { autoPassthroughChains, checkServerTls, passthroughChains, serverNameMatch } from './gateway_tls.js';

/** Istio leaves gateways at Envoy's defaults: stream_idle_timeout 5 min, no request headers timeout. */
const GATEWAY_HCM_TIMEOUTS = { streamIdleTimeoutMs: 300_000, requestHeadersTimeoutMs: 0 };
import { isHttpProtocol, isProtocolName, portProtocol } from './service_entry.js';
import type { GatewayDef, GatewayServerDef, VirtualServiceDef } from './types.js';
import { hostError, isDns1123Label, isPlainObject, isPort } from '../validate/values.js';

const SERVER_TLS_MODES = new Set(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']);

/**
 * Istio's gateways are edge proxies: the peer is the client (use_remote_address), with
 * gatewayTopology's trusted hops, and client certificates forwarded as gatewayTopology says;
 * responses say `server: istio-envoy`.
 */
function edgeHeaders(topology: MeshSettings['gatewayTopology']): Partial<HttpConnectionManagerFilter> {
  return {
    serverName: ISTIO_SERVER_NAME,
    useRemoteAddress: true,
    xffNumTrustedHops: topology.numTrustedProxies,
    forwardClientCertDetails: topology.forwardClientCertDetails,
    setCurrentClientCertDetails: { subject: true, cert: true, uri: true, dns: true },
  };
}

/** Validates a Gateway (Istio's ValidateGateway). */
export function readGateway(r: ResourceReport): GatewayDef | undefined {
  const res = r.res;
  const spec = res.spec;
  if (!isPlainObject(spec)) {
    r.error(['spec'], 'spec is required');
    return undefined;
  }
  if (!isDns1123Label(res.name)) r.error(['metadata', 'name'], `invalid gateway name ${JSON.stringify(res.name)} (a DNS label)`);
  if (!Array.isArray(spec.servers) || spec.servers.length === 0) r.error(['spec', 'servers'], 'gateway must have at least one server');
  const servers: GatewayServerDef[] = [];
  const portNames = new Set<string>();
  (Array.isArray(spec.servers) ? spec.servers : []).forEach((s: any, i: number) => {
    if (!isPlainObject(s)) return r.error(['spec', 'servers', i], 'server must be a mapping');
    const at = (...p: (string | number)[]) => ['spec', 'servers', i, ...p];
    const p = s.port;
    if (!isPlainObject(p)) return r.error(at('port'), 'port is required');
    if (!isPort(p.number)) r.error(at('port', 'number'), `invalid port ${JSON.stringify(p.number)} (1–65535)`);
    if (!isProtocolName(p.protocol)) r.error(at('port', 'protocol'), `invalid protocol ${JSON.stringify(p.protocol)} (HTTP, HTTPS, HTTP2, GRPC, TCP, TLS, MONGO, …)`);
    if (typeof p.name !== 'string' || p.name === '') r.error(at('port', 'name'), 'port name must be set');
    else if (portNames.has(p.name)) r.error(at('port', 'name'), `port names in servers must be unique: duplicate name ${p.name}`);
    else portNames.add(p.name);
    const hosts: GatewayServerDef['hosts'] = [];
    if (!Array.isArray(s.hosts) || s.hosts.length === 0) r.error(at('hosts'), 'server config must contain at least one host');
    else
      s.hosts.forEach((h: unknown, j: number) => {
        if (typeof h !== 'string') return r.error(at('hosts', j), `invalid host ${JSON.stringify(h)}`);
        const parts = h.split('/');
        if (parts.length > 2) return r.error(at('hosts', j), `host ${JSON.stringify(h)} must be dnsName or namespace/dnsName`);
        const [ns, host] = parts.length === 2 ? parts : ['*', parts[0]];
        if (!(ns === '*' || ns === '.' || isDns1123Label(ns))) return r.error(at('hosts', j), `invalid namespace ${JSON.stringify(ns)}`);
        if (r.check(at('hosts', j), hostError(host, { wildcard: true, star: true }))) return;
        hosts.push({ namespace: ns === '.' ? res.namespace : ns, host: host.toLowerCase() });
      });
    const protocol = isProtocolName(p.protocol) ? portProtocol({ protocol: p.protocol }) : 'TCP';
    const tls = s.tls;
    const isTls = protocol === 'HTTPS' || protocol === 'TLS';
    if (isTls && !isPlainObject(tls)) r.error(at('tls'), 'server must have TLS settings for HTTPS/TLS protocols');
    if (!isTls && isPlainObject(tls)) {
      const redirectOnly = Object.keys(tls).every((k) => k === 'httpsRedirect');
      if (!isHttpProtocol(protocol)) r.error(at('tls'), 'server cannot have TLS settings for non HTTPS/TLS ports');
      else if (!redirectOnly) r.error(at('tls'), 'server cannot have TLS settings for plain text HTTP ports');
    }
    if (isPlainObject(tls) && isTls) {
      const mode = tls.mode ?? 'PASSTHROUGH';
      if (!SERVER_TLS_MODES.has(mode)) r.error(at('tls', 'mode'), `unknown TLS mode ${JSON.stringify(mode)}`);
      if ((mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') && !tls.credentialName && !(Array.isArray(tls.credentialNames) && tls.credentialNames.length)) {
        if (!tls.serverCertificate) r.error(at('tls', 'serverCertificate'), `${mode} TLS requires serverCertificate (or credentialName)`);
        if (!tls.privateKey) r.error(at('tls', 'privateKey'), `${mode} TLS requires privateKey (or credentialName)`);
        if (mode !== 'SIMPLE' && !tls.caCertificates) r.error(at('tls', 'caCertificates'), `${mode} TLS requires caCertificates (or credentialName)`);
      }
      checkServerTls(tls, at, r);
    }
    if (isPort(p.number) && isProtocolName(p.protocol)) {
      servers.push({ index: i, port: { number: p.number, name: String(p.name ?? ''), protocol }, bind: typeof s.bind === 'string' ? s.bind : undefined, hosts, tls, name: s.name });
    }
  });
  const selector = isPlainObject(spec.selector) ? { ...spec.selector } : undefined;
  if (r.errors > 0) return undefined;
  return { resource: res, key: `${res.namespace}/${res.name}`, selector, servers };
}

/** Gateways that apply to a router proxy: those whose selector matches its labels (all, when it has none). */
export function selectGateways(all: GatewayDef[], labels: Record<string, string> | undefined): GatewayDef[] {
  if (!labels) return all;
  return all.filter((g) => labelsMatch(g.selector, labels));
}

/** Where a VirtualService host and a server host meet: the more specific of the two, or nothing. */
function intersect(vsHost: string, serverHost: string): string | undefined {
  if (hostSubsetOf(vsHost, serverHost)) return vsHost;
  if (hostSubsetOf(serverHost, vsHost)) return serverHost;
  return undefined;
}

export interface RouterInput {
  gateways: GatewayDef[];
  /** VirtualServices visible to the router's namespace, in age order. */
  virtualServices: VirtualServiceDef[];
  view: ServiceView;
  clusters: Map<string, Cluster>;
  proxyNamespace: string;
  proxyLabels: Record<string, string>;
  tcpIdleTimeoutMs: number;
  /** ProxyConfig gatewayTopology (trusted proxies in front, client certificate forwarding). */
  topology: MeshSettings['gatewayTopology'];
  report: Reporter;
}

/** What Istio's gateways offer on HTTPS servers is h2,http/1.1; until the HTTP/2 codec lands, only http/1.1. */
const HTTPS_ALPN = ['h2', 'http/1.1'];

function downstreamTls(t: any, alpn?: string[]): DownstreamTls | undefined {
  if (!isPlainObject(t)) return undefined;
  const out: DownstreamTls = { mode: t.mode ?? 'SIMPLE' };
  if (alpn) out.alpnProtocols = [...alpn];
  if (!t.credentialName && Array.isArray(t.credentialNames) && t.credentialNames.length) out.credentialName = t.credentialNames[0];
  for (const k of ['credentialName', 'serverCertificate', 'privateKey', 'caCertificates', 'minProtocolVersion', 'maxProtocolVersion'] as const) if (t[k]) out[k] = t[k];
  if (Array.isArray(t.subjectAltNames)) out.subjectAltNames = [...t.subjectAltNames];
  if (Array.isArray(t.cipherSuites)) out.cipherSuites = [...t.cipherSuites];
  return out;
}

/** Listeners and route configurations of an ingress/egress gateway, from its Gateways' servers. */
export function routerTranslate(input: RouterInput): { listeners: Listener[]; routes: RouteConfiguration[] } {
  const listeners = new Map<string, Listener>();
  const builders = new Map<string, RouteConfigBuilder>();
  const hash = hashPolicies(input.clusters);
  const plaintext = new Map<string, PlaintextKind>();
  for (const gw of input.gateways) {
    const bound = input.virtualServices.filter((vs) => vs.gateways.includes(gw.key));
    for (const server of gw.servers) {
      const { number: port, protocol } = server.port;
      const bind = server.bind ?? '0.0.0.0';
      const name = `${bind}_${port}`;
      const listener = listeners.get(name) ?? { name, address: { address: bind, port }, trafficDirection: 'OUTBOUND', bindToPort: true, useOriginalDst: false, filterChains: [] };
      listeners.set(name, listener);
      const tlsMode = server.tls?.mode ?? (protocol === 'HTTPS' || protocol === 'TLS' ? 'PASSTHROUGH' : undefined);
      const terminates = protocol === 'HTTPS' && tlsMode !== 'PASSTHROUGH' && tlsMode !== 'AUTO_PASSTHROUGH';
      if (isHttpProtocol(protocol) || terminates) {
        if (!terminates && !claimPlaintext(plaintext, name, 'HTTP', gw, server, input.report)) continue;
        const rcName = terminates ? `https.${port}.${server.port.name}.${gw.resource.name}.${gw.resource.namespace}` : `http.${port}`;
        let rc = builders.get(rcName);
        if (!rc) {
          rc = new RouteConfigBuilder(rcName);
          builders.set(rcName, rc);
          const chain: FilterChain = { name: rcName, match: {}, filters: [{ ...httpConnectionManager(rcName, terminates ? `outbound_${name}_https` : `outbound_${name}`, GATEWAY_HCM_TIMEOUTS), ...edgeHeaders(input.topology) }] };
          if (terminates) {
            chain.match = serverNameMatch(server);
            chain.tls = downstreamTls(server.tls, HTTPS_ALPN);
          }
          listener.filterChains.push(chain);
        }
        addGatewayVirtualHosts(rc, gw, server, bound, input, hash);
      } else if (tlsMode === 'PASSTHROUGH') {
        const chains = passthroughChains(gw, server, bound, input, serverAllows);
        listener.filterChains.push(...chains);
        if (chains.length === 0) input.report.at(gw.resource, ['spec', 'servers', server.index], `no VirtualService tls route is bound to this PASSTHROUGH server: connections to port ${port} are closed`, 'warning');
      } else if (tlsMode === 'AUTO_PASSTHROUGH') {
        const allowed = (host: string) => server.hosts.some((h) => hostSubsetOf(host, h.host));
        listener.filterChains.push(...autoPassthroughChains(server, input.clusters.keys(), input.tcpIdleTimeoutMs, allowed));
      } else {
        const chain = gatewayTcpChain(gw, server, bound, input);
        if (chain && protocol === 'TLS') {
          // A TLS server that terminates (SIMPLE, MUTUAL): its tcp routes get the decrypted bytes.
          chain.match = serverNameMatch(server);
          chain.tls = downstreamTls(server.tls);
          chain.name = `${chain.name}.${server.port.name}`;
        }
        if (!chain) input.report.at(gw.resource, ['spec', 'servers', server.index], `no VirtualService tcp route is bound to this ${protocol} server: connections to port ${port} are closed`, 'warning');
        // Terminating TLS servers are told apart by SNI; plaintext TCP servers claim the port.
        else if (protocol === 'TLS' || claimPlaintext(plaintext, name, 'TCP', gw, server, input.report)) listener.filterChains.push(chain);
      }
    }
  }
  const routes: RouteConfiguration[] = [];
  for (const rc of builders.values()) routes.push(rc.build());
  return { listeners: [...listeners.values()], routes };
}

/** What serves a listener's plaintext (match-all) chain: HTTP servers share one, a TCP server needs it alone. */
type PlaintextKind = 'HTTP' | 'TCP';

/** Istio keeps the first server of a port and drops a later one whose protocol conflicts with it. */
function claimPlaintext(claims: Map<string, PlaintextKind>, listener: string, kind: PlaintextKind, gw: GatewayDef, server: GatewayServerDef, report: Reporter): boolean {
  const held = claims.get(listener);
  if (held === undefined) claims.set(listener, kind);
  else if (held === 'TCP' || kind === 'TCP') {
    report.at(gw.resource, ['spec', 'servers', server.index, 'port'], `port ${server.port.number} is already served as ${held} by another server: this ${server.port.protocol} server is ignored`, 'warning');
    return false;
  }
  return true;
}

function serverAllows(server: GatewayServerDef, vs: VirtualServiceDef, vsHost: string): string | undefined {
  for (const h of server.hosts) {
    if (h.namespace !== '*' && h.namespace !== vs.resource.namespace) continue;
    const meet = intersect(vsHost, h.host);
    if (meet) return meet;
  }
  return undefined;
}

function addGatewayVirtualHosts(rc: RouteConfigBuilder, gw: GatewayDef, server: GatewayServerDef, bound: VirtualServiceDef[], input: RouterInput, hash: RouteContext['hashPolicyFor']): void {
  const port = server.port.number;
  const ctx: RouteContext = { port, gateway: gw.key, proxyNamespace: input.proxyNamespace, proxyLabels: input.proxyLabels, destination: destinationResolver(input.view, port), hashPolicyFor: hash };
  const requireTls = server.tls?.httpsRedirect === true ? ({ requireTls: 'ALL' } as const) : {};
  let any = false;
  for (const vs of bound) {
    const routes = virtualServiceRoutes(vs, ctx);
    if (routes.length === 0) continue;
    for (const vsHost of vs.hosts) {
      const host = serverAllows(server, vs, vsHost);
      if (!host) continue;
      any = true;
      const vhName = `${host}:${port}`;
      if (rc.has(vhName)) rc.appendRoutes(vhName, routes.map((r) => ({ ...r })));
      else rc.add({ name: vhName, domains: host === '*' ? ['*'] : [host, `${host}:${port}`], routes: [...routes], includeRequestAttemptCount: true, ...requireTls });
    }
  }
  if (!any && !rc.has(`blackhole:${port}`)) rc.add(blackholeVirtualHost(port));
}

function gatewayTcpChain(gw: GatewayDef, server: GatewayServerDef, bound: VirtualServiceDef[], input: RouterInput): FilterChain | undefined {
  const port = server.port.number;
  const ctx = { port, gateway: gw.key, proxyNamespace: input.proxyNamespace, proxyLabels: input.proxyLabels };
  for (const vs of bound) {
    if (!vs.hosts.some((h) => serverAllows(server, vs, h))) continue;
    for (const t of vs.tcp) {
      const matches: any[] = Array.isArray(t.match) && t.match.length > 0 ? t.match : [undefined];
      if (!matches.some((m) => matchApplies(m, ctx, vs.resource.namespace))) continue;
      const resolve = destinationResolver(input.view, port);
      const targets = t.route.map((d: any) => ({ cluster: resolve(d.destination, vs.resource.namespace).cluster, weight: t.route.length === 1 ? 100 : d.weight ?? 0 }));
      const proxy = tcpProxy(`outbound_${gw.key}_${port}`, targets, input.tcpIdleTimeoutMs);
      return { name: `${gw.key}:${port}`, match: {}, filters: [proxy] };
    }
  }
  return undefined;
}
