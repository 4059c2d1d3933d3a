import type { Host } from '../host.js';
import { randomHash } from './random_hash.js';
import type { HostPicker, PickerInput } from './types.js';
import { hashMod, xxHash64, type Hash64 } from './xxhash64.js';

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

/**
 * MAGLEV (Eisenbud et al., with Envoy's weighting): each host, in order of its
 * `address:port` key, has a permutation of the table (offset = xxHash64(key) mod M,
 * skip = xxHash64(key, seed 1) mod (M−1) + 1) and claims its next free slot in turn; a host
 * of weight w/max claims on every (max/w)-th round. A request goes to table[hash mod M].
 * M must be prime (validated with the DestinationRule).
 */
export class MaglevPicker implements HostPicker {
  private readonly table: Int32Array;
  private readonly hosts: Host[];

  constructor(private readonly input: PickerInput, readonly tableSize = DEFAULT_MAGLEV_TABLE_SIZE) {
    const m = tableSize;
    const order = input.hosts.map((host, i) => ({ host, weight: input.weights[i] })).sort((a, b) => (a.host.key < b.host.key ? -1 : a.host.key > b.host.key ? 1 : 0));
    this.hosts = order.map((e) => e.host);
    this.table = new Int32Array(order.length === 0 ? 0 : m).fill(-1);
    if (order.length === 0) return;
    const n = order.length;
    const position = new Float64Array(n);
    const skip = new Float64Array(n);
    const target = new Float64Array(n);
    let maxWeight = 0;
    order.forEach((e, i) => {
      position[i] = hashMod(xxHash64(e.host.key, 0), m);
      skip[i] = hashMod(xxHash64(e.host.key, 1), m - 1) + 1;
      maxWeight = Math.max(maxWeight, e.weight);
    });
    let filled = 0;
    for (let round = 1; filled < m; round++) {
      for (let i = 0; i < n && filled < m; i++) {
        if (round * order[i].weight < target[i]) continue;
        target[i] += maxWeight;
        let c = position[i];
        while (this.table[c] !== -1) c = (c + skip[i]) % m;
        this.table[c] = i;
        position[i] = (c + skip[i]) % m;
        filled++;
      }
    }
  }

  pick(hash: Hash64 | undefined): Host | undefined {
    if (this.hosts.length === 0) return undefined;
    return this.hosts[this.table[hashMod(hash ?? randomHash(this.input.random), this.tableSize)]];
  }
}
