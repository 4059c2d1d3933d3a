import { cpuCount } from '../lib/closed_loop.js';
import { connectRate } from '../lib/load/connect_rate.js';
import { runWrk } from '../lib/load/wrk.js';
import { pct } from '../lib/stats.js';
import { floorVerdicts } from '../lib/verdicts.js';
import { byMode, TCP_TARGETS, QUICK_TCP_TARGETS } from '../lib/targets/index.js';
import { HTTP_PATHS, type Scenario, type Variant } from '../lib/types.js';

const CONNECTIONS = 50;

const variant = (useWrk: boolean, connections: number): Variant => ({
  name: `${connections} concurrent`,
  tool: useWrk ? 'wrk (Connection: close)' : 'node connect loop',
  async measure(ctx, endpoint, run) {
    // wrk counts whole seconds; a shorter warm-up (quick runs) uses the Node loop.
    const r = useWrk && !(run.warmup && run.sec < 1)
      ? runWrk({ endpoint, path: HTTP_PATHS.small, connections, durSec: Math.max(1, Math.round(run.sec)), close: true, threads: cpuCount(ctx.cpus.load), tmp: ctx.tmp })
      : await connectRate({ endpoint, connections, durSec: run.sec, path: HTTP_PATHS.small });
    return { value: r.rps, percentiles: r.percentiles, extra: { errors: r.errors, p50: pct(r.percentiles, 50) ?? NaN, p99: pct(r.percentiles, 99) ?? NaN } };
  },
});

export const scenario: Scenario = {
  name: 'tcp_connect_rate',
  title: 'New connections per second (no keep-alive)',
  describes:
    'Each request on a new connection: connect, send a small HTTP request with `Connection: close`, read the reply, close; 50 at a time. ' +
    'Through Legate every connection is accepted, its original destination read, handed to a worker (hand-off mode) and connected upstream. ' +
    'Issue 2 target: hand-off sustaining ≥ 20,000 new connections/s.',
  order: 50,
  unit: 'conn/s',
  higherIsBetter: true,
  modes: ['smoke', 'quick', 'full'],
  upstream: 'http',
  targets: byMode(TCP_TARGETS, QUICK_TCP_TARGETS),
  // Issue 2 asks for 1 worker pinned and 2 unpinned; quick runs keep to the first (time budget).
  workers: (mode, requested) => (mode === 'full' ? [...new Set([...requested, 1, 2])].sort((a, b) => a - b) : requested),
  variants: (ctx) => [variant(ctx.mode !== 'smoke' && ctx.tools.wrk, ctx.mode === 'smoke' ? 8 : CONNECTIONS)],
  compareWith: ['haproxy-tcp', 'direct'],
  verdicts: (rows) => floorVerdicts(rows, 'legate-handoff', 20_000, 'conn/s', 'Issue 2 hand-off connection rate'),
  columns: [
    { key: 'p50', header: 'p50 ms', digits: 2 },
    { key: 'p99', header: 'p99 ms', digits: 2 },
    { key: 'errors', header: 'errors', digits: 0 },
  ],
};
