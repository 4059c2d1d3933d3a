/** Envoy's default overprovisioning factor (1.4): a level 72% healthy still takes all the traffic. */
export const OVERPROVISIONING_FACTOR = 1.4;

export interface LevelHealth {
  healthy: number;
  total: number;
}

export interface PriorityLoad {
  /** Percent of picks per level; all zero when no level has a usable host. */
  loads: number[];
  /** Levels in panic balance over all their hosts, ejected or not. */
  panic: boolean[];
}

/**
 * Envoy's priority load and panic. Each level's health is min(100, 1.4 × healthy%); levels
 * take load in order until their health sums to 100 (normalised when it never does). With a
 * panic threshold (Istio's minHealthPercent; 0, the Istio default, disables it) a level whose
 * healthy percentage is below it balances over all its hosts, unless the levels together are
 * fully available; when nothing is healthy at all, every level panics and load follows host counts.
 */
export function priorityLoad(levels: readonly LevelHealth[], panicThreshold: number): PriorityLoad {
  const health = levels.map((l) => (l.total === 0 ? 0 : Math.min(100, Math.floor((OVERPROVISIONING_FACTOR * 100 * l.healthy) / l.total))));
  const available = Math.min(100, health.reduce((a, b) => a + b, 0));
  if (available === 0) {
    if (panicThreshold <= 0) return { loads: levels.map(() => 0), panic: levels.map(() => false) };
    const hosts = levels.reduce((a, l) => a + l.total, 0);
    return { loads: levels.map((l) => (hosts === 0 ? 0 : (100 * l.total) / hosts)), panic: levels.map(() => true) };
  }
  const panic = levels.map((l) => available < 100 && panicThreshold > 0 && l.total > 0 && (100 * l.healthy) / l.total < panicThreshold);
  let remaining = 100;
  const loads = health.map((h) => {
    const load = Math.min(remaining, (h * 100) / available);
    remaining -= load;
    return load;
  });
  if (remaining > 1e-9) loads[health.findIndex((h) => h > 0)] += remaining;
  return { loads, panic };
}
