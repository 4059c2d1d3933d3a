import type { Piscina } from 'piscina';

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/**
 * Hands accepted connections to the workers in turn (skipping any at its task limit). Piscina's
 * default, least-busy, picks the first worker whose usage is 0 — and a hand-off task finishes as
 * soon as the socket is adopted, so nearly every connection landed on the first worker: one
 * core did the work, and one worker's crash took every connection with it.
 */
export function roundRobinBalancer(maximumUsage: number): Balancer {
  let next = 0;
  return (_task, workers) => {
    const n = workers.length;
    for (let i = 0; i < n; i++) {
      const w = workers[(next + i) % n]!;
      if (w.currentUsage < maximumUsage) {
        next = (next + i + 1) % n;
        return w;
      }
    }
    return null;
  };
}
