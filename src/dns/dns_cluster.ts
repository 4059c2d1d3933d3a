import { isIP } from 'node:net';
import type { Cluster, LbEndpoint } from '../config/model.js';
import { hostKey, type HostEntry } from '../cluster/host_update.js';
import { logger } from '../log.js';
import type { CachingResolver } from './resolver.js';
import { NO_CLUSTER_STATS, type DnsClusterCounters } from './stats.js';

const log = logger('dns');

/** Retry after failures: exponential from `failureBaseMs`, capped at the refresh rate. */
export interface RefreshPolicy {
  failureBaseMs: number;
  /** Default refresh rate when the cluster has none (Envoy's 5 s; Istio always sets one). */
  defaultRefreshMs: number;
}

export const DEFAULT_REFRESH_POLICY: RefreshPolicy = { failureBaseMs: 1000, defaultRefreshMs: 5000 };

/** One hostname endpoint, re-resolved on its own timer (Envoy's ResolveTarget). */
interface Target {
  endpoint: LbEndpoint;
  hosts: HostEntry[];
  resolved: boolean;
  failures: number;
  timer?: NodeJS.Timeout;
  lastAttemptAt?: string;
  lastError?: string;
  nextRefreshMs?: number;
}

export interface DnsClusterStatus {
  type: string;
  hosts: string[];
  targets: { name: string; port: number; addresses: string[]; failures: number; lastAttemptAt?: string; lastError?: string; nextRefreshMs?: number }[];
}

/**
 * A STRICT_DNS or LOGICAL_DNS cluster on the main thread. STRICT_DNS: every address of every
 * hostname endpoint is a host. LOGICAL_DNS: the first address of the (single) endpoint is the
 * only host, used for new connections. Each name is re-resolved at its record TTL when the
 * cluster respects TTLs (Istio's default), else at the refresh rate. A failure keeps the
 * last good hosts and retries with backoff; a successful empty answer (NXDOMAIN, NODATA,
 * no records) empties the target, as in Envoy.
 */
export class DnsCluster {
  private readonly literals: HostEntry[];
  private readonly targets: Target[];
  private stopped = false;

  constructor(
    private config: Cluster,
    private readonly resolver: CachingResolver,
    private readonly onChange: (hosts: HostEntry[]) => void,
    private readonly stats: DnsClusterCounters = NO_CLUSTER_STATS,
    private readonly policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
  ) {
    const endpoints = config.type === 'LOGICAL_DNS' ? config.endpoints.slice(0, 1) : config.endpoints;
    this.literals = endpoints.filter((e) => isIP(e.address) !== 0).map((e) => ({ address: e.address, port: e.port, weight: e.weight }));
    this.targets = endpoints.filter((e) => isIP(e.address) === 0).map((endpoint) => ({ endpoint, hosts: [], resolved: false, failures: 0 }));
    this.stats.set('membership_total', this.literals.length);
    this.stats.set('membership_healthy', this.literals.length);
  }

  /** Same DNS targets, other timing (refresh rate, respect TTL): applies from the next refresh. */
  reconfigure(config: Cluster): void {
    this.config = config;
  }

  start(): void {
    for (const t of this.targets) void this.refresh(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.targets) clearTimeout(t.timer);
  }

  /** The cluster's hosts now: IP endpoints, then each name's addresses (deduplicated). */
  hosts(): HostEntry[] {
    const seen = new Set<string>();
    const out: HostEntry[] = [];
    for (const h of [...this.literals, ...this.targets.flatMap((t) => t.hosts)]) {
      const k = hostKey(h);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(h);
    }
    return out;
  }

  /** True once every name has had an answer (successful or not) at least once. */
  get settled(): boolean {
    return this.targets.every((t) => t.resolved || t.failures > 0);
  }

  private async refresh(t: Target): Promise<void> {
    if (this.stopped) return;
    this.stats.inc('update_attempt');
    t.lastAttemptAt = new Date().toISOString();
    let next: number;
    try {
      const r = await this.resolver.resolve(t.endpoint.address, this.config.dnsLookupFamily ?? 'V4_ONLY', { fresh: true });
      if (this.stopped) return;
      let addresses = r.addresses.map((a) => a.address);
      if (this.config.type === 'LOGICAL_DNS') addresses = addresses.slice(0, 1);
      const hosts = addresses.map((address) => ({ address, port: t.endpoint.port, weight: t.endpoint.weight }));
      this.stats.inc('update_success');
      t.failures = 0;
      t.lastError = undefined;
      const same = t.resolved && sameSet(t.hosts, hosts) && (this.config.type !== 'LOGICAL_DNS' || t.hosts[0]?.address === hosts[0]?.address);
      t.resolved = true;
      if (same) this.stats.inc('update_no_rebuild');
      else {
        t.hosts = hosts;
        const all = this.hosts();
        this.stats.set('membership_total', all.length);
        this.stats.set('membership_healthy', all.length);
        this.onChange(all);
      }
      const rate = this.config.dnsRefreshRateMs ?? this.policy.defaultRefreshMs;
      next = this.config.respectDnsTtl && r.ttlSec > 0 ? r.ttlSec * 1000 : rate;
    } catch (err) {
      if (this.stopped) return;
      this.stats.inc('update_failure');
      t.failures++;
      t.lastError = (err as { code?: string }).code ?? String(err);
      const rate = this.config.dnsRefreshRateMs ?? this.policy.defaultRefreshMs;
      const backoff = Math.min(rate, this.policy.failureBaseMs * 2 ** Math.min(20, t.failures - 1));
      next = backoff * (0.9 + Math.random() * 0.2);
      log.warn(`DNS refresh of ${t.endpoint.address} for ${this.config.name} failed (${t.lastError}); keeping ${t.hosts.length} hosts, retry in ${Math.round(next)} ms`);
    }
    t.nextRefreshMs = Math.round(next);
    t.timer = setTimeout(() => void this.refresh(t), next);
    t.timer.unref();
  }

  status(): DnsClusterStatus {
    return {
      type: this.config.type,
      hosts: this.hosts().map(hostKey),
      targets: this.targets.map((t) => ({
        name: t.endpoint.address,
        port: t.endpoint.port,
        addresses: t.hosts.map((h) => h.address),
        failures: t.failures,
        lastAttemptAt: t.lastAttemptAt,
        lastError: t.lastError,
        nextRefreshMs: t.nextRefreshMs,
      })),
    };
  }
}

function sameSet(a: readonly HostEntry[], b: readonly HostEntry[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(hostKey));
  return b.every((h) => keys.has(hostKey(h)));
}
