import type { Host } from '../host.js';
import { smoothWeightedPick } from './smooth_weighted.js';
import { slowStartEnds, slowStartFactor } from './slow_start.js';
import { randomIndex } from './random_source.js';
import { allEqual, type HostPicker, type PickerInput } from './types.js';

/** Envoy's least_request defaults, which Istio does not change. */
export const CHOICE_COUNT = 2;
export const ACTIVE_REQUEST_BIAS = 1.0;

/**
 * LEAST_REQUEST as Envoy does it. Equal weights: power of two choices — two random hosts
 * (with replacement), the one with fewer active requests wins (the first on a tie).
 * Different weights, or a host in slow start: weighted round robin where each pick sees the
 * weight `weight / (activeRequests + 1)^bias`, recomputed per pick because the load moves.
 */
export class LeastRequestPicker implements HostPicker {
  private readonly hosts: readonly Host[];
  private readonly weights: Float64Array;
  private readonly scores: Float64Array;
  private readonly effective: Float64Array;
  private readonly unweighted: boolean;
  private warmUntil: number;

  constructor(private readonly input: PickerInput) {
    this.hosts = input.hosts;
    this.weights = input.weights;
    this.scores = new Float64Array(this.hosts.length);
    this.effective = new Float64Array(this.hosts.length);
    this.unweighted = allEqual(this.weights);
    this.warmUntil = slowStartEnds(this.hosts, input.slowStartWindowMs);
  }

  pick(): Host | undefined {
    const hosts = this.hosts;
    const n = hosts.length;
    if (n <= 1) return hosts[0];
    let now = 0;
    if (this.warmUntil > 0) {
      now = this.input.now();
      if (now >= this.warmUntil) this.warmUntil = 0;
    }
    if (this.unweighted && this.warmUntil === 0) {
      const random = this.input.random;
      let best = hosts[randomIndex(random, n)];
      for (let c = 1; c < CHOICE_COUNT; c++) {
        const candidate = hosts[randomIndex(random, n)];
        if (candidate.activeRequests < best.activeRequests) best = candidate;
      }
      return best;
    }
    const window = this.warmUntil > 0 ? this.input.slowStartWindowMs : 0;
    for (let i = 0; i < n; i++) {
      const h = hosts[i];
      const load = ACTIVE_REQUEST_BIAS === 1 ? h.activeRequests + 1 : Math.pow(h.activeRequests + 1, ACTIVE_REQUEST_BIAS);
      this.effective[i] = (this.weights[i] * (window > 0 ? slowStartFactor(h, window, now) : 1)) / load;
    }
    return hosts[smoothWeightedPick(this.effective, this.scores)];
  }
}
