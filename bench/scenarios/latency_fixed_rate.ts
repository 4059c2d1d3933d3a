import { openLoop } from '../lib/load/open_loop.js';
import { treeRssSampler } from '../lib/proc.js';
import { pct } from '../lib/stats.js';
import { byMode, LATENCY_TARGETS, QUICK_LATENCY_TARGETS } from '../lib/targets/index.js';
import { HTTP_PATHS, type Scenario } from '../lib/types.js';
import { REQUEST_1K } from '../servers/bodies.js';

export const RATE = 1000;
export const CONNECTIONS = 16;
/** Per-5 s windows of the p99 settle after 15–20 s at this rate (BENCH_TRACE_LATENCY traces). */
const STEADY_WARMUP_SEC = 20;

export const scenario: Scenario = {
  name: 'latency_fixed_rate',
  title: 'Latency at a fixed 1,000 req/s',
  describes:
    "Istio's published test shape: open loop at 1,000 requests/s over 16 keep-alive connections, POST with a 1 KB body answered with 1 KB. " +
    'Generator: bench/lib/load/open_loop.ts (Node, hdr-histogram-js; wrk2 is not in Debian). Latency is timed from the moment each request is written; ' +
    'the CO-corrected p99 times from when it fell due (wrk2 style). "+ms vs direct" is the latency the proxy adds. ' +
    '"direct, upstream on the proxy\'s core" has no proxy either: its "+ms vs direct" is what crossing between cores costs on this machine (a request and its response cross once each; through a proxy on its own core they cross twice). ' +
    `Every target first runs the same load for ${STEADY_WARMUP_SEC} s: at this rate V8 takes that long to finish compiling Legate's hot path on its one pinned core, and the compiles set the tail until then (bench/README.md). ` +
    'RSS: the proxy process tree after start-up, and its peak during the run (the memory scenario measures it longer, in full runs).',
  order: 60,
  unit: 'ms (p50)',
  higherIsBetter: false,
  modes: ['smoke', 'quick', 'full'],
  upstream: 'http',
  targets: byMode(LATENCY_TARGETS, QUICK_LATENCY_TARGETS),
  timing: (mode) => (mode === 'quick' ? { durSec: 0.8 } : {}),
  steadyWarmupSec: STEADY_WARMUP_SEC,
  variants: () => [
    {
      name: `${RATE} req/s, ${CONNECTIONS} conns`,
      tool: 'node open-loop generator',
      async measure(_ctx, endpoint, run, pid) {
        let rss = 0;
        const rssOf = pid !== undefined ? treeRssSampler(pid) : undefined;
        const sample = () => rssOf && (rss = Math.max(rss, rssOf()));
        const r = await openLoop({ endpoint, rate: RATE, connections: CONNECTIONS, durSec: run.sec, method: 'POST', path: HTTP_PATHS.oneK, body: REQUEST_1K, every250ms: sample });
        sample();
        return {
          value: pct(r.percentiles, 50)!,
          percentiles: r.percentiles,
          extra: {
            p90: pct(r.percentiles, 90)!,
            p99: pct(r.percentiles, 99)!,
            p999: pct(r.percentiles, 99.9)!,
            max: pct(r.percentiles, 100)!,
            p99co: pct(r.correctedPercentiles, 99)!,
            rate: r.achievedRate,
            errors: r.errors,
            ...(pid !== undefined ? { rss } : {}),
          },
        };
      },
    },
  ],
  compareWith: ['direct'],
  compareAs: 'difference',
  columns: [
    { key: 'p90', header: 'p90', digits: 3 },
    { key: 'p99', header: 'p99', digits: 3 },
    { key: 'p999', header: 'p99.9', digits: 3 },
    { key: 'max', header: 'max', digits: 2 },
    { key: 'p99co', header: 'p99 CO-corrected', digits: 3 },
    { key: 'rate', header: 'achieved req/s', digits: 0 },
    { key: 'rssIdle', header: 'RSS MB idle', digits: 0 },
    { key: 'rss', header: 'RSS MB at 1k req/s', digits: 0 },
    { key: 'errors', header: 'errors', digits: 0 },
  ],
};
