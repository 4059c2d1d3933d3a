import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCpus } from '../cpus.js';
import { start } from '../proc.js';
import type { StartArgs, Target } from '../types.js';
import { PEER_PORT, redirectedEndpoint } from './endpoint.js';

export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** nginx: one worker process per proxy core, access log off, keep-alive upstream pool. */
function config(mode: 'http' | 'stream', a: StartArgs, dir: string): string {
  const common = `
worker_processes ${a.workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 65536; multi_accept on; }
`;
  if (mode === 'stream') {
    return `load_module ${NGINX_STREAM_MODULE};
${common}
stream {
  upstream up { server ${a.upstream.host}:${a.upstream.port}; }
  server { listen 127.0.0.1:${PEER_PORT} backlog=8192; proxy_pass up; }
}
`;
  }
  return `${common}
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  upstream up { server ${a.upstream.host}:${a.upstream.port}; keepalive 256; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:${PEER_PORT} backlog=8192;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

function nginx(mode: 'http' | 'stream'): Target {
  return {
    id: mode === 'http' ? 'nginx' : 'nginx-stream',
    label: mode === 'http' ? 'nginx (proxy_pass)' : 'nginx (stream)',
    layer: mode === 'http' ? 'l7' : 'l4',
    serves: mode === 'http' ? ['http'] : ['http', 'tcp-source'],
    unavailable: (t) =>
      !t.nginx ? 'nginx is not installed (bench/install-peers.sh)' : mode === 'stream' && !t.nginxStream ? 'nginx stream module (libnginx-mod-stream) is not installed' : undefined,
    async start(a) {
      const dir = join(a.tmp, `nginx-${mode}`);
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      writeFileSync(join(dir, 'nginx.conf'), config(mode, a, dir));
      const logFile = join(dir, 'stderr.log');
      const proc = start(onCpus(a.cpus.proxy, ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')]), { logFile });
      const { endpoint, remove } = redirectedEndpoint(a.upstreamKind, PEER_PORT);
      return { endpoint, pid: proc.pid, exited: proc.exited, logFile, stop: async () => (remove(), await proc.stop()) };
    },
  };
}

export const nginxHttp = nginx('http');
export const nginxStream = nginx('stream');
export const hasNginxStream = () => existsSync(NGINX_STREAM_MODULE);
