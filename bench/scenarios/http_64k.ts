import { CLOSED_LOOP_COLUMNS, closedLoopVariants } from '../lib/closed_loop.js';
import { byMode, HTTP_TARGETS } from '../lib/targets/index.js';
import { HTTP_PATHS, type Scenario } from '../lib/types.js';

export const scenario: Scenario = {
  name: 'http_64k',
  title: 'HTTP/1.1 keep-alive, 64 KB body',
  describes: 'Closed loop, 50 keep-alive connections, GET with a 65,536-byte response body (MB/s shown too). Legate is measured both through its HTTP connection manager and as tcp_proxy.',
  order: 30,
  unit: 'req/s',
  higherIsBetter: true,
  modes: ['smoke', 'full'],
  upstream: 'http',
  targets: byMode(HTTP_TARGETS, HTTP_TARGETS),
  variants: (ctx) => closedLoopVariants(ctx, { path: HTTP_PATHS.sixtyFourK, connections: 50, responseBytes: 65536 }),
  compareWith: ['haproxy', 'nginx', 'haproxy-tcp', 'direct'],
  columns: [{ key: 'mbps', header: 'MB/s', digits: 0 }, ...CLOSED_LOOP_COLUMNS],
};
