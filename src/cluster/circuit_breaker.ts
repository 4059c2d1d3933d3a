import type { CircuitBreakerThresholds, Cluster } from '../config/model.js';
import { UNLIMITED } from '../config/model.js';
import { logger, stackOf } from '../log.js';

const log = logger('upstream');

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
export const WAITING = 4;
export const RESOURCES = 5;

/** Limits at or above this are Envoy's "unlimited" (Istio's default, 2^32-1, does not fit an Int32). */
export const INT32_MAX = 0x7fffffff;

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
  /** `wake` is no longer needed (its requests were served or have gone). */
  cancelWait(wake: () => void): void;
  /**
   * Some pool waits for this cluster's connection capacity: a connection that would go idle is
   * closed instead, so that an idle connection on one worker never starves another worker.
   */
  othersWaiting(): boolean;
  /** `onWaiting` runs once some pool waits for this cluster's connection capacity (never without a connection limit). */
  whenOthersWait(onWaiting: () => void): void;
}

/** For clusters without a breaker slot (tests that wire no shared memory): never refuses. */
export const NO_BREAKER: Breaker = {
  tryAcquire: () => true,
  release: () => {},
  waitForConnection: () => {},
  cancelWait: () => {},
  othersWaiting: () => false,
  whenOthersWait: () => {},
};

/** A worker's handle on the shared counts. */
export class CircuitBreakers {
  private readonly counts: Int32Array;
  /** Offset of this worker's column, or -1 when none could be claimed (its share then cannot be given back). */
  private readonly column: number;
  private readonly byConfig = new WeakMap<Cluster, ClusterBreaker>();
  /** Pools waiting for a connection of the cluster to close somewhere (woken by release(CX)). */
  private readonly capacityWaiters: SlotWatchers;
  /** Pools holding idle connections, to be told when another pool waits (woken by addWaiting). */
  private readonly idleHolders: SlotWatchers;

  constructor(shared: CircuitBreakerShared, column: number) {
    this.counts = new Int32Array(shared.counts);
    this.column = column < 0 ? -1 : (column + 1) * shared.capacity * RESOURCES;
    this.capacityWaiters = new SlotWatchers(this.counts, CX, (slot) => this.addWaiting(slot, -1));
    this.idleHolders = new SlotWatchers(this.counts, WAITING);
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
    if (limit === INT32_MAX) {
      // Unlimited (Istio's default): no count can reach the limit, so no check to race with.
      Atomics.add(counts, idx, 1);
    } else {
      // A CAS loop rather than add-then-undo: no thread ever sees a count above the limit. The
      // first read may be stale (a plain load, where Atomics.load is a builtin call): the CAS
      // checks it, and a failed CAS returns the current count.
      let seen = counts[idx]!;
      for (;;) {
        if (seen >= limit) return false;
        const found = Atomics.compareExchange(counts, idx, seen, seen + 1);
        if (found === seen) break;
        seen = found;
      }
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
    // Tells pools holding idle connections of the cluster (any worker) to give one up.
    if (n > 0) Atomics.notify(this.counts, idx);
  }

  othersWaiting(slot: number): boolean {
    // A plain load: asked each time a connection goes idle, and a stale answer only delays giving
    // one up until whenOthersWait's notification, which does not depend on it.
    return this.counts[slot * RESOURCES + WAITING]! > 0;
  }

  waitForConnection(slot: number, wake: () => void): void {
    if (this.capacityWaiters.add(slot, wake, Atomics.load(this.counts, slot * RESOURCES + CX))) this.addWaiting(slot, 1);
  }

  cancelWait(slot: number, wake: () => void): void {
    if (this.capacityWaiters.delete(slot, wake)) this.addWaiting(slot, -1);
  }

  /** `onWaiting` runs (once, later) when some pool waits for the cluster's connection capacity, at once if one does now. */
  whenOthersWait(slot: number, onWaiting: () => void): void {
    this.idleHolders.add(slot, onWaiting, 0);
  }
}

/**
 * One-shot callbacks per cluster slot, run after an Atomics.notify on one of the slot's counts
 * (from any thread) or at once when the count is not `expected` when armed: one
 * Atomics.waitAsync per slot and worker, however many pools wait.
 */
class SlotWatchers {
  private readonly callbacks = new Map<number, Set<() => void>>();
  private readonly armed = new Set<number>();

  constructor(
    private readonly counts: Int32Array,
    private readonly r: number,
    private readonly onFire: (slot: number) => void = () => {},
  ) {}

  /** False when `cb` was already waiting. */
  add(slot: number, cb: () => void, expected: number): boolean {
    let set = this.callbacks.get(slot);
    if (!set) this.callbacks.set(slot, (set = new Set()));
    if (set.has(cb)) return false;
    set.add(cb);
    if (!this.armed.has(slot)) {
      this.armed.add(slot);
      const fire = () => this.fire(slot);
      const w = waitAsync(this.counts, slot * RESOURCES + this.r, expected);
      if (w.async) void w.value.then(fire);
      else setImmediate(fire);
    }
    return true;
  }

  delete(slot: number, cb: () => void): boolean {
    return this.callbacks.get(slot)?.delete(cb) ?? false;
  }

  private fire(slot: number): void {
    this.armed.delete(slot);
    const set = this.callbacks.get(slot);
    this.callbacks.delete(slot);
    if (!set) return;
    for (const cb of set) {
      this.onFire(slot);
      // Called from a promise: a throw would be an unhandled rejection, which ends the worker
      // thread, and the pools after this one would not be woken.
      try {
        cb();
      } catch (err) {
        log.error(`a pool woken for connection capacity failed: ${stackOf(err)}`);
      }
    }
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

  cancelWait(wake: () => void): void {
    this.owner.cancelWait(this.slot, wake);
  }

  othersWaiting(): boolean {
    return this.owner.othersWaiting(this.slot);
  }

  whenOthersWait(onWaiting: () => void): void {
    // Without a connection limit nobody ever waits: no watch needed.
    if (this.limits[CX] < INT32_MAX) this.owner.whenOthersWait(this.slot, onWaiting);
  }
}

/** The breaker a worker uses for a cluster: NO_BREAKER when it has no shared counts or no slot for it. */
export function breakerFor(breakers: CircuitBreakers | undefined, slot: number | undefined, config: Cluster): Breaker {
  return breakers && slot !== undefined ? breakers.forCluster(config, slot) : NO_BREAKER;
}
