import type { Host } from '../host.js';
import { randomIndex } from './random_source.js';
import { allEqual, type HostPicker, type PickerInput } from './types.js';

/**
 * RANDOM: a uniformly random host, as Envoy's random balancer (which ignores endpoint
 * weights). Locality weights (`distribute`) still apply: the builder passes them as the only
 * weights, and a weighted draw (cumulative sums, binary search) honours them.
 */
export class RandomPicker implements HostPicker {
  private readonly hosts: readonly Host[];
  private readonly cumulative: Float64Array | undefined;

  constructor(private readonly input: PickerInput) {
    this.hosts = input.hosts;
    if (!allEqual(input.weights)) {
      this.cumulative = new Float64Array(input.weights.length);
      let sum = 0;
      input.weights.forEach((w, i) => (this.cumulative![i] = sum += w));
    }
  }

  pick(): Host | undefined {
    const n = this.hosts.length;
    if (n <= 1) return this.hosts[0];
    const cum = this.cumulative;
    if (!cum) return this.hosts[randomIndex(this.input.random, n)];
    const target = this.input.random.next() * cum[n - 1];
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return this.hosts[lo];
  }
}
