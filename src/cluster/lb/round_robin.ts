import type { Host } from '../host.js';
import { smoothWeightedPick } from './smooth_weighted.js';
import { slowStartEnds, slowStartFactor } from './slow_start.js';
import { randomIndex } from './random_source.js';
import { allEqual, type HostPicker, type PickerInput } from './types.js';

/**
 * ROUND_ROBIN: plain rotation when weights are equal (from a random start, so that workers
 * do not all begin with the same host, as Envoy seeds each worker), smooth weighted round
 * robin otherwise, and while a host is in its slow-start window.
 */
export class RoundRobinPicker implements HostPicker {
  private readonly hosts: readonly Host[];
  private readonly weights: Float64Array;
  private readonly scores: Float64Array;
  private readonly effective: Float64Array;
  private readonly unweighted: boolean;
  private next: number;
  /** Until when some host is warming up (0: none). */
  private warmUntil: number;

  constructor(private readonly input: PickerInput) {
    this.hosts = input.hosts;
    this.weights = input.weights;
    this.scores = new Float64Array(this.hosts.length);
    this.effective = new Float64Array(this.hosts.length);
    this.unweighted = allEqual(this.weights);
    this.next = randomIndex(input.random, this.hosts.length);
    this.warmUntil = slowStartEnds(this.hosts, input.slowStartWindowMs);
  }

  pick(): Host | undefined {
    const hosts = this.hosts;
    const n = hosts.length;
    if (n <= 1) return hosts[0];
    if (this.warmUntil > 0) {
      const now = this.input.now();
      if (now < this.warmUntil) {
        const window = this.input.slowStartWindowMs;
        for (let i = 0; i < n; i++) this.effective[i] = this.weights[i] * slowStartFactor(hosts[i], window, now);
        return hosts[smoothWeightedPick(this.effective, this.scores)];
      }
      this.warmUntil = 0;
    }
    if (this.unweighted) {
      const h = hosts[this.next];
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      return h;
    }
    return hosts[smoothWeightedPick(this.weights, this.scores)];
  }
}
