import { CLOSED_LOOP_COLUMNS, closedLoopVariants } from '../lib/closed_loop.js';
import { byMode, HTTP_TARGETS } from '../lib/targets/index.js';
import { HTTP_PATHS, type Scenario } from '../lib/types.js';

export const scenario: Scenario = {
  name: 'http_1k',
  title: 'HTTP/1.1 keep-alive, 1 KB body',
  describes: 'Closed loop, 50 keep-alive connections, GET with a 1,024-byte response body. Legate is measured both through its HTTP connection manager and as tcp_proxy.',
  order: 20,
  unit: 'req/s',
  higherIsBetter: true,
  modes: ['smoke', 'full'],
  upstream: 'http',
  targets: byMode(HTTP_TARGETS, HTTP_TARGETS),
  variants: (ctx) => closedLoopVariants(ctx, { path: HTTP_PATHS.oneK, connections: 50, responseBytes: 1024 }),
  compareWith: ['haproxy', 'nginx', 'haproxy-tcp', 'direct'],
  columns: CLOSED_LOOP_COLUMNS,
};
