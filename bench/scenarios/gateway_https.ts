import { CLOSED_LOOP_COLUMNS, closedLoopVariants } from '../lib/closed_loop.js';
import { HTTP_PATHS, type Scenario } from '../lib/types.js';

const PLAIN = ['direct', 'haproxy', 'nginx', 'legate-gateway-http'];
const HTTPS = ['haproxy-https', 'nginx-https', 'legate-gateway-https'];

export const scenario: Scenario = {
  name: 'gateway_https',
  title: 'Gateway: HTTP and HTTPS termination, small body',
  describes:
    'Closed loop, 50 keep-alive connections, GET with a 2-byte body, through an ingress gateway: `legate proxy router` with a Gateway server (`hosts: ["*"]`) and a VirtualService, ' +
    'against HAProxy (mode http) and nginx (proxy_pass) configured the same — plain HTTP, then TLS terminated in front with the same ECDSA P-256 certificate (TLS 1.3, keep-alive: the handshake is paid once per connection, so this measures record encryption and the HTTP path).',
  order: 15,
  unit: 'req/s',
  higherIsBetter: true,
  modes: ['smoke', 'quick', 'full'],
  upstream: 'http',
  targets: (mode) => (mode === 'smoke' ? ['direct', 'legate-gateway-http', 'legate-gateway-https'] : [...PLAIN, ...HTTPS]),
  variants: (ctx) => closedLoopVariants(ctx, { path: HTTP_PATHS.small, connections: 50 }),
  compareWith: ['haproxy', 'nginx', 'haproxy-https', 'nginx-https', 'direct'],
  columns: CLOSED_LOOP_COLUMNS,
};
