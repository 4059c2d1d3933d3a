/**
 * Who this proxy is, for Istio's `source_*` (outbound) and `destination_*` (inbound) labels:
 * what Istio's injector puts in the proxy's node metadata (ISTIO_META_WORKLOAD_NAME,
 * POD_NAMESPACE, ISTIO_META_CLUSTER_ID, the pod's labels), with Istio's fallbacks.
 */
export interface ProxyIdentity {
  workloadName: string;
  namespace: string;
  /** Labels `app` and `version` as they are ('' when the pod has none, as Istio prints them). */
  app: string;
  version: string;
  canonicalName: string;
  canonicalRevision: string;
  clusterId: string;
  meshId: string;
}

export interface IdentityInput {
  podName?: string;
  workloadName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  clusterId?: string;
  meshId?: string;
}

/** Istio's default cluster and mesh names (istiod's `--clusterID` and MeshConfig `trustDomain` defaults). */
const DEFAULT_CLUSTER_ID = 'Kubernetes';
const DEFAULT_MESH_ID = 'cluster.local';

export function proxyIdentity(input: IdentityInput): ProxyIdentity {
  const labels = input.labels ?? {};
  const workloadName = input.workloadName || workloadFromPodName(input.podName ?? '');
  return {
    workloadName,
    namespace: input.namespace ?? '',
    app: labels.app ?? '',
    version: labels.version ?? '',
    // Istio's injector: canonical-name ← app.kubernetes.io/name ← app ← workload name;
    // canonical-revision ← app.kubernetes.io/version ← version ← "latest".
    canonicalName: labels['service.istio.io/canonical-name'] || labels['app.kubernetes.io/name'] || labels.app || workloadName,
    canonicalRevision: labels['service.istio.io/canonical-revision'] || labels['app.kubernetes.io/version'] || labels.version || 'latest',
    clusterId: input.clusterId || DEFAULT_CLUSTER_ID,
    meshId: input.meshId || DEFAULT_MESH_ID,
  };
}

/**
 * The controller's name from a pod name, as Istio guesses it when no workload name is given:
 * a Deployment's pod `reviews-v1-5d9f8c7b6d-x2kqz` → `reviews-v1` (ReplicaSet hash and pod
 * suffix dropped), a DaemonSet's or Job's `agent-x2kqz` → `agent`; anything else as it is.
 */
export function workloadFromPodName(pod: string): string {
  const parts = pod.split('-');
  const suffix = /^[bcdfghjklmnpqrstvwxz2456789]{5}$/;
  if (parts.length >= 3 && suffix.test(parts[parts.length - 1]) && /^[a-z0-9]{6,10}$/.test(parts[parts.length - 2])) return parts.slice(0, -2).join('-');
  if (parts.length >= 2 && suffix.test(parts[parts.length - 1])) return parts.slice(0, -1).join('-');
  return pod;
}
