import type { ProxyRole } from '../../config/model.js';
import { structToPlain, type Json } from '../convert/values.js';

/** Who a connected proxy is, as far as translation cares (Istio's SidecarScope inputs). */
export interface NodeScope {
  id: string;
  role: ProxyRole;
  namespace: string;
  labels: Record<string, string>;
  dnsCapture?: boolean;
  dnsAutoAllocate?: boolean;
  /** Istio's `GENERATOR` metadata: `grpc` for proxyless gRPC clients (API listeners, not socket listeners). */
  generator: 'envoy' | 'grpc';
  /** Proxies with equal keys get the same configuration, so it is translated once for all of them. */
  key: string;
}

const flag = (v: unknown) => (v === undefined ? undefined : String(v) === 'true');

/**
 * Reads the node as istiod does: the role and namespace from the id
 * (`sidecar~10.0.0.5~app-1.default~default.svc.cluster.local`), the namespace, labels, DNS
 * flags and generator from the metadata (`NAMESPACE` wins over the id, as in Istio).
 */
export function nodeScope(node: Json): NodeScope {
  const id: string = node?.id ?? '';
  const parts = id.split('~');
  const meta = structToPlain(node?.metadata) as Record<string, unknown>;
  const role: ProxyRole = parts[0] === 'router' ? 'router' : 'sidecar';
  const fromId = parts[3]?.split('.')[0];
  const namespace = (typeof meta.NAMESPACE === 'string' && meta.NAMESPACE) || fromId || 'default';
  const labels: Record<string, string> = {};
  if (meta.LABELS && typeof meta.LABELS === 'object') for (const [k, v] of Object.entries(meta.LABELS)) labels[k] = String(v);
  const generator = meta.GENERATOR === 'grpc' || parts[0] === 'proxyless' ? 'grpc' : 'envoy';
  const dnsCapture = flag(meta.DNS_CAPTURE);
  const dnsAutoAllocate = flag(meta.DNS_AUTO_ALLOCATE);
  const sortedLabels = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const key = JSON.stringify([role, namespace, sortedLabels, dnsCapture, dnsAutoAllocate, generator]);
  return { id, role, namespace, labels, dnsCapture, dnsAutoAllocate, generator, key };
}
