import type { Host } from '../host.js';
import type { Hash64 } from './xxhash64.js';
import type { RandomSource } from './random_source.js';

/**
 * One balancing algorithm over one list of hosts (a priority level's usable hosts), built
 * once per host-set or health change and then asked for a host per request/connection.
 * `hash` is the request's consistent-hash key (from the route's hash policy or the source
 * IP); balancers that do not hash ignore it, hashing ones use a random key without it.
 */
export interface HostPicker {
  pick(hash: Hash64 | undefined): Host | undefined;
}

/** What a picker is built from. `weights[i]` is the effective weight of `hosts[i]` (> 0). */
export interface PickerInput {
  hosts: readonly Host[];
  weights: Float64Array;
  random: RandomSource;
  /** cluster.slowStartWindowMs (ROUND_ROBIN and LEAST_REQUEST only); 0: off. */
  slowStartWindowMs: number;
  /** Performance.now() in ms; injected for slow-start tests. */
  now: () => number;
}

export type PickerFactory = (input: PickerInput) => HostPicker;

export const NO_HOST: HostPicker = { pick: () => undefined };

/** True when every weight is the same (the balancers' cheaper unweighted paths apply). */
export function allEqual(weights: Float64Array): boolean {
  for (let i = 1; i < weights.length; i++) if (weights[i] !== weights[0]) return false;
  return true;
}
