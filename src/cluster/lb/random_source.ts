/**
 * Where balancers get randomness: `next()` in [0, 1). Injected so that tests are
 * deterministic; the proxy uses Math.random (each worker has its own generator state).
 */
export interface RandomSource {
  next(): number;
}

export const MATH_RANDOM: RandomSource = { next: Math.random };

/** A small seedable generator (mulberry32): same seed, same sequence. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** An integer in [0, n). */
export const randomIndex = (r: RandomSource, n: number): number => Math.floor(r.next() * n);
