import type { Target } from '../types.js';
import { direct, directCrossCore } from './direct.js';
import { legateHttpInbound, legateHttpInboundAuthz } from './legate_inbound.js';
import { haproxyBusyPoll, haproxyH2c, haproxyHttp, haproxyHttps, haproxyLeastconn, haproxyTcp } from './haproxy.js';
import { legateGrpc, legateHandoff, legateHttp, legateHttpBusyPoll, legateHttpLeastRequest, legateHttpNoStats, legateReuseport } from './legate.js';
import { haproxyGrpc, nginxGrpc } from './grpc_peers.js';
import { nginxH2c, nginxHttp, nginxHttps, nginxLeastConn, nginxStream } from './nginx.js';
import { haproxyMtls, legateSidecarsMtls, legateSidecarsPlain } from './mtls.js';
import { legateGatewayHttp, legateGatewayHttps } from './legate_gateway.js';
import { fastifyProxy, httpProxy, nodeNetPipe } from './node_proxies.js';

/** Every target a scenario may name, by id. */
export const TARGETS: ReadonlyMap<string, Target> = new Map(
  [
    ...[direct, directCrossCore, haproxyHttp, haproxyTcp, nginxHttp, nginxStream, httpProxy, fastifyProxy, nodeNetPipe, legateHandoff, legateReuseport, legateHttp, legateHttpNoStats],
    ...[haproxyLeastconn, nginxLeastConn, legateHttpLeastRequest, legateHttpInbound, legateHttpInboundAuthz],
    ...[haproxyH2c, nginxH2c, haproxyGrpc, nginxGrpc, legateGrpc],
    ...[haproxyMtls, legateSidecarsMtls, legateSidecarsPlain],
    ...[haproxyHttps, nginxHttps, legateGatewayHttp, legateGatewayHttps],
    ...[haproxyBusyPoll, legateHttpBusyPoll],
  ].map((t) => [t.id, t]),
);

/** The L7 HTTP proxies plus the byte forwarders, in report order. */
export const HTTP_TARGETS = ['direct', 'haproxy', 'nginx', 'http-proxy', 'fastify-http-proxy', 'haproxy-tcp', 'node-net-pipe', 'legate-handoff', 'legate-reuseport', 'legate-http', 'legate-http-nostats'];
/** The sidecar's inbound path without and with AuthorizationPolicy rules (http_small only: the cost of authorization). */
export const INBOUND_AUTHZ_TARGETS = ['legate-http-inbound', 'legate-http-inbound-authz'];
export const TCP_TARGETS = ['direct', 'haproxy-tcp', 'nginx-stream', 'node-net-pipe', 'legate-handoff', 'legate-reuseport'];
/** Quick runs keep to the comparisons the issues name (HAProxy, nginx, Legate's two accept modes). */
export const QUICK_TCP_TARGETS = ['direct', 'haproxy-tcp', 'node-net-pipe', 'legate-handoff', 'legate-reuseport'];
/** Busy polling (HAProxy's `busy-polling`, Legate's `--busy-poll`): latency rows only, since a spinning proxy's CPU per request means nothing. */
export const BUSY_POLL_TARGETS = ['haproxy-busy-poll', 'legate-http-busy-poll'];
export const QUICK_LATENCY_TARGETS = ['direct', 'direct-cross-core', 'haproxy', 'haproxy-tcp', 'legate-handoff', 'legate-reuseport', 'legate-http', ...BUSY_POLL_TARGETS];

/** Latency in full runs: every HTTP target, and the cost of crossing cores without a proxy. */
export const LATENCY_TARGETS = ['direct', 'direct-cross-core', ...HTTP_TARGETS.filter((id) => id !== 'direct'), ...BUSY_POLL_TARGETS];

/** The targets for a mode: smoke, quick or full list. */
export const byMode = (full: string[], quick: string[]) => (mode: 'smoke' | 'quick' | 'full') => (mode === 'smoke' ? SMOKE_TARGETS : mode === 'quick' ? quick : full);
/** Smoke runs need neither peers nor their packages. */
export const SMOKE_TARGETS = ['direct', 'legate-handoff'];
