import { CLOSED_LOOP_COLUMNS, closedLoopVariants } from '../lib/closed_loop.js';
import { HTTP_PATHS, type Scenario } from '../lib/types.js';

const TARGETS = ['direct', 'haproxy-mtls', 'legate-sidecars-plain', 'legate-sidecars-mtls'];

export const scenario: Scenario = {
  name: 'mtls',
  title: 'Sidecar to sidecar: mutual TLS against plaintext',
  describes:
    'Closed loop, 50 keep-alive connections, GET with a 2-byte body through two proxies in a row, as between two pods: ' +
    'two Legate sidecars with ISTIO_MUTUAL (auto mTLS, STRICT) and the same two in plaintext, against one HAProxy process doing both hops with mutual TLS. ' +
    'Both sidecars (and HAProxy\'s two hops) share the proxy cores; CPU and memory columns are the client sidecar\'s.',
  order: 15,
  unit: 'req/s',
  higherIsBetter: true,
  modes: ['quick', 'full'],
  upstream: 'http',
  targets: () => TARGETS,
  variants: (ctx) => closedLoopVariants(ctx, { path: HTTP_PATHS.small, connections: 50 }, {}),
  compareWith: ['legate-sidecars-plain', 'haproxy-mtls', 'direct'],
  columns: CLOSED_LOOP_COLUMNS,
};
