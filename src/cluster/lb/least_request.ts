import type { Host } from '../host.js';
import { smoothWeightedPick } from './smooth_weighted.js';
import { EdfScheduler } from './edf_scheduler.js';
import { slowStartEnds, slowStartFactor } from './slow_start.js';
import { randomIndex } from './random_source.js';
import { allEqual, type HostPicker, type PickerInput } from './types.js';

/** Envoy's least_request defaults, which Istio does not change. */
export const CHOICE_COUNT = 2;
export const ACTIVE_REQUEST_BIAS = 1.0;

/**
 * LEAST_REQUEST as Envoy does it. Equal weights: power of two choices — two random hosts
 * (with replacement), the one with fewer active requests wins (the first on a tie).
 * Different weights: Envoy's earliest-deadline-first schedule where a picked host goes back
 * 1 / (weight / (activeRequests + 1)^bias) later, its load read at that moment — O(log hosts)
 * per pick. While a host is in its slow-start window, smooth weighted round robin re-reads
 * every host's load and age per pick instead.
 */
export class LeastRequestPicker implements HostPicker {
  private readonly hosts: readonly Host[];
  private readonly weights: Float64Array;
  private readonly scores: Float64Array;
  private readonly effective: Float64Array;
  private readonly unweighted: boolean;
  private warmUntil: number;
  private readonly edf: EdfScheduler | undefined;

  constructor(private readonly input: PickerInput) {
    this.hosts = input.hosts;
    this.weights = input.weights;
    this.scores = new Float64Array(this.hosts.length);
    this.effective = new Float64Array(this.hosts.length);
    this.unweighted = allEqual(this.weights);
    this.warmUntil = slowStartEnds(this.hosts, input.slowStartWindowMs);
    if (!this.unweighted) this.edf = new EdfScheduler(Float64Array.from(this.hosts, (_, i) => 1 / this.loadedWeight(i)));
  }

  /** A host's weight scaled down by its active requests. */
  private loadedWeight(i: number): number {
    const active = this.hosts[i].activeRequests + 1;
    return this.weights[i] / (ACTIVE_REQUEST_BIAS === 1 ? active : Math.pow(active, ACTIVE_REQUEST_BIAS));
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
    if (this.warmUntil === 0 && this.edf) {
      const edf = this.edf;
      const i = edf.peek();
      edf.reschedule(edf.peekDeadline() + 1 / this.loadedWeight(i));
      return hosts[i];
    }
    const window = this.input.slowStartWindowMs;
    for (let i = 0; i < n; i++) this.effective[i] = this.loadedWeight(i) * slowStartFactor(hosts[i], window, now);
    return hosts[smoothWeightedPick(this.effective, this.scores)];
  }
}
