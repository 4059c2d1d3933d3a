import test from 'ava';
import type { FilterChain, HttpConnectionManagerFilter, RouteConfiguration, TcpProxyFilter } from '../../src/config/model.js';
import { serviceEntry } from './config_helpers.js';
import { translateYaml } from '../support/translate.js';

// Istio's Gateway semantics (issue 13 item 1): which servers a router serves, which
// VirtualServices and routes attach to them, and what stays on the mesh side.

const INGRESS = { istio: 'ingressgateway', app: 'istio-ingressgateway' };
const vhosts = (rcs: RouteConfiguration[], rc: string) => rcs.find((r) => r.name === rc)?.virtualHosts ?? [];
const vhost = (rcs: RouteConfiguration[], rc: string, name: string) => vhosts(rcs, rc).find((v) => v.name === name);
const hcm = (c: FilterChain) => c.filters[0] as HttpConnectionManagerFilter;

function gateway(name: string, ns: string, servers: string, selector = '{istio: ingressgateway}'): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: ${selector}
  servers:
${servers}
---
`;
}

function virtualService(name: string, ns: string, spec: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
---
`;
}

const services = serviceEntry('web', { ns: 'shop', port: 8000 }) + serviceEntry('api', { ns: 'team', port: 9000 });

test('selector: a router serves only the Gateways whose selector is a subset of its own labels', (t) => {
  const yaml =
    services +
    gateway('in', 'gw', `  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: ["*"]`) +
    gateway('out', 'gw', `  - port: {number: 8081, name: http, protocol: HTTP}\n    hosts: ["*"]`, '{istio: egressgateway}');
  t.deepEqual(translateYaml(yaml, { role: 'router', labels: INGRESS }).listeners.map((l) => l.name), ['0.0.0.0_8080']);
  t.deepEqual(translateYaml(yaml, { role: 'router', labels: { istio: 'egressgateway' } }).listeners.map((l) => l.name), ['0.0.0.0_8081']);
  t.deepEqual(translateYaml(yaml, { role: 'router', labels: { app: 'other' } }).listeners, []);
});

test('servers: HTTP, HTTP2 and GRPC get an HTTP connection manager, TCP a tcp_proxy from tcp[] routes, bind sets the address', (t) => {
  const yaml =
    services +
    serviceEntry('db', { ns: 'shop', port: 5432, protocol: 'TCP' }) +
    gateway(
      'in',
      'gw',
      `  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*/*"]
  - port: {number: 8081, name: h2, protocol: HTTP2}
    hosts: ["*/*"]
  - port: {number: 8082, name: grpc, protocol: GRPC}
    hosts: ["*/*"]
  - port: {number: 5432, name: pg, protocol: TCP}
    bind: 127.0.0.7
    hosts: ["*/*"]`,
    ) +
    virtualService('web', 'shop', `  hosts: [web.example.com]\n  gateways: [gw/in]\n  http: [{route: [{destination: {host: web}}]}]`) +
    virtualService('db', 'shop', `  hosts: ["*"]\n  gateways: [gw/in]\n  tcp: [{route: [{destination: {host: db, port: {number: 5432}}}]}]`);
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  t.deepEqual(out.listeners.map((l) => [l.name, l.address.address, l.address.port]), [
    ['0.0.0.0_8080', '0.0.0.0', 8080],
    ['0.0.0.0_8081', '0.0.0.0', 8081],
    ['0.0.0.0_8082', '0.0.0.0', 8082],
    ['127.0.0.7_5432', '127.0.0.7', 5432],
  ]);
  for (const port of [8080, 8081, 8082]) {
    const chain = out.listeners.find((l) => l.address.port === port)!.filterChains[0];
    t.is(hcm(chain).routeConfigName, `http.${port}`);
    t.is(vhost(out.routes, `http.${port}`, `web.example.com:${port}`)!.routes[0].route!.cluster, 'outbound|8000||web.shop.svc.cluster.local');
  }
  const tcp = out.listeners.find((l) => l.address.port === 5432)!.filterChains[0].filters[0] as TcpProxyFilter;
  t.is(tcp.cluster, 'outbound|5432||db.shop.svc.cluster.local');
});

test('a TCP server without a tcp[] route for it gets no chain, and says so', (t) => {
  const yaml = services + gateway('in', 'gw', `  - port: {number: 5432, name: pg, protocol: TCP}\n    hosts: ["*"]`);
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  t.deepEqual(out.listeners[0].filterChains, []);
  t.true(out.lines.some((l) => /no VirtualService tcp route is bound/.test(l)));
});

test('a port keeps its first server when a later one conflicts (HTTP vs TCP, or two TCP servers), with a warning', (t) => {
  const yaml =
    services +
    serviceEntry('db', { ns: 'shop', port: 5432, protocol: 'TCP' }) +
    gateway(
      'in',
      'shop',
      `  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 8080, name: tcp-late, protocol: TCP}
    hosts: ["*"]
  - port: {number: 5432, name: tcp, protocol: TCP}
    hosts: ["*"]
  - port: {number: 5432, name: tcp-again, protocol: TCP}
    hosts: ["*"]`,
    ) +
    virtualService('web', 'shop', `  hosts: [web.example.com]\n  gateways: [in]\n  http: [{route: [{destination: {host: web}}]}]`) +
    virtualService('db', 'shop', `  hosts: ["*"]\n  gateways: [in]\n  tcp: [{route: [{destination: {host: db}}]}]`);
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  t.deepEqual(out.listeners.map((l) => [l.name, l.filterChains.map((c) => c.filters[0].name)]), [
    ['0.0.0.0_8080', ['envoy.filters.network.http_connection_manager']],
    ['0.0.0.0_5432', ['envoy.filters.network.tcp_proxy']],
  ]);
  t.true(out.lines.some((l) => /servers\[1\]\.port: port 8080 is already served as HTTP by another server: this TCP server is ignored/.test(l)), out.lines.join('\n'));
  t.true(out.lines.some((l) => /servers\[3\]\.port: port 5432 is already served as TCP/.test(l)));
  t.false(out.lines.some((l) => /no VirtualService tcp route/.test(l)), 'a conflict is not reported as a missing route');
});

test('hosts: namespace/host admits only that namespace, ./host the Gateway\'s own, */host every one', (t) => {
  const servers = `  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop/web.example.com", "./api.example.com", "*/any.example.com"]`;
  const yaml =
    services +
    gateway('in', 'team', servers) +
    virtualService('web-shop', 'shop', `  hosts: [web.example.com, api.example.com, any.example.com]\n  gateways: [team/in]\n  http: [{route: [{destination: {host: web}}]}]`) +
    virtualService('web-team', 'team', `  hosts: [web.example.com, api.example.com, any.example.com]\n  gateways: [in]\n  http: [{route: [{destination: {host: api}}]}]`);
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  const clusterOf = (vh: string) => vhost(out.routes, 'http.80', vh)!.routes.map((r) => r.route!.cluster);
  t.deepEqual(clusterOf('web.example.com:80'), ['outbound|8000||web.shop.svc.cluster.local'], 'shop/ admits shop only');
  t.deepEqual(clusterOf('api.example.com:80'), ['outbound|9000||api.team.svc.cluster.local'], './ is the gateway namespace');
  t.deepEqual(clusterOf('any.example.com:80'), ['outbound|8000||web.shop.svc.cluster.local', 'outbound|9000||api.team.svc.cluster.local'], '*/ admits both');
});

test('hosts: wildcards meet at the more specific name; hosts no server admits get no virtual host', (t) => {
  const yaml =
    services +
    gateway('in', 'gw', `  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*.example.com"]`) +
    virtualService('web', 'shop', `  hosts: [web.example.com, "*.example.com", other.org]\n  gateways: [gw/in]\n  http: [{route: [{destination: {host: web}}]}]`) +
    virtualService('all', 'team', `  hosts: ["*"]\n  gateways: [gw/in]\n  http: [{route: [{destination: {host: api}}]}]`);
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  const names = vhosts(out.routes, 'http.80').map((v) => v.name);
  t.deepEqual(names.sort(), ['*.example.com:80', 'web.example.com:80']);
  t.deepEqual(vhost(out.routes, 'http.80', '*.example.com:80')!.domains, ['*.example.com', '*.example.com:80']);
});

test('VirtualServices attach by namespace/name or by a short name relative to their own namespace', (t) => {
  const yaml =
    services +
    gateway('in', 'shop', `  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*/*"]`) +
    virtualService('short-same-ns', 'shop', `  hosts: [a.example.com]\n  gateways: [in]\n  http: [{route: [{destination: {host: web}}]}]`) +
    virtualService('qualified', 'team', `  hosts: [b.example.com]\n  gateways: [shop/in]\n  http: [{route: [{destination: {host: api}}]}]`) +
    virtualService('short-other-ns', 'team', `  hosts: [c.example.com]\n  gateways: [in]\n  http: [{route: [{destination: {host: api}}]}]`);
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  t.deepEqual(vhosts(out.routes, 'http.80').map((v) => v.name).sort(), ['a.example.com:80', 'b.example.com:80'], 'team/in is another gateway');
});

test("gateway references: ./name is the VirtualService's namespace; the legacy name.namespace.svc.cluster.local works with a warning", (t) => {
  const yaml =
    services +
    gateway('in', 'shop', `  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*/*"]`) +
    virtualService('dot-slash', 'shop', `  hosts: [a.example.com]\n  gateways: [./in]\n  http: [{route: [{destination: {host: web}}]}]`) +
    virtualService('legacy', 'team', `  hosts: [b.example.com]\n  gateways: [in.shop.svc.cluster.local]\n  http: [{match: [{gateways: [in.shop]}], route: [{destination: {host: api}}]}]`);
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  t.deepEqual(vhosts(out.routes, 'http.80').map((v) => v.name).sort(), ['a.example.com:80', 'b.example.com:80']);
  t.is(vhost(out.routes, 'http.80', 'b.example.com:80')!.routes.length, 1, 'the match naming in.shop applies on shop/in');
  t.true(out.lines.some((l) => /VirtualService\/team\/legacy: spec\.gateways\[0\]: legacy gateway name "in\.shop\.svc\.cluster\.local": prefer "shop\/in"/.test(l)), out.lines.join('\n'));
  const bad = translateYaml(virtualService('bad', 'shop', `  hosts: [c.example.com]\n  gateways: [a/b/c, "Bad_Name"]\n  http: [{route: [{destination: {host: web}}]}]`));
  t.is(bad.lines.filter((l) => /invalid gateway name/.test(l)).length, 2);
});

test('match.gateways restricts single routes; mesh routes stay off gateways and gateway routes off the mesh', (t) => {
  const yaml =
    services +
    gateway('in', 'shop', `  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*/*"]`) +
    virtualService(
      'both',
      'shop',
      `  hosts: [web]
  gateways: [mesh, in]
  http:
  - name: mesh-only
    match: [{gateways: [mesh], uri: {prefix: /m}}]
    route: [{destination: {host: web}}]
  - name: gateway-only
    match: [{gateways: [in], uri: {prefix: /g}}]
    route: [{destination: {host: web}}]
  - name: everywhere
    route: [{destination: {host: web}}]`,
    ) +
    virtualService('mesh-default', 'shop', `  hosts: [mesh.example.com]\n  http: [{name: mesh-default, route: [{destination: {host: web}}]}]`) +
    virtualService('gateway-only', 'shop', `  hosts: [web.example.com]\n  gateways: [in]\n  http: [{name: only-gw, route: [{destination: {host: web}}]}]`);
  const router = translateYaml(yaml, { role: 'router', labels: INGRESS });
  const gwVh = vhosts(router.routes, 'http.80');
  t.deepEqual(gwVh.map((v) => v.name).sort(), ['web.example.com:80', 'web.shop.svc.cluster.local:80']);
  t.deepEqual(vhost(router.routes, 'http.80', 'web.shop.svc.cluster.local:80')!.routes.map((r) => r.name), ['gateway-only', 'everywhere']);

  const sidecar = translateYaml(yaml, { role: 'sidecar', namespace: 'shop' });
  const meshVh = sidecar.routes.find((r) => r.name === '8000')!.virtualHosts.find((v) => v.name === 'web.shop.svc.cluster.local:8000')!;
  t.deepEqual(meshVh.routes.map((r) => r.name), ['mesh-only', 'everywhere']);
  t.false(sidecar.routes.some((rc) => rc.virtualHosts.some((v) => v.name.startsWith('web.example.com'))), 'a gateway-only VirtualService never reaches the sidecar');
});

test('httpsRedirect on an HTTP server marks its virtual hosts require_tls ALL (Envoy answers 301 to https)', (t) => {
  const yaml =
    services +
    gateway(
      'in',
      'shop',
      `  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["secure.example.com"]
    tls: {httpsRedirect: true}
  - port: {number: 80, name: http-plain, protocol: HTTP}
    hosts: ["plain.example.com"]`,
    ) +
    virtualService('web', 'shop', `  hosts: [secure.example.com, plain.example.com]\n  gateways: [in]\n  http: [{route: [{destination: {host: web}}]}]`);
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  t.is(vhost(out.routes, 'http.80', 'secure.example.com:80')!.requireTls, 'ALL');
  t.is(vhost(out.routes, 'http.80', 'plain.example.com:80')!.requireTls, undefined);
});

test('HTTPS servers are carried into the model with their TLS settings (termination is another piece of work)', (t) => {
  const yaml =
    services +
    gateway(
      'in',
      'shop',
      `  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["web.example.com"]
    tls: {mode: SIMPLE, credentialName: web-cert}
  - port: {number: 8443, name: tls, protocol: TLS}
    hosts: ["pass.example.com"]
    tls: {mode: PASSTHROUGH}`,
    );
  const out = translateYaml(yaml, { role: 'router', labels: INGRESS });
  t.is(out.listeners.find((l) => l.address.port === 443)!.filterChains[0].tls?.mode, 'SIMPLE');
});
