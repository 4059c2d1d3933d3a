/**
 * The Node peers: `http-proxy` behind node:http with a keep-alive agent, Fastify with
 * `@fastify/http-proxy` (undici pool upstream, keep-alive by default), and `net-pipe`, bare
 * byte forwarding with net + pipe() — the floor any Node TCP proxy starts from. With more
 * than one worker, node:cluster forks that many processes sharing the port.
 * Usage: node node_proxy.js http-proxy|fastify|net-pipe PORT UPSTREAM_PORT WORKERS
 */
import cluster from 'node:cluster';
import http from 'node:http';
import net from 'node:net';

const [kind, port, upstreamPort, workers] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 1)];
const target = `http://127.0.0.1:${upstreamPort}`;

async function serve(): Promise<void> {
  if (kind === 'http-proxy') {
    const { default: httpProxy } = await import('http-proxy');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
    const proxy = httpProxy.createProxyServer({ target, agent });
    proxy.on('error', (_err, _req, res) => {
      if ('writeHead' in res && !res.headersSent) res.writeHead(502);
      res.end();
    });
    const server = http.createServer((req, res) => proxy.web(req, res));
    server.keepAliveTimeout = 300_000;
    server.listen(port, '127.0.0.1');
  } else if (kind === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const { default: proxy } = await import('@fastify/http-proxy');
    const app = Fastify({ logger: false, keepAliveTimeout: 300_000 });
    await app.register(proxy, { upstream: target });
    await app.listen({ port, host: '127.0.0.1' });
  } else if (kind === 'net-pipe') {
    net
      .createServer({ allowHalfOpen: true, noDelay: true }, (down) => {
        const up = net.connect({ host: '127.0.0.1', port: upstreamPort, allowHalfOpen: true, noDelay: true });
        down.pipe(up).on('error', () => down.destroy());
        up.pipe(down).on('error', () => up.destroy());
        down.on('error', () => up.destroy());
        up.on('error', () => down.destroy());
      })
      .listen(port, '127.0.0.1');
  } else {
    throw new Error(`unknown Node peer ${kind}`);
  }
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  void serve();
}
