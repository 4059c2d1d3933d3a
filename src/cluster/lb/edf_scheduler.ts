/**
 * Earliest deadline first over host indices, as Envoy schedules weighted round robin and
 * weighted least request: each host waits in a binary min-heap keyed by its next deadline, a
 * pick takes the earliest and the caller gives it its next deadline (1 / weight later), so
 * a pick costs O(log hosts) and a host of weight 8 among 8:3:1 gets its turns spread over
 * the cycle. Ties go to the lower index, so a cycle of integer weights is exactly periodic.
 */
export class EdfScheduler {
  private readonly heap: Int32Array;
  private readonly deadline: Float64Array;

  /** `initial[i]`: host i's first deadline. */
  constructor(initial: Float64Array) {
    const n = initial.length;
    this.deadline = Float64Array.from(initial);
    this.heap = new Int32Array(n);
    for (let i = 0; i < n; i++) this.heap[i] = i;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The host with the earliest deadline; it stays first until `reschedule` moves it. */
  peek(): number {
    return this.heap[0];
  }

  /** The deadline the first host was picked at. */
  peekDeadline(): number {
    return this.deadline[this.heap[0]];
  }

  /** Gives the first host (the one `peek` returned) its next deadline. */
  reschedule(nextDeadline: number): void {
    this.deadline[this.heap[0]] = nextDeadline;
    this.siftDown(0);
  }

  private siftDown(from: number): void {
    const heap = this.heap;
    const n = heap.length;
    let i = from;
    const item = heap[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(heap[right], heap[left]) ? right : left;
      if (!this.before(heap[child], item)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = item;
  }

  private before(a: number, b: number): boolean {
    const da = this.deadline[a];
    const db = this.deadline[b];
    return da < db || (da === db && a < b);
  }
}
