import { isIP } from 'node:net';
import type { Cluster } from '../config/model.js';
import type { Destination } from '../listener/listener_table.js';
import { Host } from './host.js';
import { applyToState, dnsClusterKey, hostKey, isDnsCluster, type DnsHostState, type HostUpdate } from './host_update.js';

/**
 * A worker's view of one cluster: its hosts and this thread's load-balancer state. Rebuilt
 * when a snapshot arrives; connections already running keep the hosts they picked.
 * (LEAST_REQUEST, subsets, health and circuit breaking come with the clusters work; until
 * then STATIC/EDS clusters use smooth weighted round robin, which spreads a heavy host's
 * turns out instead of sending them in a burst.)
 */
export class ThreadLocalCluster {
  private hosts: Host[] = [];
  private weights: number[] = [];
  private current: number[] = [];
  private totalWeight = 0;
  /** STRICT_DNS / LOGICAL_DNS: the resolved set the main thread pushed (src/cluster/host_update.ts). */
  readonly dnsKey: string | undefined;
  dns: DnsHostState | undefined;
  /** Called with `address:port` keys a DNS update removed, so connection pools can drain them. */
  onHostsRemoved: ((removed: string[]) => void) | undefined;

  constructor(readonly config: Cluster) {
    // A DNS cluster's hostnames are never resolved here: until the main thread's first
    // resolution arrives, only endpoints given as IP addresses are usable.
    this.dnsKey = isDnsCluster(config) ? dnsClusterKey(config) : undefined;
    this.setHosts(this.dnsKey === undefined ? config.endpoints : config.endpoints.filter((e) => isIP(e.address) !== 0));
  }

  /** Endpoints still present keep their Host object (and with it pools and LB state). */
  setHosts(endpoints: readonly { address: string; port: number; weight: number; locality?: string; labels?: Record<string, string> }[]): void {
    const old = new Map(this.hosts.map((h) => [h.key, h]));
    this.hosts = endpoints.map((e) => {
      const kept = old.get(hostKey(e));
      return kept && kept.weight === e.weight ? kept : new Host(e.address, e.port, e.weight, e.locality, e.labels);
    });
    this.weights = endpoints.map((e) => Math.max(1, e.weight));
    this.current = this.weights.map(() => 0);
    this.totalWeight = this.weights.reduce((a, b) => a + b, 0);
  }

  get hostCount(): number {
    return this.hosts.length;
  }

  /** A DNS host-set update; false when it does not apply to this cluster's state. */
  applyHostUpdate(u: HostUpdate): boolean {
    if (this.dnsKey === undefined) return false;
    const r = applyToState(this.dns, this.dnsKey, u);
    if (!r) return false;
    this.dns = r.state;
    this.setHosts(r.hosts);
    if (r.removed.length > 0) this.onHostsRemoved?.(r.removed);
    return true;
  }

  /** The host for a new connection, or undefined when the cluster has none (Envoy's "no healthy upstream"). */
  chooseHost(dst: Destination): Host | undefined {
    if (this.config.type === 'ORIGINAL_DST') {
      return new Host(this.config.originalDstOverrideAddress ?? dst.address, dst.port);
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
  /** `previous`: the table being replaced; DNS clusters whose config is unchanged keep their resolved hosts. */
  constructor(clusters: readonly Cluster[], previous?: ClusterTable) {
    for (const c of clusters) {
      const tlc = new ThreadLocalCluster(c);
      const old = previous?.get(c.name);
      if (tlc.dnsKey !== undefined && old?.dns && old.dnsKey === tlc.dnsKey) {
        tlc.dns = old.dns;
        tlc.setHosts([...old.dns.hosts.values()]);
      }
      this.clusters.set(c.name, tlc);
    }
  }
  applyHostUpdate(u: HostUpdate): boolean {
    return this.clusters.get(u.cluster)?.applyHostUpdate(u) ?? false;
  }
  get(name: string): ThreadLocalCluster | undefined {
    return this.clusters.get(name);
  }
}
