import type { Cluster, LbPolicy } from '../../src/config/model.js';
import { Host } from '../../src/cluster/host.js';
import { ClusterLoadBalancer, type BalancerEnv } from '../../src/cluster/lb/cluster_load_balancer.js';
import { seededRandom } from '../../src/cluster/lb/random_source.js';

/** Hosts 10.0.0.1:80… with the given weights (and localities), all added at time 0. */
export function hosts(weights: number[], localities: (string | undefined)[] = []): Host[] {
  return weights.map((w, i) => new Host(`10.0.0.${i + 1}`, 80, w, localities[i], undefined, 0));
}

export function cluster(lbPolicy: LbPolicy, extra: Partial<Cluster> = {}): Cluster {
  return { name: 'c', type: 'STATIC', lbPolicy, connectTimeoutMs: 1000, endpoints: [], ...extra };
}

/** A balancer with a seeded random source and a clock the test moves (ms, starts well after the hosts were added). */
export function balancer(c: Cluster, hs: Host[], opts: { seed?: number; locality?: string } = {}) {
  const clock = { now: 1_000_000 };
  const env: BalancerEnv = { random: seededRandom(opts.seed ?? 7), now: () => clock.now, locality: opts.locality ?? '' };
  return { lb: new ClusterLoadBalancer(c, hs, env), clock };
}

/** How many of `n` picks went to each host (by key). */
export function tally(pick: () => Host | undefined, n: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = pick();
    const k = h ? h.key : 'none';
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}
