/**
 * End-to-end: an ingress gateway (`legate proxy router`) from Gateway resources (issue 13
 * item 1) with real curl from outside: several hosts on one port admitted per namespace,
 * two Gateways on one proxy with routes per gateway, a Gateway for other proxies ignored,
 * httpsRedirect, a TCP server with a tcp[] route, and mesh-only routes kept off the gateway.
 */
import test from 'ava';
import { gateway, gatewayPod, httpRequest, RemoteHost, report, serviceEntry, tcpClient, virtualService, type HttpResponse } from './harness/index.js';

const WEB_PORT = 8001;
const API_PORT = 8002;
const ECHO_PORT = 7000;

function config(remoteIp: string): string[] {
  const http = (name: string, namespace: string, port: number) =>
    serviceEntry({ name, namespace, hosts: [`${name}.${namespace}.svc.cluster.local`], location: 'MESH_INTERNAL', ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: remoteIp, ports: { http: port } }] });
  const gw = (name: string, selector: Record<string, string>, servers: unknown[]) => gateway(name, { selector, servers }, 'istio-system');
  return [
    http('web', 'shop', WEB_PORT),
    http('api', 'team', API_PORT),
    serviceEntry({ name: 'db', namespace: 'shop', hosts: ['db.shop.svc.cluster.local'], location: 'MESH_INTERNAL', ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], endpoints: [{ address: remoteIp, ports: { tcp: ECHO_PORT } }] }),
    gw('ingress', { istio: 'ingressgateway' }, [
      { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['shop/web.example.com', 'team/api.example.com', '*/shared.example.com'] },
      { port: { number: 80, name: 'http-secure', protocol: 'HTTP' }, hosts: ['secure.example.com'], tls: { httpsRedirect: true } },
      { port: { number: 5432, name: 'tcp-db', protocol: 'TCP' }, hosts: ['shop/*'] },
    ]),
    gw('partner', { istio: 'ingressgateway' }, [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*/*'] }]),
    gw('elsewhere', { istio: 'some-other-gateway' }, [{ port: { number: 9090, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }]),
    // One VirtualService on two gateways, with a route only for one of them.
    virtualService(
      'web',
      {
        hosts: ['web.example.com', 'shared.example.com', 'secure.example.com'],
        gateways: ['istio-system/ingress', 'istio-system/partner'],
        http: [
          { name: 'partner-only', match: [{ gateways: ['istio-system/partner'] }], route: [{ destination: { host: 'api.team.svc.cluster.local' } }] },
          { name: 'web', route: [{ destination: { host: 'web.shop.svc.cluster.local' } }] },
        ],
      },
      'shop',
    ),
    virtualService('api', { hosts: ['api.example.com'], gateways: ['istio-system/ingress'], http: [{ route: [{ destination: { host: 'api.team.svc.cluster.local' } }] }] }, 'team'),
    // Team tries to take web.example.com/sneaky: the server admits web.example.com from shop only.
    virtualService('sneaky', { hosts: ['web.example.com'], gateways: ['istio-system/ingress'], http: [{ match: [{ uri: { prefix: '/sneaky' } }], route: [{ destination: { host: 'api.team.svc.cluster.local' } }] }] }, 'team'),
    // Bound to the mesh only (no gateways): must not touch the gateway's api.example.com.
    virtualService('api-mesh', { hosts: ['api.example.com'], http: [{ fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }, route: [{ destination: { host: 'api.team.svc.cluster.local' } }] }] }, 'team'),
    virtualService('db', { hosts: ['*'], gateways: ['istio-system/ingress'], tcp: [{ route: [{ destination: { host: 'db.shop.svc.cluster.local', port: { number: 5432 } } }] }] }, 'shop'),
  ];
}

test('ingress gateway: hosts per namespace, routes per gateway, httpsRedirect, TCP, and nothing from the mesh', async (t) => {
  const remote = await RemoteHost.create(t, 'outside');
  await Promise.all([remote.httpServer(WEB_PORT, 'web'), remote.httpServer(API_PORT, 'api'), remote.tcpServer([{ port: ECHO_PORT, mode: 'echo' }])]);
  const gw = await gatewayPod(t, remote, { labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' }, config: (r) => config(r.ip) });

  const get = (host: string, path = '/', port = 80): Promise<HttpResponse> =>
    httpRequest(remote.ns, `http://${host}:${port}${path}`, { args: ['--resolve', `${host}:${port}:${gw.ip}`] });
  const served = async (host: string, path = '/', port = 80) => {
    const r = await get(host, path, port);
    return r.status === 200 ? report(r).name : `status ${r.status}`;
  };

  t.is(await served('web.example.com'), 'web');
  t.is((await get('web.example.com')).headers.server, 'istio-envoy', "istiod's server_name on gateway HCMs");
  t.is(await served('api.example.com'), 'api', 'the mesh-only fault does not apply on the gateway');
  t.is(await served('shared.example.com'), 'web', '*/ admits every namespace');
  t.is(await served('web.example.com', '/sneaky'), 'web', "team's route for a host admitted from shop only is not served");
  t.is(await served('unknown.example.com'), 'status 404');
  t.is(await served('web.example.com', '/', 8080), 'api', 'the partner gateway has its own route first');
  t.is(await served('shared.example.com', '/', 8080), 'api');
  const report9090 = await get('web.example.com', '/', 9090);
  t.is(report9090.status, 0, 'a Gateway selecting other proxies opens no port');

  const redirect = await get('secure.example.com', '/cart?id=7');
  t.is(redirect.status, 301);
  t.is(redirect.headers.location, 'https://secure.example.com/cart?id=7');
  t.is(redirect.headers.server, 'istio-envoy', 'a local reply says it too');

  const tcp = await tcpClient(remote.ns, { host: gw.ip, port: 5432, send: 10_000 });
  t.true(tcp.connected, tcp.error);
  t.is(tcp.rxSha256, tcp.sentSha256, 'the TCP server forwards to the tcp[] route (echo)');
});
