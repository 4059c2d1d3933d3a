import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** What `legate inject` takes from its flags and the mesh config (Istio's injection values, the few Legate uses). */
export interface InjectOptions {
  image: string;
  /** `defaultConfig.holdApplicationUntilProxyStarts` of the mesh config (a pod's proxy.istio.io/config may override). */
  holdApplicationUntilProxyStarts: boolean;
  /** `defaultConfig.proxyMetadata`: becomes the sidecar's environment, as Istio does. */
  proxyMetadata: Record<string, string>;
  clusterId: string;
  meshId: string;
  trustDomain: string;
  /** The Istio CNI plugin sets up the pod's rules: no init container. */
  cni: boolean;
}

export const DEFAULT_IMAGE = 'legate:0.1.0';

export function defaultInjectOptions(): InjectOptions {
  return { image: DEFAULT_IMAGE, holdApplicationUntilProxyStarts: false, proxyMetadata: {}, clusterId: 'Kubernetes', meshId: 'cluster.local', trustDomain: 'cluster.local', cni: false };
}

/**
 * Reads a mesh config file as `istioctl kube-inject --meshConfigFile` does: either the `istio`
 * ConfigMap (its `data.mesh`) or the MeshConfig YAML itself.
 */
export function meshFromFile(path: string, into: InjectOptions): InjectOptions {
  let doc = parse(readFileSync(path, 'utf8')) as Record<string, any> | null;
  if (doc?.kind === 'ConfigMap') doc = parse(String(doc.data?.mesh ?? '')) as Record<string, any> | null;
  const dc = (doc?.defaultConfig ?? {}) as Record<string, any>;
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(dc.proxyMetadata ?? {})) metadata[k] = String(v);
  return {
    ...into,
    holdApplicationUntilProxyStarts: dc.holdApplicationUntilProxyStarts === true,
    proxyMetadata: metadata,
    clusterId: metadata.ISTIO_META_CLUSTER_ID ?? into.clusterId,
    meshId: typeof dc.meshId === 'string' ? dc.meshId : (typeof doc?.trustDomain === 'string' ? doc.trustDomain : into.meshId),
    trustDomain: typeof doc?.trustDomain === 'string' ? doc.trustDomain : into.trustDomain,
  };
}
