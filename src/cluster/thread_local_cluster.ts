import { isIP } from 'node:net';
import type { Cluster } from '../config/model.js';
import type { Destination } from '../listener/listener_table.js';
import { Host } from './host.js';
import { SINK_SLOT, type HostSlots } from './host_shared.js';
import { ClusterLoadBalancer, DEFAULT_BALANCER_ENV, type BalancerEnv } from './lb/cluster_load_balancer.js';
import type { Hash64 } from './lb/xxhash64.js';
import { applyToState, dnsClusterKey, hostKey, isDnsCluster, type DnsHostState, type HostUpdate } from './host_update.js';
import { OutlierMonitor, type OutlierReport } from './outlier/monitor.js';

/** Worker-wide services a cluster uses: shared host slots, outlier reports, pool draining. */
export interface ClusterRuntime {
  slots: HostSlots;
  report(r: OutlierReport): void;
  /** Hosts that left a cluster (snapshot change or DNS update): their connection pools drain. */
  onHostsRemoved?(cluster: string, keys: string[]): void;
}

type EndpointLike = { address: string; port: number; weight: number; locality?: string; labels?: Record<string, string>; slot?: number };

/** What a cluster is built with besides its config (all optional: tests build bare clusters). */
export interface ClusterOptions {
  /** Shared slots of this cluster's hosts by `address:port` (main thread's host registry). */
  slotMap?: Readonly<Record<string, number>>;
  runtime?: ClusterRuntime;
  env?: BalancerEnv;
  /** The hosts of the same cluster in the table being replaced: their load, verdicts and age carry over. */
  previous?: readonly Host[];
}

/**
 * A worker's view of one cluster: its hosts and this thread's load balancer (src/cluster/lb/,
 * the cluster's lb_policy), rebuilt when the host set changes. Connections already running
 * keep the hosts they picked. Hosts outlier detection ejected are left out by the balancer
 * (Istio disables Envoy's panic mode unless minHealthPercent is set).
 */
export class ThreadLocalCluster {
  private hosts: Host[] = [];
  private lb: ClusterLoadBalancer;
  private readonly slotMap: Readonly<Record<string, number>> | undefined;
  private readonly runtime: ClusterRuntime | undefined;
  private readonly env: BalancerEnv;
  /** STRICT_DNS / LOGICAL_DNS: the resolved set the main thread pushed (src/cluster/host_update.ts). */
  readonly dnsKey: string | undefined;
  dns: DnsHostState | undefined;
  /** Called with `address:port` keys a DNS update removed, so connection pools can drain them. */
  onHostsRemoved: ((removed: string[]) => void) | undefined;
  /** Counts results per host when the cluster has outlier detection. */
  readonly outlier: OutlierMonitor | undefined;

  constructor(
    readonly config: Cluster,
    opts: ClusterOptions = {},
  ) {
    const { slotMap, runtime, env = DEFAULT_BALANCER_ENV, previous } = opts;
    this.slotMap = slotMap;
    this.runtime = runtime;
    this.env = env;
    if (previous) this.hosts = previous.slice();
    const od = config.outlierDetection;
    this.outlier = od && runtime ? new OutlierMonitor(config.name, od, runtime.slots.outlier, (r) => runtime.report(r)) : undefined;
    if (runtime?.onHostsRemoved) this.onHostsRemoved = (keys) => runtime.onHostsRemoved!(config.name, keys);
    // A DNS cluster's hostnames are never resolved here: until the main thread's first
    // resolution arrives, only endpoints given as IP addresses are usable.
    this.dnsKey = isDnsCluster(config) ? dnsClusterKey(config) : undefined;
    this.lb = new ClusterLoadBalancer(config, [], env);
    this.setHosts(this.dnsKey === undefined ? config.endpoints : config.endpoints.filter((e) => isIP(e.address) !== 0));
  }

  /** Endpoints still present keep their Host object (and with it pools, load, verdicts and LB state). */
  setHosts(endpoints: readonly EndpointLike[]): void {
    const old = new Map(this.hosts.map((h) => [h.key, h]));
    this.hosts = endpoints.map((e) => {
      const key = hostKey(e);
      const slot = e.slot ?? this.slotMap?.[key] ?? SINK_SLOT;
      const kept = old.get(key);
      if (kept && kept.weight === e.weight && kept.locality === e.locality && kept.slot === slot) return kept;
      return new Host(e.address, e.port, e.weight, e.locality, e.labels).setSlot(slot);
    });
    this.refreshEjections();
    this.lb = new ClusterLoadBalancer(this.config, this.hosts, this.env);
  }

  /** The ejected flags from shared memory (the main thread announced a verdict, or hosts were rebuilt). */
  refreshEjections(): void {
    const slots = this.runtime?.slots;
    // Flipping a flag bumps the hosts' health epoch: the balancer rebuilds on its next pick.
    for (const h of this.hosts) h.ejected = slots !== undefined && slots.isEjected(h.slot);
  }

  get hostCount(): number {
    return this.hosts.length;
  }

  /** The current hosts (admin, tests). */
  get hostList(): readonly Host[] {
    return this.hosts;
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
   * resolved hosts, every cluster keeps the Host objects of endpoints it still has, and hosts
   * (or whole clusters) the new table no longer has are reported to `runtime.onHostsRemoved` so
   * that their pools drain.
   */
  constructor(
    clusters: readonly Cluster[],
    previous?: ClusterTable,
    opts: { slots?: Readonly<Record<string, Readonly<Record<string, number>>>>; runtime?: ClusterRuntime; env?: BalancerEnv } = {},
  ) {
    const { slots, runtime, env } = opts;
    for (const c of clusters) {
      const old = previous?.get(c.name);
      const tlc = new ThreadLocalCluster(c, { slotMap: slots?.[c.name], runtime, env, previous: old?.hostList });
      if (tlc.dnsKey !== undefined && old?.dns && old.dnsKey === tlc.dnsKey) {
        tlc.dns = old.dns;
        tlc.setHosts([...old.dns.hosts.values()]);
      }
      this.clusters.set(c.name, tlc);
    }
    if (previous && runtime?.onHostsRemoved) {
      for (const [name, old] of previous.clusters) {
        const now = new Set(this.clusters.get(name)?.hostList.map((h) => h.key));
        const gone = old.hostList.filter((h) => !now.has(h.key)).map((h) => h.key);
        if (gone.length > 0) runtime.onHostsRemoved(name, gone);
      }
    }
  }
  applyHostUpdate(u: HostUpdate): boolean {
    return this.clusters.get(u.cluster)?.applyHostUpdate(u) ?? false;
  }
  /** The main thread announced outlier verdicts for `cluster`. */
  refreshEjections(cluster: string): void {
    this.clusters.get(cluster)?.refreshEjections();
  }
  get(name: string): ThreadLocalCluster | undefined {
    return this.clusters.get(name);
  }
}
