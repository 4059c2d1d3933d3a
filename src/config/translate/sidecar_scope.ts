import type { Reporter, ResourceReport } from './context.js';
import { hostError, isDns1123Label, isPlainObject, isPort } from '../validate/values.js';
import { hostSubsetOf, hostsOverlap, labelsMatch, resolveHost } from './hosts.js';
import { isProtocolName } from './service_entry.js';
import type { EgressHost, SidecarDef } from './types.js';

/** Validates a Sidecar resource. */
export function readSidecar(r: ResourceReport): SidecarDef | undefined {
  const spec = r.res.spec;
  if (!isPlainObject(spec)) {
    r.error(['spec'], 'spec is required');
    return undefined;
  }
  let egressHosts: EgressHost[] | undefined;
  if (Array.isArray(spec.egress)) {
    egressHosts = [];
    spec.egress.forEach((e: any, i: number) => {
      if (!isPlainObject(e)) return;
      if (!Array.isArray(e.hosts) || e.hosts.length === 0) return r.error(['spec', 'egress', i, 'hosts'], 'egress listener must have at least one host');
      if (e.port !== undefined) {
        if (!isPort(e.port?.number)) r.error(['spec', 'egress', i, 'port', 'number'], `invalid port ${JSON.stringify(e.port?.number)}`);
        else r.warn(['spec', 'egress', i, 'port'], 'per-port egress listeners are not implemented: the hosts apply to every port');
      }
      e.hosts.forEach((h: unknown, j: number) => {
        const at = ['spec', 'egress', i, 'hosts', j];
        if (typeof h !== 'string' || !h.includes('/')) return r.error(at, `egress host ${JSON.stringify(h)} must be namespace/dnsName (e.g. "./*", "istio-system/*")`);
        const [ns, host, extra] = h.split('/');
        if (extra !== undefined) return r.error(at, `egress host ${JSON.stringify(h)} has more than one "/"`);
        if (!(ns === '*' || ns === '.' || ns === '~' || isDns1123Label(ns))) return r.error(at, `invalid namespace ${JSON.stringify(ns)} in egress host`);
        if (r.check(at, hostError(host, { wildcard: true, star: true }))) return;
        // `.` is the workload's namespace (for a root-namespace Sidecar too), resolved per proxy.
        egressHosts!.push({ namespace: ns, host: host.toLowerCase() });
      });
    });
  }
  const ingress: SidecarDef['ingress'] = [];
  (Array.isArray(spec.ingress) ? spec.ingress : []).forEach((g: any, i: number) => {
    if (!isPlainObject(g)) return;
    const at = ['spec', 'ingress', i];
    if (!isPort(g.port?.number)) return r.error([...at, 'port', 'number'], `invalid port ${JSON.stringify(g.port?.number)}`);
    if (g.port.protocol !== undefined && !isProtocolName(g.port.protocol)) return r.error([...at, 'port', 'protocol'], `unknown protocol ${JSON.stringify(g.port.protocol)}`);
    const de = g.defaultEndpoint;
    if (de !== undefined && !(typeof de === 'string' && /^(127\.0\.0\.1|0\.0\.0\.0|\[::1?\]|unix:\/\/.+):\d+$|^unix:\/\//.test(de)))
      return r.error([...at, 'defaultEndpoint'], `defaultEndpoint ${JSON.stringify(de)} must be 127.0.0.1:PORT, 0.0.0.0:PORT or unix://path`);
    if (typeof de === 'string' && de.startsWith('unix://')) r.warn([...at, 'defaultEndpoint'], 'unix socket endpoints are not implemented');
    ingress.push({ port: g.port.number, protocol: String(g.port.protocol ?? 'TCP').toUpperCase(), name: String(g.port.name ?? ''), defaultEndpoint: de, index: i });
  });
  const mode = spec.outboundTrafficPolicy?.mode;
  if (mode !== undefined && mode !== 'ALLOW_ANY' && mode !== 'REGISTRY_ONLY') r.error(['spec', 'outboundTrafficPolicy', 'mode'], 'must be ALLOW_ANY or REGISTRY_ONLY');
  const sel = spec.workloadSelector?.labels;
  if (r.errors > 0) return undefined;
  return { resource: r.res, workloadSelector: isPlainObject(sel) ? { ...sel } : undefined, egressHosts, ingress, outboundTrafficPolicy: mode };
}

/**
 * The Sidecar that applies to a proxy, as Istio picks it: one in the proxy's namespace whose
 * workloadSelector matches the proxy's labels, else one there without a selector, else the
 * root namespace's one without a selector. Several candidates: the oldest wins (warned).
 */
export function selectSidecar(all: SidecarDef[], proxyNs: string, proxyLabels: Record<string, string>, rootNs: string, report: Reporter): SidecarDef | undefined {
  const tiers = [
    all.filter((s) => s.resource.namespace === proxyNs && s.workloadSelector && labelsMatch(s.workloadSelector, proxyLabels)),
    all.filter((s) => s.resource.namespace === proxyNs && !s.workloadSelector),
    all.filter((s) => s.resource.namespace === rootNs && !s.workloadSelector),
  ];
  for (const tier of tiers) {
    if (tier.length === 0) continue;
    for (const other of tier.slice(1))
      report.at(other.resource, ['metadata', 'name'], `another Sidecar (${tier[0].resource.namespace}/${tier[0].resource.name}) already applies to this workload: ignored`, 'warning');
    return tier[0];
  }
  return undefined;
}

/** Does a Sidecar's egress allow `host` defined in `namespace`? No Sidecar (or no egress) allows all. */
export function egressAllows(sidecar: SidecarDef | undefined, namespace: string, host: string, proxyNs: string): boolean {
  const hosts = sidecar?.egressHosts;
  if (!hosts) return true;
  for (const e of hosts) {
    if (e.namespace === '~') continue;
    const ns = e.namespace === '.' ? proxyNs : e.namespace;
    if (ns !== '*' && ns !== namespace) continue;
    if (e.host === '*' || hostSubsetOf(host, e.host) || (host.startsWith('*') && hostsOverlap(host, e.host))) return true;
  }
  return false;
}

export { resolveHost };
