import type { RandomSource } from './random_source.js';
import type { Hash64 } from './xxhash64.js';

/** A request without a hash key (no policy matched): Envoy's hashing balancers use a random one. */
export function randomHash(random: RandomSource): Hash64 {
  return { hi: Math.floor(random.next() * 4294967296) >>> 0, lo: Math.floor(random.next() * 4294967296) >>> 0 };
}
