import type { Cluster } from '../config/model.js';
import type { Destination } from '../listener/listener_table.js';

export interface UpstreamHost {
  address: string;
  port: number;
}

/**
 * A worker's view of one cluster: its hosts and this thread's load-balancer state. Rebuilt
 * when a snapshot arrives; connections already running keep the hosts they picked.
 * (LEAST_REQUEST, subsets, health and circuit breaking come with the clusters work; until
 * then STATIC/EDS clusters use smooth weighted round robin, which spreads a heavy host's
 * turns out instead of sending them in a burst.)
 */
export class ThreadLocalCluster {
  private readonly hosts: UpstreamHost[];
  private readonly weights: number[];
  private readonly current: number[];
  private readonly totalWeight: number;

  constructor(readonly config: Cluster) {
    this.hosts = config.endpoints.map((e) => ({ address: e.address, port: e.port }));
    this.weights = config.endpoints.map((e) => Math.max(1, e.weight));
    this.current = this.weights.map(() => 0);
    this.totalWeight = this.weights.reduce((a, b) => a + b, 0);
  }

  /** The host for a new connection, or undefined when the cluster has none (Envoy's "no healthy upstream"). */
  chooseHost(dst: Destination): UpstreamHost | undefined {
    if (this.config.type === 'ORIGINAL_DST') {
      return { address: this.config.originalDstOverrideAddress ?? dst.address, port: dst.port };
    }
    const n = this.hosts.length;
    if (n === 0) return undefined;
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.current[i] += this.weights[i];
      if (this.current[i] > this.current[best]) best = i;
    }
    this.current[best] -= this.totalWeight;
    return this.hosts[best];
  }
}

export class ClusterTable {
  private readonly clusters = new Map<string, ThreadLocalCluster>();
  constructor(clusters: readonly Cluster[]) {
    for (const c of clusters) this.clusters.set(c.name, new ThreadLocalCluster(c));
  }
  get(name: string): ThreadLocalCluster | undefined {
    return this.clusters.get(name);
  }
}
