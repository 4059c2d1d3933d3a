import * as hdr from 'hdr-histogram-js';
import { BroadcastChannel, threadId } from 'node:worker_threads';

/**
 * Quantiles for Envoy's /stats histogram lines. Each worker keeps an HdrHistogram per
 * histogram slot it records (integer ms, as Envoy records times), on its own thread and
 * without shared state; the main thread asks for them only when /stats is read, on a
 * BroadcastChannel, and merges what the workers send back. Prometheus buckets do not need
 * this: they are shared slots (buckets.ts) read without asking anyone.
 */

/** Envoy's supported quantiles, in its /stats order. */
export const QUANTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100] as const;

/** Two significant digits, like Envoy's log-linear histograms; grows as values come. */
const build = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2, autoResize: true, numberOfSignificantValueDigits: 2 });

/** Values below this (ms) are counted in a plain array (2 KiB per histogram and worker): a request time is almost always one. */
const DIRECT = 256;

/** One histogram slot's samples: exact counts of small values, an HdrHistogram for the rest. */
interface Samples {
  small: Float64Array;
  large: hdr.Histogram | undefined;
}

/**
 * A worker's quantile samples. Recording is an array increment (HdrHistogram's bucket maths,
 * with its log2 and pow, ran twice per request); the HdrHistogram is built only when the main
 * thread asks, which is when /stats is read.
 */
export class LatencyRecorder {
  private readonly byBase = new Map<number, Samples>();

  record(base: number, ms: number): void {
    let s = this.byBase.get(base);
    if (!s) this.byBase.set(base, (s = { small: new Float64Array(DIRECT), large: undefined }));
    if (ms >= 0 && ms < DIRECT) s.small[ms | 0]!++;
    else (s.large ??= build()).recordValue(Math.max(0, ms));
  }

  /** The samples of `base` as an HdrHistogram (undefined when none were recorded). */
  histogram(base: number): hdr.Histogram | undefined {
    const s = this.byBase.get(base);
    if (!s) return undefined;
    const h = build();
    for (let v = 0; v < DIRECT; v++) if (s.small[v]! > 0) h.recordValueWithCount(v, s.small[v]!);
    if (s.large) h.add(s.large);
    return h.totalCount > 0 ? h : undefined;
  }

  /** What a worker sends when asked: slot → compressed histogram. */
  encode(): [number, string][] {
    const out: [number, string][] = [];
    for (const base of this.byBase.keys()) {
      const h = this.histogram(base);
      if (h) out.push([base, hdr.encodeIntoCompressedBase64(h)]);
    }
    return out;
  }
}

interface HistogramRequest {
  id: number;
}
interface HistogramReply {
  id: number;
  threadId: number;
  histograms: [number, string][];
}

const requestChannel = (poolId: string) => `legate.histograms.${poolId}`;
const replyChannel = (poolId: string) => `legate.histograms-reply.${poolId}`;

/** Worker side: answer the main thread's requests with this thread's histograms. */
export function serveHistograms(poolId: string, recorder: LatencyRecorder): void {
  const replies = new BroadcastChannel(replyChannel(poolId));
  const requests = new BroadcastChannel(requestChannel(poolId));
  requests.onmessage = (event) => {
    const { id } = (event as { data: HistogramRequest }).data;
    replies.postMessage({ id, threadId, histograms: recorder.encode() } satisfies HistogramReply);
  };
  // Neither channel may keep a worker alive on its own.
  replies.unref();
  requests.unref();
}

let nextRequest = 1;

/**
 * Main side: every worker's histograms merged by slot. Waits for `workers` replies, or
 * `timeoutMs` for a worker that is busy or gone (its samples are then missing from this read).
 */
export function collectHistograms(poolId: string, workers: number, timeoutMs = 1000): Promise<Map<number, hdr.Histogram>> {
  const id = nextRequest++;
  const merged = new Map<number, hdr.Histogram>();
  const replies = new BroadcastChannel(replyChannel(poolId));
  const requests = new BroadcastChannel(requestChannel(poolId));
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      replies.close();
      requests.close();
      resolve(merged);
    };
    const timer = setTimeout(done, timeoutMs);
    replies.onmessage = (event) => {
      const reply = (event as { data: HistogramReply }).data;
      if (reply.id !== id) return;
      for (const [base, encoded] of reply.histograms) {
        // Into a histogram that grows: workers' ranges differ.
        let into = merged.get(base);
        if (!into) merged.set(base, (into = build()));
        into.add(hdr.decodeFromCompressedBase64(encoded));
      }
      if (++seen >= workers) done();
    };
    if (workers <= 0) return done();
    requests.postMessage({ id } satisfies HistogramRequest);
  });
}

/** Envoy's /stats histogram value: `P0(interval,cumulative) … P100(…)`; no interval flushes here, so interval is `nan`. */
export function formatQuantiles(h: hdr.Histogram | undefined): string {
  if (!h || h.totalCount === 0) return 'No recorded values';
  return QUANTILES.map((q) => `P${q}(nan,${formatValue(h.getValueAtPercentile(q))})`).join(' ');
}

const formatValue = (v: number) => String(Number(v.toPrecision(3)));
