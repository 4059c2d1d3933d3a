import test from 'ava';
import { writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { startProxy } from '../support/proxy.js';
import { freePort, freePorts } from '../support/servers.js';
import { startManagementServer, syncz } from '../support/xds_management.js';
import { fixture, tempDir } from './config_helpers.js';

async function namedUpstream(t: any, name: string): Promise<number> {
  const server = createServer((req, res) => res.end(`${name} ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return (server.address() as { port: number }).port;
}

function get(port: number, path: string, host = 'shop.example.com'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    req.end();
  });
}

async function eventually(what: string, fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const services = (web: number, api: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${web}}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: shop}
spec:
  hosts: [api.shop.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${api}}}]
---
`;

const gateway = (port: number) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ["shop/*"]
---
`;

const routes = (apiPrefix: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: ${apiPrefix}}}]
    route: [{destination: {host: api}}]
  - route: [{destination: {host: web}}]
`;

const ROUTER_ARGS = ['--proxy-labels', 'istio=ingressgateway', '--pod-namespace', 'shop'];
const PATHS = ['/', '/api/items', '/v2/items', '/nope'];

test('legate proxy router --xds, driven by legate xds-server, routes like the same router reading the files; a VirtualService change is pushed, ACKed and routes at once', async (t) => {
  const [web, api] = [await namedUpstream(t, 'web'), await namedUpstream(t, 'api')];
  const gw = await freePort();
  const dir = tempDir();
  writeFileSync(join(dir, 'services.yaml'), services(web, api) + gateway(gw));
  writeFileSync(join(dir, 'routes.yaml'), routes('/api'));

  const fromFiles = await startProxy('router', [dir], { concurrency: 1, args: ROUTER_ARGS });
  t.teardown(() => fromFiles.stop());
  await fromFiles.waitFor((d) => d.legate?.version >= 1);
  await eventually('the file-driven gateway', async () => (await get(gw, '/')).startsWith('200'));
  const expected = await Promise.all(PATHS.map((p) => get(gw, p)));
  await fromFiles.stop();
  t.deepEqual(expected, ['200 web /', '200 api /api/items', '200 web /v2/items', '200 web /nope']);

  const server = await startManagementServer(t, [dir]);
  const fromXds = await startProxy('router', [], { concurrency: 1, args: [...ROUTER_ARGS, '--xds', `127.0.0.1:${server.port}`] });
  t.teardown(() => fromXds.stop());
  await fromXds.waitFor((d) => d.legate?.version >= 1, 20_000);
  await eventually('the xDS-driven gateway', async () => (await get(gw, '/')).startsWith('200'));
  t.deepEqual(await Promise.all(PATHS.map((p) => get(gw, p))), expected, 'same answers as the file-driven router');
  t.is(await get(gw, '/', 'other.example.com'), '404 ', 'unknown host: no route');

  writeFileSync(join(dir, 'routes.yaml'), routes('/v2'));
  await eventually('the pushed route', async () => (await get(gw, '/v2/items')) === '200 api /v2/items');
  t.is(await get(gw, '/api/items'), '200 web /api/items');
  const status = await syncz(server);
  const router = status.proxies.find((p) => p.node_id.startsWith('router~'));
  t.truthy(router, JSON.stringify(status));
  t.like(router.types.route, { synced: true, last_nack: null });
  t.is(router.types.route.version_acked, router.types.route.version_sent);
});

test('legate proxy sidecar --xds gets from legate xds-server the listeners, routes and clusters the file-driven sidecar builds (bookinfo)', async (t) => {
  const [outbound, inbound] = await freePorts(2);
  const env = { POD_NAME: 'productpage-v1', POD_NAMESPACE: 'default', INSTANCE_IPS: '10.1.2.3' };
  const sections = async (p: Awaited<ReturnType<typeof startProxy>>) => {
    const get = async (r: string) => (await p.dump(`?resource=${r}`)).configs;
    const byName = (list: any[], key: (e: any) => string) => Object.fromEntries(list.map((e) => [key(e), e]));
    return {
      listeners: byName(await get('dynamic_listeners'), (e) => e.name),
      routes: byName(await get('dynamic_route_configs'), (e) => e.route_config.name),
      clusters: byName(await get('dynamic_active_clusters'), (e) => e.cluster.name),
    };
  };
  const fromFiles = await startProxy('sidecar', [fixture('bookinfo')], { concurrency: 1, env, args: ['--outbound-port', String(outbound), '--inbound-port', String(inbound)] });
  t.teardown(() => fromFiles.stop());
  await fromFiles.waitFor((d) => d.legate?.version >= 1);
  const files = await sections(fromFiles);
  await fromFiles.stop();

  const server = await startManagementServer(t, [fixture('bookinfo')], { outboundPort: outbound, inboundPort: inbound });
  const fromXds = await startProxy('sidecar', [], { concurrency: 1, env, args: ['--xds', `127.0.0.1:${server.port}`] });
  t.teardown(() => fromXds.stop());
  await fromXds.waitFor((d) => d.legate?.version >= 1, 20_000);
  const xds = await sections(fromXds);
  t.deepEqual(Object.keys(xds.listeners).sort(), Object.keys(files.listeners).sort());
  // The inbound guard for the proxy's loopback-only ports names the proxy's own admin and DNS
  // ports: random ones for the file-driven proxy here, Istio's 15000 and 15053 from the server.
  const guard = new Set([15000, 15053, fromFiles.admin]);
  const withoutGuard = (l: any) => ({ ...l, filterChains: l.filterChains.filter((c: any) => !guard.has(c.match?.destinationPort)) });
  for (const name of Object.keys(files.listeners)) t.deepEqual(withoutGuard(xds.listeners[name].active_state.listener), withoutGuard(files.listeners[name].active_state.listener), name);
  t.deepEqual(Object.keys(xds.routes).sort(), Object.keys(files.routes).sort());
  for (const name of Object.keys(files.routes)) t.deepEqual(xds.routes[name].route_config, files.routes[name].route_config, name);
  t.deepEqual(Object.keys(xds.clusters).sort(), Object.keys(files.clusters).sort());
  for (const name of Object.keys(files.clusters)) {
    const { endpoints: a, lbPolicy: la, type: ta } = xds.clusters[name].cluster;
    const { endpoints: b, lbPolicy: lb, type: tb } = files.clusters[name].cluster;
    t.deepEqual({ a, la, ta }, { a: b, la: lb, ta: tb }, name);
  }
});
