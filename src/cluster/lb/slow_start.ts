import type { Host } from '../host.js';

/** Envoy's defaults, which Istio's warmupDurationSecs leaves in place. */
const MIN_WEIGHT_PERCENT = 0.1;
const AGGRESSION = 1.0;

/**
 * Envoy's slow start: a host younger than the window gets its weight scaled by
 * max(10%, (age / window)^(1 / aggression)), age counted in whole seconds from at least 1 s.
 * Returns 1 once the host has left the window.
 */
export function slowStartFactor(host: Host, windowMs: number, nowMs: number): number {
  const age = nowMs - host.addedAtMs;
  if (windowMs <= 0 || age >= windowMs) return 1;
  const timeFactor = Math.max(age, 1000) / windowMs;
  const scaled = AGGRESSION === 1 ? timeFactor : Math.pow(timeFactor, 1 / AGGRESSION);
  return Math.min(1, Math.max(MIN_WEIGHT_PERCENT, scaled));
}

/** When the youngest host leaves the window (ms, performance.now() clock); 0 when slow start is off. */
export function slowStartEnds(hosts: readonly Host[], windowMs: number): number {
  if (windowMs <= 0) return 0;
  let latest = -Infinity;
  for (const h of hosts) if (h.addedAtMs > latest) latest = h.addedAtMs;
  return latest + windowMs;
}
