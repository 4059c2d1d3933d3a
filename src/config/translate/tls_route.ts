import type { FilterChain } from '../model.js';
import { tcpProxy } from './destinations.js';
import { matchApplies } from './http_route.js';
import type { VirtualServiceDef } from './types.js';

export interface TlsRouteContext {
  port: number;
  /** `mesh` on a sidecar, `namespace/name` on a gateway. */
  gateway: string;
  proxyNamespace: string;
  proxyLabels: Record<string, string>;
  destination: (d: any, vsNamespace: string) => { cluster: string };
  tcpIdleTimeoutMs: number;
}

/**
 * Filter chains for a VirtualService's `tls[]` routes (Istio's TLS routes): one per applicable
 * match, matching the ClientHello's SNI (`sniHosts`, wildcards allowed) and optionally the
 * destination subnets, forwarding the still-encrypted bytes with tcp_proxy to the route's
 * weighted destinations. `narrow` maps each SNI host to what may be served here (a gateway
 * server's hosts), or drops it.
 */
export function tlsRouteChains(vs: VirtualServiceDef, ctx: TlsRouteContext, narrow: (sni: string) => string | undefined = (s) => s): FilterChain[] {
  const out: FilterChain[] = [];
  const ns = vs.resource.namespace;
  vs.tls.forEach((t, i) => {
    const matches: any[] = Array.isArray(t?.match) ? t.match : [];
    matches.forEach((m, j) => {
      if (!matchApplies(m, ctx, ns)) return;
      const serverNames = [...new Set((m.sniHosts as string[]).map((h) => narrow(h.toLowerCase())).filter((h): h is string => h !== undefined))];
      if (serverNames.length === 0) return;
      const targets = t.route.map((d: any) => ({ cluster: ctx.destination(d.destination, ns).cluster, weight: t.route.length === 1 ? 100 : (d.weight ?? 0) }));
      const subnets: string[] = Array.isArray(m.destinationSubnets) ? m.destinationSubnets : [];
      const match: FilterChain['match'] = { transportProtocol: 'tls', ...(serverNames.includes('*') ? {} : { serverNames }) };
      if (subnets.length) match.prefixRanges = [...subnets];
      out.push({ name: `${ns}/${vs.resource.name}.tls.${i}.${j}:${ctx.port}`, match, filters: [tcpProxy(`outbound_tls_${ctx.port}`, targets, ctx.tcpIdleTimeoutMs)] });
    });
  });
  return out;
}
