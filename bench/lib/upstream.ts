import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BODIES } from '../servers/bodies.js';
import { server } from './paths.js';
import { canConnect, start, waitUntil, type Started } from './proc.js';
import type { Endpoint, Tools, UpstreamKind } from './types.js';

export const UPSTREAM_PORTS: Record<UpstreamKind, number> = { http: 18080, 'tcp-source': 18081 };

export interface Upstream {
  endpoint: Endpoint;
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
  }
}
`;
}

/**
 * Starts the upstream for a scenario on the load generator's cores (inherited). HTTP: nginx
 * when installed (it is faster than any Node server, so it is not the bottleneck), else the
 * lean Node server. Bulk TCP: the Node byte source.
 */
export async function startUpstream(kind: UpstreamKind, tools: Tools, tmp: string, preferNode: boolean): Promise<Upstream> {
  const port = UPSTREAM_PORTS[kind];
  let proc: Started;
  let describe: string;
  if (kind === 'http' && tools.nginx && !preferNode) {
    const dir = join(tmp, 'upstream-nginx');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'nginx.conf'), nginxUpstreamConf(dir, port));
    proc = start(['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')], { logFile: join(dir, 'stderr.log') });
    describe = 'nginx (1 worker, static files)';
  } else {
    const name = kind === 'http' ? 'http_upstream' : 'tcp_source';
    proc = start([process.execPath, server(name), String(port)], { logFile: join(tmp, `upstream-${name}.log`) });
    describe = kind === 'http' ? 'Node raw-socket HTTP server' : 'Node byte source';
  }
  await waitUntil(`upstream ${describe}`, () => canConnect('127.0.0.1', port), 10_000, proc.exited);
  return { endpoint: { host: '127.0.0.1', port }, describe, stop: () => proc.stop() };
}
