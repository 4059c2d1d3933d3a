/**
 * Fixed-bucket histograms in plain shared slots, as Prometheus wants them. Envoy's default
 * bucket boundaries (ms for times, bytes for sizes): Istio's sidecars use them for
 * `istio_request_duration_milliseconds` and the byte histograms alike.
 */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** Slots of one histogram: a count per bucket, one for values above the last bound, then the sum. */
export const HIST_SLOTS = DEFAULT_BUCKETS.length + 2;
const SUM = HIST_SLOTS - 1;

/** Index of the first bucket whose bound is ≥ value (Prometheus `le` is inclusive); the overflow slot past the last. */
export function bucketIndex(value: number): number {
  const b = DEFAULT_BUCKETS;
  let lo = 0;
  let hi = b.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (b[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Adds one sample to the histogram whose slots start at `base` of `v` (a worker's own slab: no atomics). */
export function recordBucket(v: Float64Array, base: number, value: number): void {
  v[base + bucketIndex(value)]++;
  v[base + SUM] += value;
}

export interface BucketCounts {
  /** Cumulative counts per bound of DEFAULT_BUCKETS, as Prometheus `_bucket{le=…}`. */
  cumulative: number[];
  count: number;
  sum: number;
}

/** Cumulative view of one histogram, summed over slabs by `read(slot)`. */
export function readBuckets(read: (slot: number) => number, base: number): BucketCounts {
  const cumulative: number[] = [];
  let running = 0;
  for (let i = 0; i < DEFAULT_BUCKETS.length; i++) {
    running += read(base + i);
    cumulative.push(running);
  }
  const count = running + read(base + DEFAULT_BUCKETS.length);
  return { cumulative, count, sum: read(base + SUM) };
}


/** One histogram series in Prometheus text: cumulative `_bucket`s, `+Inf`, `_sum`, `_count`. */
export function histogramLines(name: string, labels: string, b: BucketCounts): string {
  const sep = labels ? `${labels},` : '';
  let out = '';
  DEFAULT_BUCKETS.forEach((bound, i) => (out += `${name}_bucket{${sep}le="${bound}"} ${b.cumulative[i]}\n`));
  out += `${name}_bucket{${sep}le="+Inf"} ${b.count}\n`;
  out += `${name}_sum${labels ? `{${labels}}` : ''} ${b.sum}\n${name}_count${labels ? `{${labels}}` : ''} ${b.count}\n`;
  return out;
}

