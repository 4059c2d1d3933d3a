import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCpus } from '../cpus.js';
import { start } from '../proc.js';
import type { StartArgs, Target } from '../types.js';
import { PEER_PORT, redirectedEndpoint } from './endpoint.js';
import { benchCertificate } from '../tls_cert.js';

/**
 * HAProxy: one thread per proxy core, no logging, keep-alive to the upstream (`http-reuse always`).
 * `leastconn` balances over every upstream the scenario started: HAProxy's closest match to
 * Envoy's LEAST_REQUEST (it picks the server with the fewest streams being served, which with
 * connection reuse are the requests in flight). Otherwise the one upstream.
 */
/** The frontend: plain HTTP/1.1, prior-knowledge HTTP/2 (`proto h2`), or TLS termination (`ssl crt`); the backend stays HTTP/1.1 keep-alive. */
type Front = 'plain' | 'h2c' | 'tls';

/** The `global` and `defaults` sections every HAProxy target of the bench shares (HTTP: keep-alive both sides, connections reused). */
export function haproxyPreamble(mode: 'http' | 'tcp', workers: number, busyPolling = false): string {
  return `
global
  nbthread ${workers}
${busyPolling ? '  busy-polling\n' : ''}  maxconn 8000
defaults
  mode ${mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${mode === 'http' ? '  option http-keep-alive\n  http-reuse always\n' : ''}`;
}

function config(mode: 'http' | 'tcp', a: StartArgs, leastconn: boolean, front: Front, tlsPem?: string, busyPolling = false): string {
  const servers = leastconn ? a.upstreams.map((u, i) => `  server up${i + 1} ${u.host}:${u.port}\n`).join('') : `  server up ${a.upstream.host}:${a.upstream.port}\n`;
  return `${haproxyPreamble(mode, a.workers, busyPolling)}frontend fe
  bind 127.0.0.1:${PEER_PORT} backlog 8192${front === 'h2c' ? ' proto h2' : ''}${tlsPem ? ` ssl crt ${tlsPem} alpn http/1.1` : ''}
  default_backend be
backend be
${leastconn ? '  balance leastconn\n' : ''}${servers}`;
}

/**
 * `front`: h2c (the h2c scenario), or TLS termination with the bench certificate (gateway_https).
 * `busyPolling`: HAProxy's threads poll without sleeping (the peer of Legate's `--busy-poll`).
 */
function haproxy(mode: 'http' | 'tcp', leastconn = false, front: Front = 'plain', busyPolling = false): Target {
  const tls = front === 'tls';
  const id = busyPolling ? 'haproxy-busy-poll' : front === 'h2c' ? 'haproxy-h2c' : leastconn ? 'haproxy-leastconn' : mode === 'http' ? (tls ? 'haproxy-https' : 'haproxy') : 'haproxy-tcp';
  return {
    id,
    label: busyPolling ? 'haproxy (mode http, busy-polling)' : front === 'h2c' ? 'haproxy (mode http, h2c frontend)' : leastconn ? 'haproxy (mode http, balance leastconn)' : mode === 'http' ? (tls ? 'haproxy (mode http, TLS termination)' : 'haproxy (mode http)') : 'haproxy (mode tcp)',
    layer: mode === 'http' ? 'l7' : 'l4',
    serves: mode === 'http' ? ['http'] : ['http', 'tcp-source'],
    unavailable: (t) => (t.haproxy ? undefined : 'haproxy is not installed (bench/install-peers.sh)'),
    async start(a) {
      const file = join(a.tmp, `${id}.cfg`);
      writeFileSync(file, config(mode, a, leastconn, front, tls ? (await benchCertificate(a.tmp)).combined : undefined, busyPolling));
      const logFile = join(a.tmp, `${id}.log`);
      const proc = start(onCpus(a.cpus.proxy, ['haproxy', '-db', '-f', file]), { logFile });
      const { endpoint, remove } = redirectedEndpoint(a.upstreamKind, PEER_PORT);
      return { endpoint: { ...endpoint, tls }, pid: proc.pid, exited: proc.exited, logFile, stop: async () => (remove(), await proc.stop()) };
    },
  };
}

export const haproxyHttp = haproxy('http');
export const haproxyTcp = haproxy('tcp');
export const haproxyLeastconn = haproxy('http', true);
export const haproxyH2c = haproxy('http', false, 'h2c');
export const haproxyHttps = haproxy('http', false, 'tls');
export const haproxyBusyPoll = haproxy('http', false, 'plain', true);
