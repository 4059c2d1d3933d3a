import { hostname } from 'node:os';
import { plainToStruct, type Json } from './convert/values.js';

export interface NodeIdentity {
  /** Istio's `sidecar~<IP>~<pod>.<namespace>~<namespace>.svc.cluster.local` (`router~…` for gateways). */
  id: string;
  /** Istio's cluster: the workload's service name, `istio-proxy` without one. */
  cluster: string;
  metadata: Record<string, unknown>;
}

/**
 * The node istiod sees, built as pilot-agent builds it: the id from the role, the first
 * instance IP, pod name and namespace; the metadata from every `ISTIO_META_*` variable (name
 * without the prefix) plus the fields istiod reads for scoping and DNS.
 */
export function nodeIdentity(role: 'sidecar' | 'router', env: NodeJS.ProcessEnv, overrides: { namespace?: string; labels?: Record<string, string>; dnsCapture?: boolean; dnsAutoAllocate?: boolean } = {}): NodeIdentity {
  const namespace = overrides.namespace ?? env.POD_NAMESPACE ?? 'default';
  const pod = env.POD_NAME ?? hostname();
  const ips = (env.INSTANCE_IPS ?? env.INSTANCE_IP ?? '127.0.0.1').split(',').map((s) => s.trim()).filter(Boolean);
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('ISTIO_META_') && v !== undefined) metadata[k.slice('ISTIO_META_'.length)] = v;
  metadata.NAMESPACE = namespace;
  metadata.INSTANCE_IPS = ips.join(',');
  metadata.NAME = pod;
  if (overrides.labels && Object.keys(overrides.labels).length > 0) metadata.LABELS = overrides.labels;
  if (overrides.dnsCapture !== undefined) metadata.DNS_CAPTURE = String(overrides.dnsCapture);
  if (overrides.dnsAutoAllocate !== undefined) metadata.DNS_AUTO_ALLOCATE = String(overrides.dnsAutoAllocate);
  metadata.PROXY_CONFIG ??= {};
  const cluster = env.ISTIO_META_WORKLOAD_NAME ?? (overrides.labels?.app ? `${overrides.labels.app}.${namespace}` : 'istio-proxy');
  return { id: `${role}~${ips[0]}~${pod}.${namespace}~${namespace}.svc.cluster.local`, cluster, metadata };
}

/** The node as an envoy.config.core.v3.Node (protobufjs object form). */
export function nodeMessage(n: NodeIdentity): Json {
  return { id: n.id, cluster: n.cluster, metadata: plainToStruct(n.metadata), user_agent_name: 'legate', user_agent_version: '0.1.0' };
}
