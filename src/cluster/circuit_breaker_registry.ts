import type { CircuitBreakerThresholds, Cluster } from '../config/model.js';
import { UNLIMITED } from '../config/model.js';
import { CX, RESOURCES, type CircuitBreakerShared, type Resource } from './circuit_breaker.js';

/**
 * The main thread's side: slot per cluster name, the current limits (for the
 * `circuit_breakers.default.*` gauges, computed on read), and giving back a dead worker's share.
 */
export class CircuitBreakerRegistry {
  readonly shared: CircuitBreakerShared;
  private readonly counts: Int32Array;
  private readonly slots = new Map<string, number>();
  private readonly thresholds: (CircuitBreakerThresholds | undefined)[] = [];

  constructor(opts: { columns: number; capacity?: number }) {
    const capacity = opts.capacity ?? 1 << 14;
    this.shared = {
      counts: new SharedArrayBuffer(capacity * RESOURCES * (opts.columns + 1) * 4),
      owners: new SharedArrayBuffer(opts.columns * 4),
      capacity,
      columns: opts.columns,
    };
    this.counts = new Int32Array(this.shared.counts);
  }

  /** Slots of these clusters (new names get the next free one), written into `into`; limits updated. */
  index(clusters: readonly Cluster[], into: Record<string, number>): Record<string, number> {
    for (const c of clusters) {
      let slot = this.slots.get(c.name);
      if (slot === undefined) {
        slot = this.slots.size;
        if (slot >= this.shared.capacity) throw new Error(`circuit breaker capacity ${this.shared.capacity} clusters exhausted`);
        this.slots.set(c.name, slot);
      }
      this.thresholds[slot] = c.circuitBreakers;
      into[c.name] = slot;
    }
    return into;
  }

  /** Held now, summed over workers. */
  count(slot: number, r: Resource): number {
    return Atomics.load(this.counts, slot * RESOURCES + r);
  }

  /** The configured limit (Envoy's number: 4294967295 when unlimited). */
  limit(slot: number, r: Resource): number {
    const t = this.thresholds[slot];
    return [t?.maxConnections, t?.maxPendingRequests, t?.maxRequests, t?.maxRetries][r] ?? UNLIMITED;
  }

  trackRemaining(slot: number): boolean {
    return this.thresholds[slot]?.trackRemaining ?? false;
  }

  /** A dead worker's connections and requests died with it: take its share out of the totals. */
  releaseWorker(threadId: number): void {
    const owners = new Int32Array(this.shared.owners);
    const block = this.shared.capacity * RESOURCES;
    for (let c = 0; c < this.shared.columns; c++) {
      if (Atomics.load(owners, c) !== threadId) continue;
      const base = (c + 1) * block;
      for (let i = 0; i < block; i++) {
        const held = Atomics.exchange(this.counts, base + i, 0);
        if (held === 0) continue;
        Atomics.sub(this.counts, i, held);
        if (i % RESOURCES === CX) Atomics.notify(this.counts, i);
      }
      Atomics.store(owners, c, 0);
    }
  }
}
