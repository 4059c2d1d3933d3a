/**
 * Envoy's overload manager `global_downstream_max_connections`: one count of downstream
 * connections shared by every worker (Atomics over a SharedArrayBuffer), so the limit holds
 * for the process, not per thread. A connection over the limit is closed as soon as a worker
 * sees it; the listeners keep accepting, and serve again once the count is below the limit.
 * (Istio's bootstrap sets it to 2^31-1, i.e. no limit; `--max-connections` sets one.)
 */
export interface ConnectionLimitShared {
  counter: SharedArrayBuffer;
  /** 0: no limit. */
  max: number;
}

export function createConnectionLimitShared(max: number): ConnectionLimitShared {
  return { counter: new SharedArrayBuffer(4), max };
}

export class GlobalConnectionLimit {
  private readonly count: Int32Array;
  readonly max: number;

  constructor(shared: ConnectionLimitShared) {
    this.count = new Int32Array(shared.counter);
    this.max = shared.max;
  }

  /** Counts a new connection; false (and not counted) when the limit is reached. */
  tryAcquire(): boolean {
    if (Atomics.add(this.count, 0, 1) < this.max) return true;
    Atomics.sub(this.count, 0, 1);
    return false;
  }

  release(): void {
    Atomics.sub(this.count, 0, 1);
  }

  get active(): number {
    return Atomics.load(this.count, 0);
  }
}
