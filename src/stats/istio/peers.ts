import type { Cluster } from '../../config/model.js';
import type { ProxyIdentity } from './identity.js';

/** The clusters Istio names by themselves in `destination_service_name`. */
const SPECIAL_CLUSTERS = new Set(['BlackHoleCluster', 'PassthroughCluster', 'InboundPassthroughCluster', 'InboundPassthroughClusterIpv4', 'InboundPassthroughClusterIpv6']);

export type Reporter = 'source' | 'destination';

/** Istio's inbound clusters (`inbound|port||`, InboundPassthroughCluster*) report as the destination. */
export function reporterOf(clusterName: string): Reporter {
  return clusterName.startsWith('inbound|') || clusterName.startsWith('InboundPassthroughCluster') ? 'destination' : 'source';
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * The labels that are fixed for one cluster, in the order Istio's stats filter adds them:
 * reporter, then the peer labels (source_* then destination_*). Without peer metadata
 * exchange (no mTLS yet) the other side is `unknown`, as Istio prints it then; the
 * destination service and its namespace come from the cluster's service (Istio's cluster
 * metadata). `cluster` undefined: the request never reached a cluster (no route).
 */
export function peerLabels(id: ProxyIdentity, reporter: Reporter, clusterName: string | undefined, cluster: Cluster | undefined): string {
  const svc = cluster?.service;
  const special = clusterName !== undefined && SPECIAL_CLUSTERS.has(clusterName) ? clusterName : undefined;
  const u = 'unknown';
  const pairs: [string, string][] =
    reporter === 'source'
      ? [
          ['reporter', 'source'],
          ['source_workload', id.workloadName],
          ['source_canonical_service', id.canonicalName],
          ['source_canonical_revision', id.canonicalRevision],
          ['source_workload_namespace', id.namespace],
          ['source_principal', u],
          ['source_app', id.app],
          ['source_version', id.version],
          ['source_cluster', id.clusterId],
          ['destination_workload', u],
          ['destination_workload_namespace', u],
          ['destination_principal', u],
          ['destination_app', u],
          ['destination_version', u],
          ['destination_service', svc?.host ?? u],
          ['destination_canonical_service', u],
          ['destination_canonical_revision', 'latest'],
          // A ServiceEntry's service is named by its host in Istio's registry.
          ['destination_service_name', special ?? svc?.host ?? u],
          ['destination_service_namespace', svc?.namespace ?? u],
          ['destination_cluster', u],
        ]
      : [
          ['reporter', 'destination'],
          ['source_workload', u],
          ['source_canonical_service', u],
          ['source_canonical_revision', 'latest'],
          ['source_workload_namespace', u],
          ['source_principal', u],
          ['source_app', u],
          ['source_version', u],
          ['source_cluster', u],
          ['destination_workload', id.workloadName],
          ['destination_workload_namespace', id.namespace],
          ['destination_principal', u],
          ['destination_app', id.app],
          ['destination_version', id.version],
          ['destination_service', svc?.host ?? id.canonicalName],
          ['destination_canonical_service', id.canonicalName],
          ['destination_canonical_revision', id.canonicalRevision],
          ['destination_service_name', special ?? svc?.host ?? id.canonicalName],
          ['destination_service_namespace', id.namespace],
          ['destination_cluster', id.clusterId],
        ];
  return pairs.map(([k, v]) => `${k}="${esc(v)}"`).join(',');
}

/**
 * Peer numbers, assigned on the main thread: one per distinct label text, so a cluster whose
 * service changes gets a new number and old series keep their labels.
 */
export class IstioPeers {
  private readonly byLabels = new Map<string, number>();
  private readonly labels: string[] = [];

  constructor(readonly identity: ProxyIdentity) {}

  peer(reporter: Reporter, clusterName: string | undefined, cluster: Cluster | undefined): number {
    const text = peerLabels(this.identity, reporter, clusterName, cluster);
    let n = this.byLabels.get(text);
    if (n === undefined) {
      n = this.labels.push(text) - 1;
      this.byLabels.set(text, n);
    }
    return n;
  }

  labelsOf(peer: number): string | undefined {
    return this.labels[peer];
  }
}
