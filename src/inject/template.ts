import type { InjectOptions } from './options.js';

/** The pod and workload facts the injected containers are built from. */
export interface PodFacts {
  annotations: Record<string, string>;
  workloadName: string;
  owner: string;
  appContainers: string[];
  /** The app containers' declared ports (Istio's ISTIO_META_POD_PORTS). */
  podPorts: unknown[];
  proxyConfig: Record<string, any>;
}

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

/** istio-iptables' flags from the pod's `traffic.sidecar.istio.io/*` annotations, with Istio's defaults. */
export function iptablesArgs(a: Record<string, string>, mode: string): string[] {
  const inboundPorts = a['traffic.sidecar.istio.io/includeInboundPorts'] ?? '*';
  const excludeInbound = ['15090', '15021', '15020', ...(a['traffic.sidecar.istio.io/excludeInboundPorts'] ?? '').split(',').filter(Boolean)];
  const args = ['iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', mode,
    '-i', a['traffic.sidecar.istio.io/includeOutboundIPRanges'] ?? '*',
    '-x', a['traffic.sidecar.istio.io/excludeOutboundIPRanges'] ?? '',
    '-b', inboundPorts, '-d', excludeInbound.join(',')];
  const excludeOutboundPorts = a['traffic.sidecar.istio.io/excludeOutboundPorts'];
  if (excludeOutboundPorts) args.push('-o', excludeOutboundPorts);
  return args;
}

/** Istio's istio-init: root with NET_ADMIN/NET_RAW only for as long as it writes the rules. */
export function initContainer(opts: InjectOptions, facts: PodFacts, mode: string): Record<string, unknown> {
  return {
    name: 'istio-init',
    image: opts.image,
    args: iptablesArgs(facts.annotations, mode),
    resources: { requests: { cpu: '10m', memory: '40Mi' }, limits: { cpu: '2', memory: '1Gi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: false,
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    },
  };
}

/** Requests/limits from Istio's resource annotations over Istio's defaults. */
function proxyResources(a: Record<string, string>): Record<string, unknown> {
  return {
    requests: { cpu: a['sidecar.istio.io/proxyCPU'] ?? '100m', memory: a['sidecar.istio.io/proxyMemory'] ?? '128Mi' },
    limits: { cpu: a['sidecar.istio.io/proxyCPULimit'] ?? '2', memory: a['sidecar.istio.io/proxyMemoryLimit'] ?? '1Gi' },
  };
}

export const VOLUME_MOUNTS = [
  { name: 'workload-socket', mountPath: '/var/run/secrets/workload-spiffe-uds' },
  { name: 'credential-socket', mountPath: '/var/run/secrets/credential-uds' },
  { name: 'workload-certs', mountPath: '/var/run/secrets/workload-spiffe-credentials' },
  { name: 'istiod-ca-cert', mountPath: '/var/run/secrets/istio' },
  { name: 'istio-data', mountPath: '/var/lib/istio/data' },
  { name: 'istio-envoy', mountPath: '/etc/istio/proxy' },
  { name: 'istio-token', mountPath: '/var/run/secrets/tokens' },
  { name: 'istio-podinfo', mountPath: '/etc/istio/pod' },
  { name: 'istio-config', mountPath: '/etc/istio/config', readOnly: true },
];

/** Istio's sidecar volumes, plus the `istio` ConfigMap the proxy reads its configuration from. */
export function volumes(): Record<string, unknown>[] {
  return [
    { name: 'workload-socket', emptyDir: {} },
    { name: 'credential-socket', emptyDir: {} },
    { name: 'workload-certs', emptyDir: {} },
    { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
    { name: 'istio-data', emptyDir: {} },
    {
      name: 'istio-podinfo',
      downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] },
    },
    { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
    { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
    { name: 'istio-config', configMap: { name: 'istio', optional: true } },
  ];
}

/** The istio-proxy container running `legate proxy sidecar` as uid 1337. */
export function sidecarContainer(
  opts: InjectOptions,
  facts: PodFacts,
  interceptionMode: string,
  status: { probers: Record<string, unknown>; appScrape: string | undefined },
  native: boolean,
): Record<string, unknown> {
  const env: Record<string, unknown>[] = [
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('INSTANCE_IP', 'status.podIP'),
    fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    fieldEnv('HOST_IP', 'status.hostIP'),
    { name: 'ISTIO_CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
    { name: 'PROXY_CONFIG', value: JSON.stringify(facts.proxyConfig) },
    { name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(facts.podPorts) },
    { name: 'ISTIO_META_APP_CONTAINERS', value: facts.appContainers.join(',') },
    { name: 'ISTIO_META_CLUSTER_ID', value: opts.clusterId },
    fieldEnv('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: interceptionMode },
    { name: 'ISTIO_META_WORKLOAD_NAME', value: facts.workloadName },
    { name: 'ISTIO_META_OWNER', value: facts.owner },
    { name: 'ISTIO_META_MESH_ID', value: opts.meshId },
    { name: 'TRUST_DOMAIN', value: opts.trustDomain },
  ];
  // proxyMetadata is the operator's override of the same-named defaults (one entry per name).
  for (const [name, value] of Object.entries(opts.proxyMetadata)) {
    const at = env.findIndex((e) => e.name === name);
    if (at >= 0) env[at] = { name, value };
    else env.push({ name, value });
  }
  if (status.appScrape) env.push({ name: 'ISTIO_PROMETHEUS_ANNOTATIONS', value: status.appScrape });
  if (Object.keys(status.probers).length > 0) env.push({ name: 'ISTIO_KUBE_APP_PROBERS', value: JSON.stringify(status.probers) });
  const readiness = { httpGet: { path: '/healthz/ready', port: 15021 }, initialDelaySeconds: 0, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 };
  return {
    name: 'istio-proxy',
    image: opts.image,
    args: ['proxy', 'sidecar', '--config', '/etc/istio/config', ...(interceptionMode === 'TPROXY' ? ['--tproxy'] : [])],
    ports: [
      { containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' },
      { containerPort: 15021, name: 'status-port', protocol: 'TCP' },
    ],
    env,
    resources: proxyResources(facts.annotations),
    readinessProbe: readiness,
    // A native sidecar holds the app back until its startup probe passes (Istio's choice).
    ...(native && { startupProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 } }),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], ...(interceptionMode === 'TPROXY' && { add: ['NET_ADMIN'] }) },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: 1337,
      runAsNonRoot: interceptionMode !== 'TPROXY',
      runAsUser: 1337,
    },
    volumeMounts: VOLUME_MOUNTS,
  };
}

/** Istio's holdApplicationUntilProxyStarts hook: the kubelet starts the next container only once this returns. */
export const WAIT_FOR_PROXY = { postStart: { exec: { command: ['legate', 'wait'] } } };
