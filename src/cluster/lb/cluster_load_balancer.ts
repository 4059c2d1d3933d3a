import type { Cluster } from '../../config/model.js';
import { hostHealth, type Host } from '../host.js';
import { distributeWeights, priorityLevels } from './locality.js';
import { pickersFor, type PolicyPickers } from './policy.js';
import { OVERPROVISIONING_FACTOR, priorityLoad } from './priority_load.js';
import { MATH_RANDOM, type RandomSource } from './random_source.js';
import { NO_HOST, type HostPicker } from './types.js';
import { hashMod, type Hash64 } from './xxhash64.js';
import { performance } from 'node:perf_hooks';

/** What balancers need from their worker: randomness and a clock (injected in tests), and the proxy's locality. */
export interface BalancerEnv {
  random: RandomSource;
  now: () => number;
  /** The proxy's own `region/zone/subzone`; empty when unknown (no locality balancing). */
  locality: string;
}

export const DEFAULT_BALANCER_ENV: BalancerEnv = { random: MATH_RANDOM, now: () => performance.now(), locality: '' };

/**
 * A cluster's load balancer on one worker, built once per host-set change: hosts split into
 * priority levels by locality (Istio's failover, only with outlier detection), per-level
 * pickers of the cluster's lb_policy over the hosts not ejected (or all of them in panic),
 * and locality `distribute` weights folded into host weights. Ejections are noticed through
 * hostHealth.epoch on the next pick and rebuild the pickers.
 */
export class ClusterLoadBalancer {
  private readonly levels: Host[][];
  private readonly policy: PolicyPickers;
  private readonly distribute: Map<string, number> | undefined;
  private readonly panicThreshold: number;
  private pickers: HostPicker[] = [NO_HOST];
  /** Cumulative percent per level (only read with several levels). */
  private cumulativeLoad = new Float64Array(1);
  private seenEpoch = -1;
  /** Which hosts were ejected at the last rebuild: an unrelated cluster's ejection rebuilds nothing. */
  private ejectedKeys: string | undefined;

  constructor(private readonly config: Cluster, hosts: readonly Host[], private readonly env: BalancerEnv = DEFAULT_BALANCER_ENV) {
    this.policy = pickersFor(config);
    this.panicThreshold = config.outlierDetection?.healthyPanicThreshold ?? 0;
    const setting = config.localityLbSetting;
    const localityAware = env.locality !== '' && setting?.enabled !== false;
    this.distribute = localityAware ? distributeWeights(hosts, env.locality, setting) : undefined;
    // Istio moves traffic to other localities only when outlier detection can eject hosts.
    const failover = localityAware && !this.distribute && config.outlierDetection !== undefined;
    this.levels = failover ? priorityLevels(hosts, env.locality, setting) : [hosts.slice()];
  }

  chooseHost(hash: Hash64 | undefined): Host | undefined {
    if (this.seenEpoch !== hostHealth.epoch) this.refresh();
    const pickers = this.pickers;
    if (pickers.length === 1) return pickers[0].pick(hash);
    // Hashing balancers choose the level from the hash too, so a key stays put (Envoy: hash % 100).
    const point = hash ? hashMod(hash, 100) : this.env.random.next() * 100;
    for (let i = 0; i < pickers.length; i++) if (point < this.cumulativeLoad[i]) return pickers[i].pick(hash);
    return undefined;
  }

  private refresh(): void {
    this.seenEpoch = hostHealth.epoch;
    let ejected = '';
    for (const level of this.levels) for (const h of level) if (h.ejected) ejected += `${h.key},`;
    if (ejected === this.ejectedKeys) return;
    this.ejectedKeys = ejected;
    const health = this.levels.map((l) => ({ healthy: l.reduce((a, h) => a + (h.ejected ? 0 : 1), 0), total: l.length }));
    const { loads, panic } = priorityLoad(health, this.panicThreshold);
    this.pickers = this.levels.map((level, i) => (loads[i] > 0 ? this.buildPicker(panic[i] ? level : level.filter((h) => !h.ejected), level) : NO_HOST));
    let sum = 0;
    this.cumulativeLoad = Float64Array.from(loads, (l) => (sum += l));
  }

  /** A picker over the usable hosts of one level, with their effective weights. */
  private buildPicker(usable: Host[], level: readonly Host[]): HostPicker {
    const weightOf = (h: Host) => (this.policy.endpointWeights ? Math.max(1, h.weight) : 1);
    let hosts = usable;
    let weights = Float64Array.from(usable, weightOf);
    const distribute = this.distribute;
    if (distribute) {
      // Envoy picks a locality by weight × availability, then a host in it by weight:
      // folded here into one weight per host.
      const usableWeight = new Map<string, number>();
      const counts = new Map<string, { healthy: number; total: number }>();
      for (const h of level) {
        const loc = h.locality ?? '';
        const c = counts.get(loc) ?? { healthy: 0, total: 0 };
        c.total++;
        if (!h.ejected) c.healthy++;
        counts.set(loc, c);
      }
      usable.forEach((h, i) => usableWeight.set(h.locality ?? '', (usableWeight.get(h.locality ?? '') ?? 0) + weights[i]));
      weights = weights.map((w, i) => {
        const loc = usable[i].locality ?? '';
        const c = counts.get(loc)!;
        const availability = Math.min(1, (OVERPROVISIONING_FACTOR * c.healthy) / c.total) || 1;
        return ((distribute.get(loc) ?? 0) * availability * w) / usableWeight.get(loc)!;
      });
      hosts = usable.filter((_, i) => weights[i] > 0);
      weights = weights.filter((w) => w > 0);
    }
    if (hosts.length === 0) return NO_HOST;
    return this.policy.factory({
      hosts,
      weights,
      random: this.env.random,
      slowStartWindowMs: this.policy.slowStart ? (this.config.slowStartWindowMs ?? 0) : 0,
      now: this.env.now,
    });
  }
}
