import * as hdr from 'hdr-histogram-js';
import type { Sample } from './types.js';

/** Percentiles reported in tables and drawn in latency charts. */
export const PERCENTILES = [50, 75, 90, 99, 99.9, 99.99, 100] as const;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A latency histogram in microseconds (1 µs to 60 s, 3 significant digits). */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/** [percentile, ms] pairs from a histogram recorded in microseconds. */
export function percentilesMs(h: hdr.Histogram): [number, number][] {
  return PERCENTILES.map((p) => [p, h.getValueAtPercentile(p) / 1000]);
}

export const pct = (ps: readonly [number, number][] | undefined, p: number) => ps?.find(([q]) => q === p)?.[1];

/** Summarises repetitions: median value with min–max spread, median of each extra and percentile. */
export function summarise(samples: readonly Sample[]): {
  samples: number[];
  median: number;
  min: number;
  max: number;
  extra: Record<string, number>;
  percentiles?: [number, number][];
} {
  const values = samples.map((s) => s.value);
  const extra: Record<string, number> = {};
  const keys = new Set(samples.flatMap((s) => Object.keys(s.extra ?? {})));
  for (const k of keys) extra[k] = median(samples.map((s) => s.extra?.[k]).filter((v): v is number => v !== undefined));
  const withP = samples.filter((s) => s.percentiles);
  const percentiles = withP.length
    ? withP[0].percentiles!.map(([p]) => [p, median(withP.map((s) => pct(s.percentiles, p) ?? NaN))] as [number, number])
    : undefined;
  return { samples: values, median: median(values), min: Math.min(...values), max: Math.max(...values), extra, percentiles };
}
