import { CLOSED_LOOP_COLUMNS, closedLoopVariants } from '../lib/closed_loop.js';
import { byMode, HTTP_TARGETS, INBOUND_AUTHZ_TARGETS } from '../lib/targets/index.js';
import { HTTP_PATHS, type Scenario } from '../lib/types.js';

export const scenario: Scenario = {
  name: 'http_small',
  title: 'HTTP/1.1 keep-alive, small body',
  describes:
    'Closed loop, 50 keep-alive connections, GET with a 2-byte response body: the most requests per second each proxy forwards. ' +
    '"legate (HTTP connection manager + router)" parses, routes and re-serialises every request like the HTTP proxies; the tcp_proxy rows forward bytes and compare with haproxy (mode tcp). ' +
    '"Istio metrics off" is the same HTTP path with --disable-istio-stats: the cost of Istio\'s standard metrics per request (issue 9 target: under 3%). ' +
    '"inbound HTTP (15006)" is the sidecar\'s inbound path to the app, without and with five AuthorizationPolicy rules evaluated per request (issue 12).',
  order: 10,
  unit: 'req/s',
  higherIsBetter: true,
  modes: ['smoke', 'quick', 'full'],
  upstream: 'http',
  // Quick runs leave out the bare Node forwarding reference (the tcp scenarios show it).
  targets: byMode([...HTTP_TARGETS, ...INBOUND_AUTHZ_TARGETS], [...HTTP_TARGETS.filter((t) => t !== 'node-net-pipe'), ...INBOUND_AUTHZ_TARGETS]),
  variants: (ctx) => closedLoopVariants(ctx, { path: HTTP_PATHS.small, connections: 50 }, { crossCheck: true }),
  compareWith: ['haproxy', 'nginx', 'haproxy-tcp', 'direct', 'legate-http-nostats', 'legate-http-inbound'],
  columns: CLOSED_LOOP_COLUMNS,
};
