import type { FilterChain, FilterChainMatch } from '../model.js';
import type { ResourceReport } from './context.js';
import { destinationResolver, tcpProxy } from './destinations.js';
import type { ServiceView } from './registry.js';
import { tlsRouteChains } from './tls_route.js';
import type { GatewayDef, GatewayServerDef, VirtualServiceDef } from './types.js';
import { TLS_VERSIONS } from '../../tls/gateway_context.js';

type At = (...p: (string | number)[]) => (string | number)[];

/** Istio's gateway TLS checks beyond the mode: known protocol versions, min ≤ max, cipher names. */
export function checkServerTls(tls: any, at: At, r: ResourceReport): void {
  const order = Object.keys(TLS_VERSIONS);
  for (const k of ['minProtocolVersion', 'maxProtocolVersion'] as const) {
    if (tls[k] !== undefined && !order.includes(tls[k])) r.error(at('tls', k), `unknown TLS version ${JSON.stringify(tls[k])} (${order.join(', ')})`);
  }
  const min = order.indexOf(tls.minProtocolVersion);
  const max = order.indexOf(tls.maxProtocolVersion);
  if (min > 0 && max > 0 && min > max) r.error(at('tls', 'maxProtocolVersion'), `maxProtocolVersion ${tls.maxProtocolVersion} is lower than minProtocolVersion ${tls.minProtocolVersion}`);
  (Array.isArray(tls.cipherSuites) ? tls.cipherSuites : []).forEach((c: unknown, i: number) => {
    if (typeof c !== 'string' || !/^[A-Za-z0-9_-]+$/.test(c)) r.error(at('tls', 'cipherSuites', i), `invalid cipher suite ${JSON.stringify(c)}`);
  });
  if (Array.isArray(tls.credentialNames) && tls.credentialNames.length > 1) r.warn(at('tls', 'credentialNames'), 'only the first of credentialNames is served (no RSA + ECDSA pair yet)');
  if (tls.mode === 'SIMPLE' && (tls.subjectAltNames || tls.caCertificates)) r.warn(at('tls'), 'SIMPLE does not verify clients: caCertificates and subjectAltNames apply to MUTUAL');
  for (const k of ['verifyCertificateSpki', 'verifyCertificateHash']) if (tls[k]) r.warn(at('tls', k), `${k} is not implemented: ignored`);
}

/**
 * The SNI a terminating server answers to (Istio: its hosts as server_names; a `*` host takes
 * every name and clients without SNI). More specific names win over wildcards and catch-alls
 * (listener_table), so several servers on one port each serve their own certificate.
 */
export function serverNameMatch(server: GatewayServerDef): FilterChainMatch {
  const names = [...new Set(server.hosts.map((h) => h.host))];
  return names.includes('*') ? { transportProtocol: 'tls' } : { transportProtocol: 'tls', serverNames: names };
}

export interface PassthroughInput {
  view: ServiceView;
  proxyNamespace: string;
  proxyLabels: Record<string, string>;
  tcpIdleTimeoutMs: number;
}

/**
 * A PASSTHROUGH server: the tls routes of the VirtualServices bound to the gateway, each SNI
 * host narrowed to what the server's hosts allow. Connections whose SNI matches none find no
 * chain and are closed, as on Istio's gateways.
 */
export function passthroughChains(gw: GatewayDef, server: GatewayServerDef, bound: VirtualServiceDef[], input: PassthroughInput, allows: (server: GatewayServerDef, vs: VirtualServiceDef, host: string) => string | undefined): FilterChain[] {
  const port = server.port.number;
  const ctx = { port, gateway: gw.key, proxyNamespace: input.proxyNamespace, proxyLabels: input.proxyLabels, destination: destinationResolver(input.view, port), tcpIdleTimeoutMs: input.tcpIdleTimeoutMs };
  const out: FilterChain[] = [];
  for (const vs of bound) out.push(...tlsRouteChains(vs, ctx, (sni) => allows(server, vs, sni)));
  return out;
}

/**
 * AUTO_PASSTHROUGH (Istio's east-west gateways): the client names the cluster in its SNI,
 * `outbound_.<port>_.<subset>_.<host>`, and the gateway forwards the still-encrypted bytes
 * to that cluster — one chain per outbound cluster whose host the server's hosts allow.
 */
export function autoPassthroughChains(server: GatewayServerDef, clusterNames: Iterable<string>, tcpIdleTimeoutMs: number, hostAllowed: (host: string) => boolean): FilterChain[] {
  const out: FilterChain[] = [];
  for (const name of clusterNames) {
    const [direction, port, subset, host] = name.split('|');
    if (direction !== 'outbound' || !host || !hostAllowed(host)) continue;
    const sni = `outbound_.${port}_.${subset}_.${host}`;
    out.push({ name: `${sni}:${server.port.number}`, match: { transportProtocol: 'tls', serverNames: [sni] }, filters: [tcpProxy(name, [{ cluster: name, weight: 100 }], tcpIdleTimeoutMs)] });
  }
  return out;
}
