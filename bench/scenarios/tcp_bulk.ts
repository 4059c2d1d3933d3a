import { bulkDownload } from '../lib/load/bulk.js';
import { ratioVerdicts } from '../lib/verdicts.js';
import { byMode, TCP_TARGETS, QUICK_TCP_TARGETS } from '../lib/targets/index.js';
import type { Scenario, Variant } from '../lib/types.js';

function variant(connections: number): Variant {
  return {
    name: `${connections} conn${connections > 1 ? 's' : ''}`,
    tool: 'node bulk client',
    async measure(_ctx, endpoint, run) {
      const r = await bulkDownload({ endpoint, connections, durSec: run.sec });
      if (r.errors) throw new Error(`${r.errors} of ${connections} transfers failed`);
      return { value: r.mbps, extra: { gib: r.bytes / 2 ** 30 } };
    },
  };
}

export const scenario: Scenario = {
  name: 'tcp_bulk',
  title: 'tcp_proxy bulk throughput',
  describes:
    'Bulk download through the proxy from a Node byte source, through one connection and over 4 at once, for the length of each repetition ' +
    '(5 s in full runs: several GiB; "GiB" shows how much moved). MB/s = 10^6 bytes per second. Issue 2 target: Legate at 1 worker ≥ 0.8× haproxy (mode tcp) per core.',
  order: 40,
  unit: 'MB/s',
  higherIsBetter: true,
  modes: ['smoke', 'quick', 'full'],
  upstream: 'tcp-source',
  // A transfer is at full speed within milliseconds on loopback: quick runs take short repetitions.
  timing: (mode) => (mode === 'quick' ? { warmupSec: 0.2, durSec: 0.3 } : {}),
  targets: byMode(TCP_TARGETS, QUICK_TCP_TARGETS),
  // Issue 2 asks for 1 worker pinned and 2 unpinned; quick runs keep to the first (time budget).
  workers: (mode, requested) => (mode === 'full' ? [...new Set([...requested, 1, 2])].sort((a, b) => a - b) : requested),
  variants: () => [variant(1), variant(4)],
  compareWith: ['haproxy-tcp', 'direct'],
  columns: [{ key: 'gib', header: 'GiB moved', digits: 2 }],
  notes: ['HAProxy runs with its defaults here: 16 kB buffers and no splice(2); Node reads up to 64 kB per read.'],
  verdicts: (rows) => ratioVerdicts(rows, 'haproxy-tcp', 0.8, 'Issue 2 throughput per core'),
};
