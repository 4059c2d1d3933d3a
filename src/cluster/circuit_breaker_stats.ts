import type { Cluster } from '../config/model.js';
import type { StatsRegistry } from '../stats/store.js';
import { CLUSTER } from '../stats/scopes.js';
import { CX, PENDING, RETRY, RQ, type Resource } from './circuit_breaker.js';
import type { CircuitBreakerRegistry } from './circuit_breaker_registry.js';

/** Envoy's `circuit_breakers.default.*` gauge names, per resource. */
const GAUGES: readonly { open: string; remaining: string; r: Resource }[] = [
  { open: 'cx_open', remaining: 'remaining_cx', r: CX },
  { open: 'rq_pending_open', remaining: 'remaining_pending', r: PENDING },
  { open: 'rq_open', remaining: 'remaining_rq', r: RQ },
  { open: 'rq_retry_open', remaining: 'remaining_retries', r: RETRY },
];

/**
 * Breaker slots for these clusters (into the stat index workers receive), and their gauges:
 * `*_open` is 1 while a resource is at its limit; `remaining_*` (only with track_remaining, which
 * Istio sets) is what is left. Both are computed from the shared counts when stats are read.
 */
export function indexBreakers(breakers: CircuitBreakerRegistry, stats: StatsRegistry, clusters: readonly Cluster[], into: Record<string, number>): Record<string, number> {
  breakers.index(clusters, into);
  for (const c of clusters) {
    const slot = into[c.name];
    const prefix = 'circuit_breakers.default.';
    for (const g of GAUGES) {
      stats.computedGauge(CLUSTER, c.name, prefix + g.open, () => (breakers.count(slot, g.r) >= breakers.limit(slot, g.r) ? 1 : 0));
      if (breakers.trackRemaining(slot)) {
        stats.computedGauge(CLUSTER, c.name, prefix + g.remaining, () => Math.max(0, breakers.limit(slot, g.r) - breakers.count(slot, g.r)));
      }
    }
    // max_connection_pools: Istio leaves it unlimited, so this breaker never opens.
    stats.computedGauge(CLUSTER, c.name, `${prefix}cx_pool_open`, () => 0);
  }
  return into;
}
