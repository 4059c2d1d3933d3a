import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCpus } from '../cpus.js';
import { start } from '../proc.js';
import type { StartArgs, Target } from '../types.js';
import { PEER_PORT, redirectedEndpoint } from './endpoint.js';
import { benchCertificate, type BenchCert } from '../tls_cert.js';

export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** The upstream block's servers: every upstream with `least_conn` (which must come before `keepalive`), else the one. */
function upstreamServers(a: StartArgs, leastConn: boolean): string {
  if (!leastConn) return `server ${a.upstream.host}:${a.upstream.port};`;
  return `least_conn; ${a.upstreams.map((u) => `server ${u.host}:${u.port};`).join(' ')}`;
}

/** nginx: one worker process per proxy core, access log off, keep-alive upstream pool. */
/** The HTTP front: plain, prior-knowledge HTTP/2 (`listen … http2` without TLS), or TLS termination; proxy_pass stays HTTP/1.1 keep-alive upstream. */
type Front = 'plain' | 'h2c' | 'tls';

function config(mode: 'http' | 'stream', a: StartArgs, dir: string, leastConn: boolean, front: Front, tls?: BenchCert): string {
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
  upstream up { ${upstreamServers(a, leastConn)} keepalive 256; keepalive_requests 100000000; }
  ${front === 'h2c' ? 'http2_max_concurrent_streams 128;\n  ' : ''}server {
    listen 127.0.0.1:${PEER_PORT} backlog=8192${front === 'h2c' ? ' http2' : ''}${tls ? ' ssl' : ''};
${tls ? `    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};\n` : ''}    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/**
 * `leastConn` (HTTP): `least_conn` over every upstream the scenario started; it counts active upstream connections per worker.
 * `front`: h2c (the h2c scenario), or TLS termination with the bench certificate (gateway_https).
 */
function nginx(mode: 'http' | 'stream', leastConn = false, front: Front = 'plain'): Target {
  const tls = front === 'tls';
  const id = front === 'h2c' ? 'nginx-h2c' : leastConn ? 'nginx-least-conn' : mode === 'http' ? (tls ? 'nginx-https' : 'nginx') : 'nginx-stream';
  return {
    id,
    label: front === 'h2c' ? 'nginx (listen http2, proxy_pass)' : leastConn ? 'nginx (proxy_pass, least_conn)' : mode === 'http' ? (tls ? 'nginx (proxy_pass, TLS termination)' : 'nginx (proxy_pass)') : 'nginx (stream)',
    layer: mode === 'http' ? 'l7' : 'l4',
    serves: mode === 'http' ? ['http'] : ['http', 'tcp-source'],
    unavailable: (t) =>
      !t.nginx ? 'nginx is not installed (bench/install-peers.sh)' : mode === 'stream' && !t.nginxStream ? 'nginx stream module (libnginx-mod-stream) is not installed' : undefined,
    async start(a) {
      const dir = join(a.tmp, id);
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      writeFileSync(join(dir, 'nginx.conf'), config(mode, a, dir, leastConn, front, tls ? await benchCertificate(a.tmp) : undefined));
      const logFile = join(dir, 'stderr.log');
      const proc = start(onCpus(a.cpus.proxy, ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')]), { logFile });
      const { endpoint, remove } = redirectedEndpoint(a.upstreamKind, PEER_PORT);
      return { endpoint: { ...endpoint, tls }, pid: proc.pid, exited: proc.exited, logFile, stop: async () => (remove(), await proc.stop()) };
    },
  };
}

export const nginxHttp = nginx('http');
export const nginxStream = nginx('stream');
export const nginxLeastConn = nginx('http', true);
export const nginxH2c = nginx('http', false, 'h2c');
export const nginxHttps = nginx('http', false, 'tls');
export const hasNginxStream = () => existsSync(NGINX_STREAM_MODULE);
