import { bulkDownload } from '../lib/load/bulk.js';
import { ratioVerdicts } from '../lib/verdicts.js';
import { byMode, TCP_TARGETS, QUICK_TCP_TARGETS } from '../lib/targets/index.js';
import type { Mode, Scenario, Variant } from '../lib/types.js';

const MiB = 1 << 20;
/** Bytes per repetition (a warm-up moves a quarter of it). */
const BYTES: Record<Mode, number> = { smoke: 32 * MiB, quick: 128 * MiB, full: 1024 * MiB };

function variant(connections: number): Variant {
  return {
    name: `${connections} conn${connections > 1 ? 's' : ''}`,
    tool: 'node bulk client',
    async measure(ctx, endpoint, run) {
      const totalBytes = run.warmup ? BYTES[ctx.mode] / 4 : BYTES[ctx.mode];
      const r = await bulkDownload({ endpoint, connections, totalBytes });
      if (r.errors) throw new Error(`${r.errors} of ${connections} transfers ended short`);
      return { value: r.mbps };
    },
  };
}

export const scenario: Scenario = {
  name: 'tcp_bulk',
  title: 'tcp_proxy bulk throughput',
  describes:
    'Bulk download through the proxy from a Node byte source: 1 GiB per repetition in full runs (128 MiB quick), through one connection and split over 4. ' +
    'MB/s = 10^6 bytes per second from the first connect to the last FIN. Issue 2 target: Legate at 1 worker ≥ 0.8× haproxy (mode tcp) per core.',
  order: 40,
  unit: 'MB/s',
  higherIsBetter: true,
  modes: ['smoke', 'quick', 'full'],
  upstream: 'tcp-source',
  targets: byMode(TCP_TARGETS, QUICK_TCP_TARGETS),
  workers: (mode, requested) => (mode === 'smoke' ? [1] : [...new Set([...requested, 1, 2])].sort((a, b) => a - b)),
  variants: () => [variant(1), variant(4)],
  compareWith: ['haproxy-tcp', 'direct'],
  notes: ['HAProxy runs with its defaults here: 16 kB buffers and no splice(2); Node reads up to 64 kB per read.'],
  verdicts: (rows) => ratioVerdicts(rows, 'haproxy-tcp', 0.8, 'Issue 2 throughput per core'),
};
