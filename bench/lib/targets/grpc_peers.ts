import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCpus } from '../cpus.js';
import { start } from '../proc.js';
import type { StartArgs, Target } from '../types.js';
import { PEER_PORT, redirectedEndpoint } from './endpoint.js';
import { haproxyPreamble } from './haproxy.js';

/** nginx as a gRPC proxy: h2c in (`listen … http2`), `grpc_pass` with a keep-alive upstream pool. */
function nginxGrpcConfig(a: StartArgs, dir: string): string {
  return `
worker_processes ${a.workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 65536; multi_accept on; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  http2_max_concurrent_streams 128;
  client_body_temp_path ${dir}/tmp;
  upstream up { server ${a.upstream.host}:${a.upstream.port}; keepalive 256; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:${PEER_PORT} backlog=8192 http2;
    location / { grpc_pass grpc://up; }
  }
}
`;
}

/** HAProxy as a gRPC proxy: h2c in (`proto h2`), h2c out (`server … proto h2`), connections reused. */
function haproxyGrpcConfig(a: StartArgs): string {
  return `${haproxyPreamble('http', a.workers)}frontend fe
  bind 127.0.0.1:${PEER_PORT} backlog 8192 proto h2
  default_backend be
backend be
  server up ${a.upstream.host}:${a.upstream.port} proto h2
`;
}

export const nginxGrpc: Target = {
  id: 'nginx-grpc',
  label: 'nginx (grpc_pass)',
  layer: 'l7',
  serves: ['grpc'],
  unavailable: (t) => (t.nginx ? undefined : 'nginx is not installed (bench/install-peers.sh)'),
  async start(a) {
    const dir = join(a.tmp, 'nginx-grpc');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'nginx.conf'), nginxGrpcConfig(a, dir));
    const logFile = join(dir, 'stderr.log');
    const proc = start(onCpus(a.cpus.proxy, ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')]), { logFile });
    const { endpoint, remove } = redirectedEndpoint(a.upstreamKind, PEER_PORT);
    return { endpoint, pid: proc.pid, exited: proc.exited, logFile, stop: async () => (remove(), await proc.stop()) };
  },
};

export const haproxyGrpc: Target = {
  id: 'haproxy-grpc',
  label: 'haproxy (mode http, h2 both sides)',
  layer: 'l7',
  serves: ['grpc'],
  unavailable: (t) => (t.haproxy ? undefined : 'haproxy is not installed (bench/install-peers.sh)'),
  async start(a) {
    const file = join(a.tmp, 'haproxy-grpc.cfg');
    writeFileSync(file, haproxyGrpcConfig(a));
    const logFile = join(a.tmp, 'haproxy-grpc.log');
    const proc = start(onCpus(a.cpus.proxy, ['haproxy', '-db', '-f', file]), { logFile });
    const { endpoint, remove } = redirectedEndpoint(a.upstreamKind, PEER_PORT);
    return { endpoint, pid: proc.pid, exited: proc.exited, logFile, stop: async () => (remove(), await proc.stop()) };
  },
};
