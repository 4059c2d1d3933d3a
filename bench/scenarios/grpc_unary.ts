import { cpuCount } from '../lib/closed_loop.js';
import { runH2load } from '../lib/load/h2load.js';
import type { Scenario, Variant } from '../lib/types.js';
import { GRPC_MESSAGE, GRPC_PATH } from '../servers/bodies.js';

const CONNECTIONS = 10;
const STREAMS = 20;

function variant(): Variant {
  return {
    name: `${CONNECTIONS} conns × ${STREAMS} streams`,
    tool: 'h2load',
    async measure(c, endpoint, run) {
      const r = runH2load({
        endpoint, path: GRPC_PATH, method: 'POST', body: GRPC_MESSAGE, headers: ['content-type: application/grpc', 'te: trailers'],
        connections: CONNECTIONS, streams: STREAMS, durSec: Math.max(1, Math.round(run.sec)), threads: cpuCount(c.cpus.load), tmp: c.tmp,
      });
      return { value: r.rps, percentiles: r.percentiles, extra: { errors: r.errors, mean: r.meanMs } };
    },
  };
}

export const scenario: Scenario = {
  name: 'grpc_unary',
  title: 'gRPC unary calls over h2c, both sides HTTP/2',
  describes:
    `Closed loop with h2load posting a gRPC unary message (content-type application/grpc, te: trailers) on ${CONNECTIONS} h2c connections × ${STREAMS} streams. ` +
    'The upstream is nginx answering the method with a static gRPC message and a grpc-status trailer (no gRPC server to be the bottleneck). ' +
    'Proxies speak h2c on both sides: haproxy (`proto h2` bind and server), nginx (`grpc_pass`), Legate (a GRPC ServiceEntry port: h2 upstream pool). h2load counts HTTP 200s; the trailers are not checked here (the e2e tests check gRPC semantics).',
  order: 16,
  unit: 'calls/s',
  higherIsBetter: true,
  modes: ['quick', 'full'],
  upstream: 'grpc',
  targets: () => ['direct', 'haproxy-grpc', 'nginx-grpc', 'legate-grpc'],
  variants: (ctx) => (ctx.tools.h2load ? [variant()] : []),
  compareWith: ['haproxy-grpc', 'nginx-grpc', 'direct'],
  columns: [
    { key: 'mean', header: 'mean ms', digits: 2 },
    { key: 'errors', header: 'errors', digits: 0 },
  ],
};
