import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BODIES, GRPC_MESSAGE, GRPC_PATH } from '../servers/bodies.js';
import { server } from './paths.js';
import { canConnect, start, waitUntil, type Started } from './proc.js';
import type { Endpoint, Tools, UpstreamKind } from './types.js';

export const UPSTREAM_PORTS: Record<UpstreamKind, number> = { http: 18080, 'tcp-source': 18081, grpc: 18090 };
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
function nginxUpstreamConf(dir: string, port: number, grpc = false): string {
  const root = join(dir, 'www');
  mkdirSync(root, { recursive: true });
  for (const [path, body] of Object.entries(BODIES)) writeFileSync(join(root, path.slice(1)), body);
  if (grpc) {
    mkdirSync(join(root, 'bench.Echo'), { recursive: true });
    writeFileSync(join(root, GRPC_PATH.slice(1)), GRPC_MESSAGE);
  }
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
    listen 127.0.0.1:${port} backlog=8192${grpc ? ' http2' : ''};
    root ${root};${grpc ? `
    # A gRPC unary answer without a gRPC server: the message is a static file, the status a trailer.
    location = ${GRPC_PATH} { default_type application/grpc; add_trailer grpc-status 0 always; error_page 405 =200 $uri; }` : ''}
    # POST with a body to a static file is refused by nginx; answer /1k for any method.
    error_page 405 =200 $uri;
    # Requests served, read by load-balancing scenarios (no per-request cost, unlike a log).
    location = ${UPSTREAM_STATUS_PATH} { stub_status; }
  }
}
`;
}

/** One nginx upstream in `dir` on `port`; `argv` wraps its command (e.g. pins it with `onCpus`). */
export function startNginxUpstream(dir: string, port: number, grpc = false, argv = (cmd: string[]) => cmd): Started {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), nginxUpstreamConf(dir, port, grpc));
  return start(argv(['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')]), { logFile: join(dir, 'stderr.log') });
}

/** One nginx instance per port: stub_status counts per instance, so each upstream reports its own requests. */
function startNginxUpstreams(tmp: string, ports: number[], grpc = false): Started[] {
  return ports.map((port, i) => startNginxUpstream(join(tmp, grpc ? 'upstream-nginx-grpc' : i === 0 ? 'upstream-nginx' : `upstream-nginx-${i + 1}`), port, grpc));
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
  if (kind === 'grpc') {
    // h2c with a gRPC answer: nginx only (a Node gRPC server would be the bottleneck).
    if (!tools.nginx) throw new Error('the gRPC upstream needs nginx (bench/install-peers.sh)');
    procs = startNginxUpstreams(tmp, ports, true);
    describe = 'nginx (1 worker, h2c, a static gRPC answer with a grpc-status trailer)';
  } else if (kind === 'http' && tools.nginx && !preferNode) {
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
