import type { Host } from '../host.js';
import { smoothWeightedPick } from './smooth_weighted.js';
import { EdfScheduler } from './edf_scheduler.js';
import { slowStartEnds, slowStartFactor } from './slow_start.js';
import { randomIndex } from './random_source.js';
import { allEqual, type HostPicker, type PickerInput } from './types.js';

/**
 * ROUND_ROBIN: plain rotation when weights are equal; different weights: Envoy's earliest-
 * deadline-first schedule (O(log hosts) per pick). Both start at a random point, so that
 * workers do not all begin with the same host, as Envoy seeds each worker. While a host is in
 * its slow-start window its weight moves with time, and smooth weighted round robin, which
 * re-reads every weight per pick, takes over until the window ends.
 */
export class RoundRobinPicker implements HostPicker {
  private readonly hosts: readonly Host[];
  private readonly weights: Float64Array;
  private readonly scores: Float64Array;
  private readonly effective: Float64Array;
  private readonly unweighted: boolean;
  private next: number;
  /** Weighted hosts: how often each was picked; its next deadline is (picks + 1) / weight, exact for integer weights. */
  private readonly picks: Float64Array | undefined;
  private readonly edf: EdfScheduler | undefined;
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
    if (!this.unweighted) {
      const w = this.weights;
      this.picks = new Float64Array(w.length);
      this.edf = new EdfScheduler(w.map((x) => 1 / x));
      for (let k = this.next; k > 0; k--) this.pickWeighted();
    }
  }

  private pickWeighted(): number {
    const edf = this.edf!;
    const picks = this.picks!;
    const i = edf.peek();
    const done = ++picks[i];
    edf.reschedule((done + 1) / this.weights[i]);
    return i;
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
    return hosts[this.pickWeighted()];
  }
}
