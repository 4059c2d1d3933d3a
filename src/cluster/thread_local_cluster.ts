import { isIP } from 'node:net';
import type { Cluster } from '../config/model.js';
import type { Destination } from '../listener/listener_table.js';
import { Host } from './host.js';
import { SINK_SLOT, type HostSlots } from './host_shared.js';
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

/**
 * A worker's view of one cluster: its hosts and this thread's load-balancer state. Rebuilt
 * when a snapshot arrives; connections already running keep the hosts they picked.
 * (LEAST_REQUEST, subsets and circuit breaking come with the clusters work; until then
 * STATIC/EDS clusters use smooth weighted round robin, which spreads a heavy host's turns out
 * instead of sending them in a burst.) Hosts that outlier detection ejected are skipped;
 * when every host is ejected the cluster has no healthy host (Istio disables Envoy's panic
 * mode unless minHealthPercent is set).
 */
export class ThreadLocalCluster {
  private hosts: Host[] = [];
  private weights: number[] = [];
  private current: number[] = [];
  private ejectedCount = 0;
  /** Envoy's healthy_panic_threshold (%): below it, ejected hosts take traffic again. 0: never. */
  private readonly panicThreshold: number;
  /** STRICT_DNS / LOGICAL_DNS: the resolved set the main thread pushed (src/cluster/host_update.ts). */
  readonly dnsKey: string | undefined;
  dns: DnsHostState | undefined;
  /** Called with `address:port` keys a DNS update removed, so connection pools can drain them. */
  onHostsRemoved: ((removed: string[]) => void) | undefined;
  /** Counts results per host when the cluster has outlier detection. */
  readonly outlier: OutlierMonitor | undefined;

  constructor(
    readonly config: Cluster,
    private readonly slotMap?: Readonly<Record<string, number>>,
    private readonly runtime?: ClusterRuntime,
  ) {
    const od = config.outlierDetection;
    this.panicThreshold = od?.healthyPanicThreshold ?? 0;
    this.outlier = od && runtime ? new OutlierMonitor(config.name, od, runtime.slots.outlier, (r) => runtime.report(r)) : undefined;
    if (runtime?.onHostsRemoved) this.onHostsRemoved = (keys) => runtime.onHostsRemoved!(config.name, keys);
    // A DNS cluster's hostnames are never resolved here: until the main thread's first
    // resolution arrives, only endpoints given as IP addresses are usable.
    this.dnsKey = isDnsCluster(config) ? dnsClusterKey(config) : undefined;
    this.setHosts(this.dnsKey === undefined ? config.endpoints : config.endpoints.filter((e) => isIP(e.address) !== 0));
  }

  /** Endpoints still present keep their Host object (and with it pools and LB state). */
  setHosts(endpoints: readonly EndpointLike[]): void {
    const old = new Map(this.hosts.map((h) => [h.key, h]));
    this.hosts = endpoints.map((e) => {
      const key = hostKey(e);
      const slot = e.slot ?? this.slotMap?.[key] ?? SINK_SLOT;
      const kept = old.get(key);
      if (kept && kept.weight === e.weight && kept.slot === slot) return kept;
      return new Host(e.address, e.port, e.weight, e.locality, e.labels).setSlot(slot);
    });
    this.weights = endpoints.map((e) => Math.max(1, e.weight));
    this.current = this.weights.map(() => 0);
    this.refreshEjections();
  }

  /** The ejected flags from shared memory (the main thread announced a verdict, or hosts were rebuilt). */
  refreshEjections(): void {
    const slots = this.runtime?.slots;
    let n = 0;
    for (const h of this.hosts) {
      h.ejected = slots !== undefined && slots.isEjected(h.slot);
      if (h.ejected) n++;
    }
    this.ejectedCount = n;
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

  /** The host for a new connection, or undefined when the cluster has none usable (Envoy's "no healthy upstream"). */
  chooseHost(dst: Destination): Host | undefined {
    if (this.config.type === 'ORIGINAL_DST') {
      return new Host(this.config.originalDstOverrideAddress ?? dst.address, dst.port);
    }
    const n = this.hosts.length;
    if (n === 0) return undefined;
    const ejected = this.ejectedCount;
    // Panic: too few healthy hosts left, so Envoy balances over all of them.
    const all = ejected === 0 || (this.panicThreshold > 0 && (100 * (n - ejected)) / n < this.panicThreshold);
    if (!all && ejected >= n) return undefined;
    let best = -1;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (!all && this.hosts[i].ejected) continue;
      this.current[i] += this.weights[i];
      total += this.weights[i];
      if (best < 0 || this.current[i] > this.current[best]) best = i;
    }
    this.current[best] -= total;
    return this.hosts[best];
  }
}

export class ClusterTable {
  private readonly clusters = new Map<string, ThreadLocalCluster>();
  /**
   * `previous`: the table being replaced; DNS clusters whose config is unchanged keep their
   * resolved hosts, and hosts (or whole clusters) the new table no longer has are reported to
   * `runtime.onHostsRemoved` so that their pools drain.
   */
  constructor(clusters: readonly Cluster[], previous?: ClusterTable, slots?: Readonly<Record<string, Readonly<Record<string, number>>>>, runtime?: ClusterRuntime) {
    for (const c of clusters) {
      const tlc = new ThreadLocalCluster(c, slots?.[c.name], runtime);
      const old = previous?.get(c.name);
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
