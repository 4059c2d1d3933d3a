import type { Cluster } from '../config/model.js';
import { diffHosts, dnsClusterKey, isDnsCluster, type HostEntry, type HostUpdate, type HostUpdateSink } from '../cluster/host_update.js';
import { DEFAULT_REFRESH_POLICY, DnsCluster, type DnsClusterStatus, type RefreshPolicy } from './dns_cluster.js';
import type { CachingResolver } from './resolver.js';
import { NO_CLUSTER_STATS, type DnsClusterCounters } from './stats.js';

interface Entry {
  key: string;
  cluster: DnsCluster;
  /** What workers hold (undefined until the first push). */
  pushed?: HostEntry[];
  seq: number;
}

/**
 * The main thread's DNS clusters across snapshots: starts a refresher for each new
 * STRICT_DNS/LOGICAL_DNS cluster, keeps the running one when a reload leaves its targets
 * unchanged, stops removed ones, and sends each host-set change to the workers as a diff.
 */
export class DnsClusterManager {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;

  constructor(
    private readonly resolver: CachingResolver,
    private readonly sink: HostUpdateSink,
    private readonly statsFor: (cluster: string) => DnsClusterCounters = () => NO_CLUSTER_STATS,
    private readonly policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
  ) {}

  /** Call after each snapshot was published to the workers. */
  update(clusters: readonly Cluster[]): void {
    const live = new Set<string>();
    for (const c of clusters) {
      if (!isDnsCluster(c)) continue;
      live.add(c.name);
      const key = dnsClusterKey(c);
      const old = this.entries.get(c.name);
      if (old && old.key === key) {
        old.cluster.reconfigure(c);
        continue;
      }
      old?.cluster.stop();
      const entry: Entry = { key, seq: 0, cluster: undefined as unknown as DnsCluster };
      entry.cluster = new DnsCluster(c, this.resolver, (hosts) => this.push(c.name, entry, hosts), this.statsFor(c.name), this.policy);
      this.entries.set(c.name, entry);
      entry.cluster.start();
    }
    for (const [name, e] of this.entries) {
      if (live.has(name)) continue;
      e.cluster.stop();
      this.entries.delete(name);
      this.sink.forgetHosts(name);
    }
  }

  private push(name: string, e: Entry, hosts: HostEntry[]): void {
    if (this.entries.get(name) !== e) return;
    const seq = ++this.seq;
    let update: HostUpdate;
    if (!e.pushed) update = { cluster: name, key: e.key, seq, full: hosts };
    else {
      const { added, removed } = diffHosts(e.pushed, hosts);
      if (added.length === 0 && removed.length === 0) return;
      update = { cluster: name, key: e.key, seq, baseSeq: e.seq, added, removed };
    }
    e.pushed = hosts;
    e.seq = seq;
    this.sink.publishHosts(update, hosts);
  }

  hosts(name: string): HostEntry[] | undefined {
    return this.entries.get(name)?.cluster.hosts();
  }

  status(): Record<string, DnsClusterStatus> {
    const out: Record<string, DnsClusterStatus> = {};
    for (const [name, e] of this.entries) out[name] = e.cluster.status();
    return out;
  }

  close(): void {
    for (const e of this.entries.values()) e.cluster.stop();
    this.entries.clear();
  }
}
