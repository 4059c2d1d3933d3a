import { isIP } from 'node:net';
import type { Cluster } from '../config/model.js';

/**
 * Host-set changes of DNS clusters, main thread → workers. Small messages on the config
 * channel (so they stay ordered with snapshots): the first push for a cluster is the full
 * set, later ones are diffs against the previous sequence number. A worker that missed a
 * step (it started late) ignores diffs until the full set the pool replays to it.
 */
export interface HostEntry {
  address: string;
  port: number;
  weight: number;
  /** The host's shared slot (src/cluster/host_shared.ts), stamped on the main thread before sending. */
  slot?: number;
}

export interface HostUpdate {
  cluster: string;
  /** dnsClusterKey() of the cluster config the hosts were resolved for. */
  key: string;
  seq: number;
  /** The whole set (first push, or a replay to a late worker). */
  full?: HostEntry[];
  /** Otherwise a diff against `baseSeq`. */
  baseSeq?: number;
  added?: HostEntry[];
  /** hostKey()s. */
  removed?: string[];
}

export interface HostUpdateMessage {
  hostUpdate: HostUpdate;
}

/** Where the DNS cluster manager sends updates: the worker pool, or a test double. */
export interface HostUpdateSink {
  publishHosts(update: HostUpdate, full: readonly HostEntry[]): void;
  forgetHosts(cluster: string): void;
}

export const isDnsCluster = (c: Cluster): boolean => c.type === 'STRICT_DNS' || c.type === 'LOGICAL_DNS';

export const hostKey = (h: { address: string; port: number }): string => (isIP(h.address) === 6 ? `[${h.address}]:${h.port}` : `${h.address}:${h.port}`);

/** What a DNS cluster's resolved hosts depend on; a new snapshot with the same key keeps them. */
export function dnsClusterKey(c: Cluster): string {
  return JSON.stringify([c.type, c.dnsLookupFamily ?? 'V4_ONLY', c.endpoints.map((e) => [e.address, e.port, e.weight])]);
}

export function diffHosts(prev: readonly HostEntry[], next: readonly HostEntry[]): { added: HostEntry[]; removed: string[] } {
  const before = new Map(prev.map((h) => [hostKey(h), h]));
  const after = new Map(next.map((h) => [hostKey(h), h]));
  const added = next.filter((h) => {
    const old = before.get(hostKey(h));
    return !old || old.weight !== h.weight;
  });
  const removed = [...before.keys()].filter((k) => !after.has(k));
  return { added, removed };
}

/** A worker cluster's DNS state: which resolution it holds. */
export interface DnsHostState {
  key: string;
  seq: number;
  hosts: Map<string, HostEntry>;
}

/**
 * Applies an update to a cluster's DNS state; returns the new host list and the removed
 * keys, or undefined when the update does not apply (other config, stale, or out of step).
 */
export function applyToState(
  state: DnsHostState | undefined,
  key: string,
  u: HostUpdate,
): { state: DnsHostState; hosts: HostEntry[]; removed: string[] } | undefined {
  if (u.key !== key) return undefined;
  if (u.full) {
    if (state && state.key === key && u.seq < state.seq) return undefined;
    const hosts = new Map(u.full.map((h) => [hostKey(h), h]));
    const removed = state ? [...state.hosts.keys()].filter((k) => !hosts.has(k)) : [];
    return { state: { key, seq: u.seq, hosts }, hosts: [...hosts.values()], removed };
  }
  if (!state || state.key !== key || state.seq !== u.baseSeq) return undefined;
  const hosts = new Map(state.hosts);
  const removed = (u.removed ?? []).filter((k) => hosts.delete(k));
  for (const h of u.added ?? []) hosts.set(hostKey(h), h);
  return { state: { key, seq: u.seq, hosts }, hosts: [...hosts.values()], removed };
}
