/** Where a workload kind keeps its pod template (metadata + spec), as a path into the document. */
const TEMPLATE_PATHS: Record<string, (string | number)[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The path to a document's pod template, or undefined for kinds that have none (they pass through). */
export function podTemplatePath(kind: unknown): (string | number)[] | undefined {
  return typeof kind === 'string' && Object.hasOwn(TEMPLATE_PATHS, kind) ? TEMPLATE_PATHS[kind] : undefined;
}

const RESOURCE_PLURALS: Record<string, string> = {
  Pod: 'pods', Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', ReplicaSet: 'replicasets',
  ReplicationController: 'replicationcontrollers', Job: 'jobs', CronJob: 'cronjobs',
};

/** Istio's ISTIO_META_OWNER: `kubernetes://apis/<group/version>/namespaces/<ns>/<plural>/<name>`. */
export function ownerUri(apiVersion: string, kind: string, namespace: string, name: string): string {
  return `kubernetes://apis/${apiVersion}/namespaces/${namespace}/${RESOURCE_PLURALS[kind] ?? kind.toLowerCase() + 's'}/${name}`;
}

/**
 * Why a pod template is not injected (undefined: inject it). Istio skips pods that say
 * `sidecar.istio.io/inject: "false"` (label or annotation) and host-network pods, whose
 * traffic a pod-level iptables cannot capture.
 */
export function skipReason(meta: Record<string, any>, spec: Record<string, any>): string | undefined {
  const flag = meta.labels?.['sidecar.istio.io/inject'] ?? meta.annotations?.['sidecar.istio.io/inject'];
  if (flag !== undefined && !['true', 'y', 'yes', 'on'].includes(String(flag).toLowerCase())) return 'sidecar.istio.io/inject is false';
  if (spec.hostNetwork === true) return 'hostNetwork';
  return undefined;
}

/** Already injected (ours or Istio's): the status annotation or a container named istio-proxy. */
export function alreadyInjected(meta: Record<string, any>, spec: Record<string, any>): boolean {
  if (meta.annotations?.['sidecar.istio.io/status'] !== undefined) return true;
  const named = (list: unknown) => Array.isArray(list) && list.some((c) => c?.name === 'istio-proxy');
  return named(spec.containers) || named(spec.initContainers);
}
