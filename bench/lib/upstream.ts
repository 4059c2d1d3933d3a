import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BODIES } from '../servers/bodies.js';
import { server } from './paths.js';
import { canConnect, start, waitUntil, type Started } from './proc.js';
import type { Endpoint, Tools, UpstreamKind } from './types.js';

export const UPSTREAM_PORTS: Record<UpstreamKind, number> = { http: 18080, 'tcp-source': 18081 };
/** Where the status of an HTTP upstream is read (nginx stub_status, or the Node server's copy of its format). */
export const UPSTREAM_STATUS_PATH = '/upstream-status';

/** The ports of `count` HTTP upstreams: the usual one first, then 18082… (18081 is the byte source's). */
export const httpUpstreamPorts = (count: number): number[] => Array.from({ length: count }, (_, i) => (i === 0 ? UPSTREAM_PORTS.http : 18081 + i));

export interface Upstream {
  /** The first upstream: what single-upstream targets connect to. */
  endpoint: Endpoint;
  /** Every upstream (load-balancing scenarios start several). */
  endpoints: Endpoint[];
  describe: string;
  stop(): Promise<void>;
}

/** nginx as the HTTP upstream: one worker, static files, no logging, unlimited keep-alive. */
function nginxUpstreamConf(dir: string, port: number): string {
  const root = join(dir, 'www');
  mkdirSync(root, { recursive: true });
  for (const [path, body] of Object.entries(BODIES)) writeFileSync(join(root, path.slice(1)), body);
  return `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/tmp;
  default_type text/plain;
  server {
    listen 127.0.0.1:${port} backlog=8192;
    root ${root};
    # POST with a body to a static file is refused by nginx; answer /1k for any method.
    error_page 405 =200 $uri;
    # Requests served, read by load-balancing scenarios (no per-request cost, unlike a log).
    location = ${UPSTREAM_STATUS_PATH} { stub_status; }
  }
}
`;
}

/** One nginx instance per port: stub_status counts per instance, so each upstream reports its own requests. */
function startNginxUpstreams(tmp: string, ports: number[]): Started[] {
  return ports.map((port, i) => {
    const dir = join(tmp, i === 0 ? 'upstream-nginx' : `upstream-nginx-${i + 1}`);
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'nginx.conf'), nginxUpstreamConf(dir, port));
    return start(['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')], { logFile: join(dir, 'stderr.log') });
  });
}

/**
 * Starts the upstream for a scenario on the load generator's cores (inherited). HTTP: nginx
 * when installed (it is faster than any Node server, so it is not the bottleneck), else the
 * lean Node server (one process listening on every port). `count` > 1 (HTTP only) starts
 * that many upstreams, one per port. Bulk TCP: the Node byte source.
 */
export async function startUpstream(kind: UpstreamKind, tools: Tools, tmp: string, preferNode: boolean, count = 1): Promise<Upstream> {
  if (count > 1 && kind !== 'http') throw new Error(`${count} upstreams: only the HTTP upstream comes in several`);
  const ports = kind === 'http' ? httpUpstreamPorts(count) : [UPSTREAM_PORTS[kind]];
  let procs: Started[];
  let describe: string;
  if (kind === 'http' && tools.nginx && !preferNode) {
    procs = startNginxUpstreams(tmp, ports);
    describe = count > 1 ? `${count} × nginx (1 worker each, static files)` : 'nginx (1 worker, static files)';
  } else {
    const name = kind === 'http' ? 'http_upstream' : 'tcp_source';
    procs = [start([process.execPath, server(name), ...ports.map(String)], { logFile: join(tmp, `upstream-${name}.log`) })];
    describe = kind === 'http' ? `Node raw-socket HTTP server${count > 1 ? ` on ${count} ports` : ''}` : 'Node byte source';
  }
  const exited = Promise.race(procs.map((p) => p.exited));
  for (const port of ports) await waitUntil(`upstream ${describe} on ${port}`, () => canConnect('127.0.0.1', port), 10_000, exited);
  const endpoints = ports.map((port) => ({ host: '127.0.0.1', port }));
  return { endpoint: endpoints[0], endpoints, describe, stop: async () => void (await Promise.all(procs.map((p) => p.stop()))) };
}
