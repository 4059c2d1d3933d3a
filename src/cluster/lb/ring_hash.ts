import type { Host } from '../host.js';
import { randomHash } from './random_hash.js';
import type { HostPicker, PickerInput } from './types.js';
import { xxHash64, type Hash64 } from './xxhash64.js';

export const DEFAULT_MIN_RING_SIZE = 1024;
/** Envoy's maximum_ring_size default (8M entries). */
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;

/**
 * RING_HASH (Ketama) built as Envoy builds it: each host gets `scale × normalized weight`
 * points, where the scale makes the lightest host get a whole number of points and the ring
 * at least `minimumRingSize` long; point i of a host hashes `<address:port>_<i>` with
 * xxHash64. A request goes to the first point at or after its hash (wrapping around), found
 * by binary search over the sorted 64-bit hashes (kept as two Uint32Arrays).
 */
export class RingHashPicker implements HostPicker {
  private readonly ringHi: Uint32Array;
  private readonly ringLo: Uint32Array;
  private readonly ringHost: Host[];

  constructor(private readonly input: PickerInput, minimumRingSize = DEFAULT_MIN_RING_SIZE, maximumRingSize = DEFAULT_MAX_RING_SIZE) {
    const { hosts, weights } = input;
    const points: { hash: Hash64; host: Host }[] = [];
    if (hosts.length > 0) {
      let sum = 0;
      for (const w of weights) sum += w;
      let minNormalized = Infinity;
      for (const w of weights) minNormalized = Math.min(minNormalized, w / sum);
      const scale = Math.min(Math.ceil(minNormalized * minimumRingSize) / minNormalized, maximumRingSize);
      // Running sums keep fractional shares fair across hosts (Envoy's current/target hashes).
      let current = 0;
      let target = 0;
      hosts.forEach((host, i) => {
        target += (scale * weights[i]) / sum;
        for (let k = 0; current < target; k++, current++) points.push({ hash: xxHash64(`${host.key}_${k}`), host });
      });
      points.sort((a, b) => a.hash.hi - b.hash.hi || a.hash.lo - b.hash.lo);
    }
    this.ringHi = Uint32Array.from(points, (p) => p.hash.hi);
    this.ringLo = Uint32Array.from(points, (p) => p.hash.lo);
    this.ringHost = points.map((p) => p.host);
  }

  get size(): number {
    return this.ringHost.length;
  }

  pick(hash: Hash64 | undefined): Host | undefined {
    const n = this.ringHost.length;
    if (n === 0) return undefined;
    const h = hash ?? randomHash(this.input.random);
    const hi = h.hi;
    const lo = h.lo;
    const ringHi = this.ringHi;
    const ringLo = this.ringLo;
    // First point >= h.
    let a = 0;
    let b = n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (ringHi[mid] < hi || (ringHi[mid] === hi && ringLo[mid] < lo)) a = mid + 1;
      else b = mid;
    }
    return this.ringHost[a === n ? 0 : a];
  }
}
