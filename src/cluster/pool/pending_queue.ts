import { PENDING, type Breaker } from '../circuit_breaker.js';
import type { PoolStats } from './http1_pool.js';
import { PendingRequest, type PoolRequester, type RequestPool } from './upstream_request.js';
import { performance } from 'node:perf_hooks';
import { guardedTimeout, runGuarded } from '../../guarded_timer.js';

/** The pool a queue belongs to: its breaker (replaced on config changes) and what it does when a request stops waiting. */
export interface PendingQueueOwner extends RequestPool {
  readonly breaker: Breaker;
  /** A request left the queue (served, failed, expired or cancelled). */
  onPendingEnded?(): void;
}

/**
 * Envoy's pending queue of one pool (HTTP/1.1 or HTTP/2): requests waiting for a connection or
 * a stream, each holding a pending-request resource of the cluster's breaker
 * (http1MaxPendingRequests), oldest first. A request that waits a whole connect timeout fails
 * as a connect timeout would; one timer per queue, not per request.
 */
export class PendingQueue {
  private readonly list: PendingRequest[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly owner: PendingQueueOwner,
    private readonly stats: PoolStats,
    private readonly timeoutMs: number,
  ) {}

  get length(): number {
    return this.list.length;
  }

  /** Queues the request, or fails it at once as overflow when the breaker's pending limit is reached. */
  add(requester: PoolRequester): PendingRequest | undefined {
    if (!this.owner.breaker.tryAcquire(PENDING)) {
      this.stats.onPendingOverflow();
      requester.onPoolFailure('overflow', false);
      return undefined;
    }
    const p = new PendingRequest(this.owner, requester, performance.now());
    this.list.push(p);
    this.stats.onPending(1);
    this.arm();
    return p;
  }

  /** The client went away while its request waited. */
  cancel(p: PendingRequest): void {
    const i = this.list.indexOf(p);
    if (i < 0) return;
    this.list.splice(i, 1);
    this.ended();
  }

  /** The oldest waiting request, out of the queue (its pending resource given back). */
  shift(): PendingRequest | undefined {
    const p = this.list.shift();
    if (!p) return undefined;
    this.ended();
    this.disarmIfEmpty();
    return p;
  }

  /** Every waiting request fails (a connect failure, an overflow): retries or the client decide what next. */
  failAll(reason: string, timeout: boolean): void {
    for (const p of this.list.splice(0)) {
      this.ended();
      failRequester(p, reason, timeout);
    }
    this.disarmIfEmpty();
  }

  private ended(): void {
    this.owner.breaker.release(PENDING);
    this.stats.onPending(-1);
    this.owner.onPendingEnded?.();
  }

  private arm(): void {
    if (this.timer || this.list.length === 0) return;
    const due = this.list[0]!.since + this.timeoutMs - performance.now();
    this.timer = guardedTimeout(() => this.expire(), Math.max(0, due), 'the pending requests\' expiry', () => this.arm());
  }

  private disarmIfEmpty(): void {
    if (this.list.length > 0 || !this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expire(): void {
    this.timer = undefined;
    const oldest = performance.now() - this.timeoutMs;
    while (this.list.length > 0 && this.list[0]!.since <= oldest + 1) {
      const p = this.list.shift()!;
      this.ended();
      failRequester(p, 'connection timeout', true);
    }
    this.arm();
  }
}

/**
 * One request of many hears that it failed: a throw while it handles that (a bug) ends that
 * request, and the others still hear (a timer or a connect failure fails them all in one loop).
 */
export function failRequester(p: PendingRequest, reason: string, timeout: boolean): void {
  runGuarded(() => p.requester.onPoolFailure(reason, timeout), 'a pool failure\'s handling', () => p.requester.endAfterThrow());
}
