import { isIP } from 'node:net';
import type { Cluster } from '../config/model.js';
import { logger } from '../log.js';
import { dnsClusterKey, hostKey, isDnsCluster, type HostEntry, type HostUpdate } from './host_update.js';
import { SINK_SLOT, type HostSlots } from './host_shared.js';

const log = logger('hosts');

/** A host as the main thread knows it: what /clusters prints and where its shared state lives. */
export interface RegisteredHost {
  key: string;
  address: string;
  port: number;
  weight: number;
  locality?: string;
  slot: number;
}

interface ClusterHosts {
  config: Cluster;
  /** dnsClusterKey() of a DNS cluster's resolved set (undefined: the snapshot's endpoints). */
  dnsKey?: string;
  hosts: Map<string, RegisteredHost>;
}

/** Slot maps sent to workers: cluster name → host key → slot. */
export type HostSlotIndex = Record<string, Record<string, number>>;

/**
 * Main thread: every cluster's current host set, and the shared slot of each (cluster, host).
 * A host keeps its slot while it stays in its cluster (its outlier verdict and stats with it);
 * a removed host's slot is freed, and reused last (FIFO) so that late writes from requests
 * still in flight to it are unlikely to land on a new host.
 */
export class HostRegistry {
  private readonly clusters = new Map<string, ClusterHosts>();
  private readonly free: number[] = [];
  private warned = false;
  /** Told after a cluster's host set changed (or the cluster went away: `undefined`). */
  onChange: ((cluster: string, hosts: ClusterHosts | undefined) => void) | undefined;

  constructor(readonly slots: HostSlots) {
    for (let s = 1; s < slots.shared.capacity; s++) this.free.push(s);
  }

  /** A new snapshot: clusters and static endpoints; returns every cluster's slot map for workers. */
  syncSnapshot(clusters: readonly Cluster[]): HostSlotIndex {
    const seen = new Set<string>();
    for (const c of clusters) {
      seen.add(c.name);
      if (c.type === 'ORIGINAL_DST') continue;
      const old = this.clusters.get(c.name);
      // A DNS cluster whose config is unchanged keeps its resolved hosts.
      if (old?.dnsKey !== undefined && isDnsCluster(c) && old.dnsKey === dnsClusterKey(c)) {
        old.config = c;
        this.onChange?.(c.name, old);
        continue;
      }
      const endpoints = isDnsCluster(c) ? c.endpoints.filter((e) => isIP(e.address) !== 0) : c.endpoints;
      this.replace(c, undefined, endpoints);
    }
    for (const name of [...this.clusters.keys()]) if (!seen.has(name)) this.remove(name);
    return this.index();
  }

  /** A DNS host-set change: the resolved set replaces the cluster's hosts; entries get their slots. */
  onDnsHosts(update: HostUpdate, full: readonly HostEntry[]): void {
    const c = this.clusters.get(update.cluster);
    if (!c) return;
    this.replace(c.config, update.key, full);
    const hosts = this.clusters.get(update.cluster)!.hosts;
    for (const e of [...full, ...(update.full ?? []), ...(update.added ?? [])]) e.slot = hosts.get(hostKey(e))?.slot ?? SINK_SLOT;
  }

  get(cluster: string): ClusterHosts | undefined {
    return this.clusters.get(cluster);
  }

  index(): HostSlotIndex {
    const out: HostSlotIndex = {};
    for (const [name, c] of this.clusters) out[name] = Object.fromEntries([...c.hosts.values()].map((h) => [h.key, h.slot]));
    return out;
  }

  private replace(config: Cluster, dnsKey: string | undefined, endpoints: readonly { address: string; port: number; weight: number; locality?: string }[]): void {
    const old = this.clusters.get(config.name)?.hosts ?? new Map<string, RegisteredHost>();
    const hosts = new Map<string, RegisteredHost>();
    for (const e of endpoints) {
      const key = hostKey(e);
      const kept = old.get(key);
      const slot = kept?.slot ?? this.take();
      hosts.set(key, { key, address: e.address, port: e.port, weight: e.weight, locality: e.locality, slot });
    }
    for (const [key, h] of old) if (!hosts.has(key)) this.release(h.slot);
    const entry: ClusterHosts = { config, dnsKey, hosts };
    this.clusters.set(config.name, entry);
    this.onChange?.(config.name, entry);
  }

  private remove(name: string): void {
    for (const h of this.clusters.get(name)!.hosts.values()) this.release(h.slot);
    this.clusters.delete(name);
    this.onChange?.(name, undefined);
  }

  private take(): number {
    const slot = this.free.shift();
    if (slot === undefined) {
      if (!this.warned) log.warn(`more than ${this.slots.shared.capacity - 1} upstream hosts: the rest get no outlier detection or /clusters stats`);
      this.warned = true;
      return SINK_SLOT;
    }
    this.slots.clear(slot);
    return slot;
  }

  private release(slot: number): void {
    if (slot !== SINK_SLOT) this.free.push(slot);
  }
}

export type { ClusterHosts };
