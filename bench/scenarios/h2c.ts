import { cpuCount } from '../lib/closed_loop.js';
import { runH2load } from '../lib/load/h2load.js';
import { HTTP_PATHS, type Scenario, type Variant } from '../lib/types.js';

/** Concurrent streams per connection: gRPC-like multiplexing, 10 connections × 20 streams. */
const CONNECTIONS = 10;
const STREAMS = 20;

function variant(): Variant {
  return {
    name: `${CONNECTIONS} conns × ${STREAMS} streams`,
    tool: 'h2load',
    async measure(c, endpoint, run) {
      const r = runH2load({ endpoint, path: HTTP_PATHS.small, connections: CONNECTIONS, streams: STREAMS, durSec: Math.max(1, Math.round(run.sec)), threads: cpuCount(c.cpus.load), tmp: c.tmp });
      return { value: r.rps, percentiles: r.percentiles, extra: { errors: r.errors, mean: r.meanMs } };
    },
  };
}

export const scenario: Scenario = {
  name: 'h2c',
  title: 'HTTP/2 (h2c, prior knowledge), many streams per connection, small body',
  describes:
    `Closed loop with h2load: ${CONNECTIONS} prior-knowledge h2c connections, ${STREAMS} concurrent streams each, GET with a 2-byte body. ` +
    'Every proxy takes h2c from the client and forwards HTTP/1.1 keep-alive to the same upstream: haproxy (`bind … proto h2`), nginx (`listen … http2` + proxy_pass), ' +
    'Legate (an HTTP ServiceEntry port: http_inspector detects h2c, each stream runs the HTTP connection manager and router). No "direct" row: the upstream speaks HTTP/1.1 only.',
  order: 15,
  unit: 'req/s',
  higherIsBetter: true,
  modes: ['quick', 'full'],
  upstream: 'http',
  targets: () => ['haproxy-h2c', 'nginx-h2c', 'legate-http'],
  variants: (ctx) => (ctx.tools.h2load ? [variant()] : []),
  compareWith: ['haproxy-h2c', 'nginx-h2c'],
  columns: [
    { key: 'mean', header: 'mean ms', digits: 2 },
    { key: 'errors', header: 'errors', digits: 0 },
  ],
};
