import { openLoop } from '../lib/load/open_loop.js';
import { sleep, treeMemoryMB } from '../lib/proc.js';
import { byMode, HTTP_TARGETS } from '../lib/targets/index.js';
import { HTTP_PATHS, type Sample, type Scenario } from '../lib/types.js';
import { REQUEST_1K } from '../servers/bodies.js';
import { CONNECTIONS, RATE } from './latency_fixed_rate.js';

function memory(pid: number | undefined): Sample {
  if (pid === undefined) throw new Error('no proxy process');
  const m = treeMemoryMB(pid);
  return { value: m.rss, extra: { pss: m.pss } };
}

export const scenario: Scenario = {
  name: 'memory',
  title: 'Proxy memory, idle and at 1,000 req/s',
  describes:
    'Resident memory of the proxy process and its children (nginx workers, Node cluster workers): idle after start-up, and the highest reading ' +
    '(sampled every 250 ms) while forwarding 1,000 req/s over 16 connections (1 KB each way). RSS sums processes; PSS shares their common pages.',
  order: 70,
  unit: 'MB RSS',
  higherIsBetter: false,
  // Quick runs read memory from latency_fixed_rate's RSS columns instead.
  modes: ['smoke', 'full'],
  upstream: 'http',
  targets: (mode) => byMode(HTTP_TARGETS, HTTP_TARGETS)(mode).filter((t) => t !== 'direct'),
  // RSS is not a rate: one longer repetition per variant, no warm-up.
  timing: (mode) => ({ warmupSec: 0, reps: 1, durSec: mode === 'full' ? 10 : 0.5 }),
  variants: () => [
    {
      name: 'idle',
      tool: '/proc',
      async measure(_ctx, _endpoint, run, pid) {
        await sleep(Math.min(run.sec, 0.5) * 1000);
        return memory(pid);
      },
    },
    {
      name: `${RATE} req/s`,
      tool: 'node open-loop generator + /proc',
      async measure(_ctx, endpoint, run, pid) {
        let peak: Sample = memory(pid);
        const timer = setInterval(() => {
          const m = memory(pid);
          if (m.value > peak.value) peak = m;
        }, 250);
        try {
          await openLoop({ endpoint, rate: RATE, connections: CONNECTIONS, durSec: run.sec, method: 'POST', path: HTTP_PATHS.oneK, body: REQUEST_1K });
        } finally {
          clearInterval(timer);
        }
        return peak;
      },
    },
  ],
  compareWith: ['haproxy'],
  columns: [{ key: 'pss', header: 'PSS MB', digits: 1 }],
};
