import { CLOSED_LOOP_COLUMNS, closedLoopVariants } from '../lib/closed_loop.js';
import { readCounts, spread } from '../lib/load/upstream_counts.js';
import { HTTP_PATHS, type Scenario, type Variant } from '../lib/types.js';
import { httpUpstreamPorts } from '../lib/upstream.js';

const UPSTREAMS = 4;
const upstreams = httpUpstreamPorts(UPSTREAMS).map((port) => ({ host: '127.0.0.1', port }));

/** The closed-loop variant, with each upstream's share of the repetition's requests read around it. */
function countingSpread(v: Variant): Variant {
  return {
    ...v,
    async measure(ctx, endpoint, run, pid) {
      const before = await readCounts(upstreams);
      const sample = await v.measure(ctx, endpoint, run, pid);
      return { ...sample, extra: { ...sample.extra, ...spread(before, await readCounts(upstreams)) } };
    },
  };
}

const SHARE_COLUMNS = Array.from({ length: UPSTREAMS }, (_, i) => ({ key: `share${i + 1}`, header: `upstream ${i + 1} %`, digits: 1 }));

export const scenario: Scenario = {
  name: 'http_lb',
  title: 'HTTP/1.1 keep-alive over 4 upstreams, least request',
  describes:
    'Closed loop, 50 keep-alive connections, GET with a 2-byte body, balanced per request over 4 upstreams (4 nginx instances, one worker each; ' +
    'the Node server on 4 ports in smoke runs): Legate\'s HTTP connection manager with a ServiceEntry of 4 STATIC endpoints and a DestinationRule ' +
    '`loadBalancer.simple: LEAST_REQUEST` (power of two choices) against HAProxy `balance leastconn` and nginx `least_conn`, both keeping ' +
    'upstream connections alive. "upstream N %" is each upstream\'s share of the requests, read from its stub_status around every repetition; ' +
    '"busiest/idlest" divides the largest count by the smallest (1.00 is perfectly even). Direct (no proxy) reaches upstream 1 only: the ceiling of one upstream, not a balancer.',
  order: 15,
  unit: 'req/s',
  higherIsBetter: true,
  modes: ['smoke', 'quick', 'full'],
  upstream: 'http',
  upstreamCount: UPSTREAMS,
  targets: (mode) => (mode === 'smoke' ? ['direct', 'legate-http-least-request'] : ['direct', 'haproxy-leastconn', 'nginx-least-conn', 'legate-http-least-request']),
  variants: (ctx) => closedLoopVariants(ctx, { path: HTTP_PATHS.small, connections: 50 }).map(countingSpread),
  compareWith: ['haproxy-leastconn', 'nginx-least-conn', 'direct'],
  columns: [...CLOSED_LOOP_COLUMNS, ...SHARE_COLUMNS, { key: 'busiestOverIdlest', header: 'busiest/idlest', digits: 2 }],
  notes: [
    'Shares and busiest/idlest are medians over repetitions, so the shares need not add up to exactly 100.',
    'All four upstreams share the load cores with the load generator; on a 2-core machine that is one core, so the upstream side may limit every row alike.',
  ],
};
