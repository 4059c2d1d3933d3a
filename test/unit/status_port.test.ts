import test from 'ava';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProxy } from '../support/proxy.js';
import { serviceEntry, tempDir } from './config_helpers.js';
import { appScrape } from '../../src/admin/status_port.js';

test("status port: /stats/prometheus merges the proxy's metrics with the app's, and survives the app going away", async (t) => {
  const app = createServer((req, res) => {
    if (req.url === '/metrics') return res.writeHead(200, { 'content-type': 'text/plain' }).end('# TYPE app_orders_total counter\napp_orders_total 42\n');
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as { port: number }).port;
  const dir = tempDir();
  writeFileSync(join(dir, 'web.yaml'), serviceEntry('web', { vip: '10.0.0.1' }));
  const p = await startProxy('sidecar', [dir], { env: { ISTIO_PROMETHEUS_ANNOTATIONS: JSON.stringify({ scrape: 'true', path: '/metrics', port: String(appPort) }) } });
  t.teardown(() => p.stop());
  await p.waitFor((d) => d.legate?.version === 1);
  const metrics = async () => {
    const res = await fetch(`http://127.0.0.1:${p.ports.status}/stats/prometheus`);
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  const merged = await metrics();
  t.is(merged.status, 200);
  t.regex(merged.type ?? '', /^text\/plain; version=0\.0\.4/);
  t.regex(merged.text, /^envoy_server_live 1$/m, "the proxy's own metrics");
  t.regex(merged.text, /^app_orders_total 42$/m, "then the app's");
  t.true(merged.text.indexOf('envoy_server_live') < merged.text.indexOf('app_orders_total'));

  await new Promise<void>((r) => app.close(() => r()));
  const alone = await metrics();
  t.is(alone.status, 200, 'an app that does not answer costs only its own metrics');
  t.regex(alone.text, /^envoy_server_live 1$/m);
  t.notRegex(alone.text, /app_orders_total/);
});

test('status port: POST /quitquitquit stops the proxy (GET is refused), /healthz/ready answers', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'web.yaml'), serviceEntry('web', { vip: '10.0.0.1' }));
  const p = await startProxy('sidecar', [dir], { concurrency: 1 });
  t.teardown(() => p.stop());
  await p.waitFor((d) => d.legate?.version === 1);
  const url = (path: string) => `http://127.0.0.1:${p.ports.status}${path}`;
  t.is((await fetch(url('/healthz/ready'))).status, 200);
  t.is((await fetch(url('/quitquitquit'))).status, 405);
  const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)));
  t.is((await fetch(url('/quitquitquit'), { method: 'POST' })).status, 200);
  t.is(await exited, 0);
});

test('ISTIO_PROMETHEUS_ANNOTATIONS: the app port and path, off with scrape "false", ignored when malformed', (t) => {
  t.deepEqual(appScrape('{"scrape":"true","path":"/m","port":"9187"}'), { path: '/m', port: 9187 });
  t.deepEqual(appScrape('{"port":"8080"}'), { path: '/metrics', port: 8080 }, "Prometheus' default path");
  t.is(appScrape('{"scrape":"false","port":"8080"}'), undefined);
  t.is(appScrape('{"scrape":"true"}'), undefined, 'no port: nothing to scrape');
  t.is(appScrape('not json'), undefined);
  t.is(appScrape(undefined), undefined);
});
