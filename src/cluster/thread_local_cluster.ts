import { isIP } from 'node:net';
import type { Cluster } from '../config/model.js';
import type { Destination } from '../listener/listener_table.js';
import { Host } from './host.js';
import { ClusterLoadBalancer, DEFAULT_BALANCER_ENV, type BalancerEnv } from './lb/cluster_load_balancer.js';
import type { Hash64 } from './lb/xxhash64.js';
import { applyToState, dnsClusterKey, hostKey, isDnsCluster, type DnsHostState, type HostUpdate } from './host_update.js';

/**
 * A worker's view of one cluster: its hosts and this thread's load balancer (src/cluster/lb/,
 * the cluster's lb_policy), rebuilt when the host set changes. Connections already running
 * keep the hosts they picked.
 */
export class ThreadLocalCluster {
  private hosts: Host[] = [];
  private lb: ClusterLoadBalancer;
  /** STRICT_DNS / LOGICAL_DNS: the resolved set the main thread pushed (src/cluster/host_update.ts). */
  readonly dnsKey: string | undefined;
  dns: DnsHostState | undefined;
  /** Called with `address:port` keys a DNS update removed, so connection pools can drain them. */
  onHostsRemoved: ((removed: string[]) => void) | undefined;

  /** `previous`: the hosts of the same cluster in the table being replaced (their load, verdicts and age carry over). */
  constructor(
    readonly config: Cluster,
    private readonly env: BalancerEnv = DEFAULT_BALANCER_ENV,
    previous?: readonly Host[],
  ) {
    if (previous) this.hosts = previous.slice();
    // A DNS cluster's hostnames are never resolved here: until the main thread's first
    // resolution arrives, only endpoints given as IP addresses are usable.
    this.dnsKey = isDnsCluster(config) ? dnsClusterKey(config) : undefined;
    this.lb = new ClusterLoadBalancer(config, [], env);
    this.setHosts(this.dnsKey === undefined ? config.endpoints : config.endpoints.filter((e) => isIP(e.address) !== 0));
  }

  /** Endpoints still present keep their Host object (and with it pools, load, verdicts and LB state). */
  setHosts(endpoints: readonly { address: string; port: number; weight: number; locality?: string; labels?: Record<string, string> }[]): void {
    const old = new Map(this.hosts.map((h) => [h.key, h]));
    this.hosts = endpoints.map((e) => {
      const kept = old.get(hostKey(e));
      return kept && kept.weight === e.weight && kept.locality === e.locality ? kept : new Host(e.address, e.port, e.weight, e.locality, e.labels);
    });
    this.lb = new ClusterLoadBalancer(this.config, this.hosts, this.env);
  }

  /** The current hosts (admin, tests, and the next table's carry-over). */
  get hostList(): readonly Host[] {
    return this.hosts;
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

  /**
   * The host for a new request attempt or connection, or undefined when the cluster has none
   * usable (Envoy's "no healthy upstream"). `hash`: the consistent-hash key, for RING_HASH
   * and MAGLEV clusters (see isHashPolicy).
   */
  chooseHost(dst: Destination, hash?: Hash64): Host | undefined {
    if (this.config.type === 'ORIGINAL_DST') {
      return new Host(this.config.originalDstOverrideAddress ?? dst.address, dst.port);
    }
    return this.lb.chooseHost(hash);
  }
}

export class ClusterTable {
  private readonly clusters = new Map<string, ThreadLocalCluster>();
  /**
   * `previous`: the table being replaced; DNS clusters whose config is unchanged keep their
   * resolved hosts, and every cluster keeps the Host objects of endpoints it still has.
   */
  constructor(clusters: readonly Cluster[], previous?: ClusterTable, env: BalancerEnv = DEFAULT_BALANCER_ENV) {
    for (const c of clusters) {
      const old = previous?.get(c.name);
      const tlc = new ThreadLocalCluster(c, env, old?.hostList);
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
