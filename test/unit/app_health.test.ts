import test from 'ava';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProxy } from '../support/proxy.js';
import { serviceEntry, tempDir } from './config_helpers.js';

/** A real app: /health 200, /ready 503 until made ready, /slow never answers, /moved 302; headers echoed into a log. */
async function app(): Promise<{ server: Server; port: number; headers: Record<string, string | string[] | undefined>[]; setReady(v: boolean): void }> {
  let ready = false;
  const headers: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((req, res) => {
    headers.push(req.headers);
    if (req.url === '/health') return res.writeHead(200).end('ok');
    if (req.url === '/ready') return res.writeHead(ready ? 200 : 503).end();
    if (req.url === '/moved') return res.writeHead(302, { location: '/health' }).end();
    if (req.url === '/slow') return; // never answers: the probe's timeout fails it
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, headers, setReady: (v) => (ready = v) };
}

test('the proxy answers the rewritten /app-health probes by probing the app as the original HTTP or TCP probe did', async (t) => {
  const a = await app();
  t.teardown(() => a.server.close());
  const dir = tempDir();
  writeFileSync(join(dir, 'web.yaml'), serviceEntry('web', { vip: '10.0.0.1' }));
  const probers = {
    '/app-health/web/livez': { httpGet: { path: '/health', port: a.port } },
    '/app-health/web/readyz': { httpGet: { path: '/ready', port: a.port, scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: 'kubelet' }] }, timeoutSeconds: 1 },
    '/app-health/web/startupz': { httpGet: { path: '/moved', port: a.port } },
    '/app-health/slow/livez': { httpGet: { path: '/slow', port: a.port }, timeoutSeconds: 1 },
    '/app-health/gone/livez': { httpGet: { path: '/health', port: 1 } },
    '/app-health/tcp/livez': { tcpSocket: { port: a.port } },
    '/app-health/tcp/readyz': { tcpSocket: { port: 1 }, timeoutSeconds: 1 },
  };
  const p = await startProxy('sidecar', [dir], { env: { ISTIO_KUBE_APP_PROBERS: JSON.stringify(probers) } });
  t.teardown(() => p.stop());
  await p.waitFor((d) => d.legate?.version === 1);
  // pilot-agent's status port, where `legate inject` points the kubelet.
  const status = async (path: string) => (await fetch(`http://127.0.0.1:${p.ports.status}${path}`)).status;

  t.is(await status('/app-health/web/livez'), 200);
  t.is(await status('/app-health/web/readyz'), 503, 'the app says not ready');
  t.is(a.headers.at(-1)?.['x-probe'], 'kubelet', "the probe's httpHeaders are sent");
  a.setReady(true);
  t.is(await status('/app-health/web/readyz'), 200);
  t.is(await status('/app-health/web/startupz'), 200, 'a redirect passes, as for the kubelet');
  t.is(await status('/app-health/slow/livez'), 503, 'timed out');
  t.is(await status('/app-health/gone/livez'), 503, 'connection refused');
  t.is(await status('/app-health/tcp/livez'), 200, 'TCP probe: the port accepts');
  t.is(await status('/app-health/tcp/readyz'), 503, 'TCP probe: refused');
  t.is(await status('/app-health/other/livez'), 404, 'only the probes the pod declared');
  t.is(await status('/healthz/ready'), 200, 'readiness served on the same port');
  t.is((await fetch(`http://127.0.0.1:${p.ports.readiness}/app-health/web/livez`)).status, 200, 'and on the readiness port (15021), as before');
});
