import type { CircuitBreakerThresholds, Cluster } from '../config/model.js';
import { UNLIMITED } from '../config/model.js';

/**
 * Envoy's circuit breakers (default priority), per cluster and shared by every worker: the
 * counts live in one Int32Array over a SharedArrayBuffer that the main thread creates and
 * hands to workers, so `maxConnections: 1` means one connection for the whole proxy, not one
 * per thread.
 *
 * Layout: a block of RESOURCES slots per cluster (the cluster's breaker slot, assigned on the
 * main thread and stable for its name). The first `capacity` blocks are the totals that limits
 * are checked against (compare-and-swap, so a limit holds across threads); then one column of
 * blocks per worker with what that worker holds, so that when a worker dies the main thread
 * can give its share back (its connections and requests died with it).
 */

/** Resource indexes in a cluster's block. */
export const CX = 0;
export const PENDING = 1;
export const RQ = 2;
export const RETRY = 3;
export type Resource = typeof CX | typeof PENDING | typeof RQ | typeof RETRY;
/** Not a limit: how many pools wait for a connection of the cluster to close (see othersWaiting()). */
const WAITING = 4;
const RESOURCES = 5;

/** Limits at or above this are Envoy's "unlimited" (Istio's default, 2^32-1, does not fit an Int32). */
const INT32_MAX = 0x7fffffff;

export interface CircuitBreakerShared {
  counts: SharedArrayBuffer;
  /** Int32 per worker column: the threadId that owns it, 0 when free. */
  owners: SharedArrayBuffer;
  /** How many clusters fit. */
  capacity: number;
  columns: number;
}

/** Atomics.waitAsync (Node 16+; not in the ES2022 lib typings this project compiles against). */
type WaitAsync = (a: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const limitOf = (n: number | undefined) => Math.min(n ?? UNLIMITED, INT32_MAX);

function limitsOf(t: CircuitBreakerThresholds | undefined): number[] {
  return [limitOf(t?.maxConnections), limitOf(t?.maxPendingRequests), limitOf(t?.maxRequests), limitOf(t?.maxRetries)];
}

/** What a connection pool, the router and tcp_proxy ask of one cluster's breakers. */
export interface Breaker {
  tryAcquire(r: Resource): boolean;
  release(r: Resource): void;
  /** `wake` runs (once, later) after a connection of this cluster closes on any worker. */
  waitForConnection(wake: () => void): void;
  /**
   * Some pool waits for this cluster's connection capacity: a connection that would go idle is
   * closed instead, so that an idle connection on one worker never starves another worker.
   */
  othersWaiting(): boolean;
}

/** For clusters without a breaker slot (tests that wire no shared memory): never refuses. */
export const NO_BREAKER: Breaker = {
  tryAcquire: () => true,
  release: () => {},
  waitForConnection: () => {},
  othersWaiting: () => false,
};

/** A worker's handle on the shared counts. */
export class CircuitBreakers {
  private readonly counts: Int32Array;
  /** Offset of this worker's column, or -1 when none could be claimed (its share then cannot be given back). */
  private readonly column: number;
  private readonly byConfig = new WeakMap<Cluster, ClusterBreaker>();
  /** Per slot: callbacks waiting for a connection to close somewhere. */
  private readonly waiters = new Map<number, Set<() => void>>();
  private readonly watching = new Set<number>();

  constructor(shared: CircuitBreakerShared, column: number) {
    this.counts = new Int32Array(shared.counts);
    this.column = column < 0 ? -1 : (column + 1) * shared.capacity * RESOURCES;
  }

  /** Claims a free column for this thread, as StatsWriter.claim does a stats slab. */
  static claim(shared: CircuitBreakerShared, threadId: number): CircuitBreakers {
    const owners = new Int32Array(shared.owners);
    for (let c = 0; c < shared.columns; c++) {
      if (Atomics.compareExchange(owners, c, 0, threadId) === 0) return new CircuitBreakers(shared, c);
    }
    return new CircuitBreakers(shared, -1);
  }

  /** The breaker of one cluster config (limits change with the config; counts stay with the slot). */
  forCluster(config: Cluster, slot: number): ClusterBreaker {
    let b = this.byConfig.get(config);
    if (!b) this.byConfig.set(config, (b = new ClusterBreaker(this, slot, limitsOf(config.circuitBreakers))));
    return b;
  }

  tryAcquire(slot: number, r: Resource, limit: number): boolean {
    const counts = this.counts;
    const idx = slot * RESOURCES + r;
    // A CAS loop rather than add-then-undo: no thread ever sees a count above the limit.
    for (;;) {
      const seen = Atomics.load(counts, idx);
      if (seen >= limit) return false;
      if (Atomics.compareExchange(counts, idx, seen, seen + 1) === seen) break;
    }
    if (this.column >= 0) Atomics.add(counts, this.column + idx, 1);
    return true;
  }

  release(slot: number, r: Resource): void {
    const idx = slot * RESOURCES + r;
    Atomics.sub(this.counts, idx, 1);
    if (this.column >= 0) Atomics.sub(this.counts, this.column + idx, 1);
    // Wakes pools (on any worker, this one included) waiting in Atomics.waitAsync for a connection.
    if (r === CX) Atomics.notify(this.counts, idx);
  }

  private addWaiting(slot: number, n: 1 | -1): void {
    const idx = slot * RESOURCES + WAITING;
    Atomics.add(this.counts, idx, n);
    if (this.column >= 0) Atomics.add(this.counts, this.column + idx, n);
  }

  othersWaiting(slot: number): boolean {
    return Atomics.load(this.counts, slot * RESOURCES + WAITING) > 0;
  }

  waitForConnection(slot: number, wake: () => void): void {
    let set = this.waiters.get(slot);
    if (!set) this.waiters.set(slot, (set = new Set()));
    if (set.has(wake)) return;
    set.add(wake);
    this.addWaiting(slot, 1);
    if (this.watching.has(slot)) return;
    this.watching.add(slot);
    const idx = slot * RESOURCES + CX;
    const onChange = () => {
      this.watching.delete(slot);
      const woken = this.waiters.get(slot);
      this.waiters.delete(slot);
      if (!woken) return;
      for (const w of woken) {
        this.addWaiting(slot, -1);
        w();
      }
    };
    // Waits while the count is still what it was; a release in between makes it return at once.
    const w = waitAsync(this.counts, idx, Atomics.load(this.counts, idx));
    if (w.async) void w.value.then(onChange);
    else setImmediate(onChange);
  }
}

/** One cluster's breakers on one worker, with the limits of the config it was made for. */
export class ClusterBreaker implements Breaker {
  constructor(
    private readonly owner: CircuitBreakers,
    readonly slot: number,
    private readonly limits: readonly number[],
  ) {}

  tryAcquire(r: Resource): boolean {
    return this.owner.tryAcquire(this.slot, r, this.limits[r]);
  }

  release(r: Resource): void {
    this.owner.release(this.slot, r);
  }

  waitForConnection(wake: () => void): void {
    this.owner.waitForConnection(this.slot, wake);
  }

  othersWaiting(): boolean {
    return this.owner.othersWaiting(this.slot);
  }
}

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

/** The breaker a worker uses for a cluster: NO_BREAKER when it has no shared counts or no slot for it. */
export function breakerFor(breakers: CircuitBreakers | undefined, slot: number | undefined, config: Cluster): Breaker {
  return breakers && slot !== undefined ? breakers.forCluster(config, slot) : NO_BREAKER;
}
