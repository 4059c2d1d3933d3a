import type { Reporter, ResourceReport } from './context.js';
import type { Resource } from '../resources.js';
import { isPlainObject, isPort } from '../validate/values.js';
import { labelsMatch } from './hosts.js';

/** PeerAuthentication's mtls.mode. UNSET inherits from the next wider policy. */
export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';
const MODES = new Set<MtlsMode>(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);

export interface PeerAuthenticationDef {
  resource: Resource;
  selector?: Record<string, string>;
  mode: MtlsMode;
  portLevel: Map<number, MtlsMode>;
}

/** What a sidecar's inbound accepts: one mode for every port, and the ports that differ. */
export interface InboundMtls {
  mode: Exclude<MtlsMode, 'UNSET'>;
  ports: Map<number, Exclude<MtlsMode, 'UNSET'>>;
}

/** Validates a PeerAuthentication (security.istio.io/v1, v1beta1). */
export function readPeerAuthentication(r: ResourceReport): PeerAuthenticationDef | undefined {
  const spec = r.res.spec ?? {};
  if (!isPlainObject(spec)) {
    r.error(['spec'], 'spec must be a map');
    return undefined;
  }
  const modeOf = (v: unknown, path: (string | number)[]): MtlsMode => {
    if (v === undefined) return 'UNSET';
    if (typeof v === 'string' && MODES.has(v as MtlsMode)) return v as MtlsMode;
    r.error(path, `must be one of UNSET, DISABLE, PERMISSIVE, STRICT, got ${JSON.stringify(v)}`);
    return 'UNSET';
  };
  const mode = modeOf(spec.mtls?.mode, ['spec', 'mtls', 'mode']);
  const portLevel = new Map<number, MtlsMode>();
  const selector = isPlainObject(spec.selector?.matchLabels) ? (spec.selector.matchLabels as Record<string, string>) : undefined;
  if (isPlainObject(spec.portLevelMtls)) {
    for (const [k, v] of Object.entries(spec.portLevelMtls as Record<string, { mode?: unknown }>)) {
      const port = Number(k);
      if (!/^\d+$/.test(k) || !isPort(port)) r.error(['spec', 'portLevelMtls', k], `invalid port ${JSON.stringify(k)}`);
      else portLevel.set(port, modeOf(v?.mode, ['spec', 'portLevelMtls', k, 'mode']));
    }
    // As istiod: port-level settings need a workload selector (they name the workload's ports).
    if (!selector && portLevel.size > 0) r.warn(['spec', 'portLevelMtls'], 'portLevelMtls applies only to a policy with a selector: ignored');
  }
  if (r.errors > 0) return undefined;
  return { resource: r.res, selector, mode, portLevel: selector ? portLevel : new Map() };
}

/**
 * The proxy's effective inbound mTLS, as istiod computes it: a workload policy (selector
 * matching the proxy's labels, in its namespace) over the namespace's (no selector) over the
 * mesh-wide one (root namespace, no selector); UNSET inherits, and nothing at all is
 * PERMISSIVE. Several at one level: the oldest wins (the defs come oldest first), warned.
 */
export function effectiveInboundMtls(all: readonly PeerAuthenticationDef[], proxyNs: string, labels: Readonly<Record<string, string>>, rootNs: string, report: Reporter): InboundMtls {
  const pick = (candidates: PeerAuthenticationDef[]): PeerAuthenticationDef | undefined => {
    for (const extra of candidates.slice(1)) report.at(extra.resource, ['metadata', 'name'], `another PeerAuthentication applies here too (${candidates[0].resource.namespace}/${candidates[0].resource.name}, older, wins): ignored for this proxy`, 'warning');
    return candidates[0];
  };
  const mesh = pick(all.filter((p) => p.resource.namespace === rootNs && !p.selector));
  const namespace = proxyNs === rootNs ? undefined : pick(all.filter((p) => p.resource.namespace === proxyNs && !p.selector));
  const workload = pick(all.filter((p) => p.resource.namespace === proxyNs && p.selector && Object.keys(p.selector).length > 0 && labelsMatch(p.selector, labels)));
  let mode: InboundMtls['mode'] = 'PERMISSIVE';
  for (const p of [mesh, namespace, workload]) if (p && p.mode !== 'UNSET') mode = p.mode;
  const ports = new Map<number, InboundMtls['mode']>();
  for (const [port, m] of workload?.portLevel ?? []) if (m !== 'UNSET' && m !== mode) ports.set(port, m);
  return { mode, ports };
}
