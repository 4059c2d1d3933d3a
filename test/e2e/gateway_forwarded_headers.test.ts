/**
 * End-to-end: an ingress gateway is an edge proxy, as Istio configures its Envoy
 * (use_remote_address, gatewayTopology.numTrustedProxies): what the app behind it sees of
 * x-forwarded-for, x-envoy-external-address, x-forwarded-proto and the internal-only
 * x-envoy-* headers a client tries to send, with real curl through `legate proxy router`.
 */
import test from 'ava';
import { gateway, gatewayPod, httpRequest, meshConfigMap, RemoteHost, report, serviceEntry, virtualService } from './harness/index.js';

const WEB_PORT = 8001;

function config(remoteIp: string): string[] {
  return [
    // One load balancer in front of the gateway: its x-forwarded-for entry is trusted.
    meshConfigMap({ extra: ['defaultConfig:', '  gatewayTopology:', '    numTrustedProxies: 1'].join('\n') }),
    serviceEntry({ name: 'web', namespace: 'shop', hosts: ['web.shop.svc.cluster.local'], location: 'MESH_INTERNAL', ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: remoteIp, ports: { http: WEB_PORT } }] }),
    gateway('ingress', { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] }, 'istio-system'),
    virtualService('web', { hosts: ['web.example.com'], gateways: ['istio-system/ingress'], http: [{ route: [{ destination: { host: 'web.shop.svc.cluster.local' } }] }] }, 'shop'),
  ];
}

test('gateway edge headers: x-forwarded-for appended, the trusted client as x-envoy-external-address, internal x-envoy-* headers from outside dropped', async (t) => {
  const remote = await RemoteHost.create(t, 'outside');
  await remote.httpServer(WEB_PORT, 'web');
  const gw = await gatewayPod(t, remote, { labels: { istio: 'ingressgateway' }, config: (r) => config(r.ip) });
  const get = (headers: string[]) =>
    httpRequest(remote.ns, 'http://web.example.com/', { args: ['--resolve', `web.example.com:80:${gw.ip}`, ...headers.flatMap((h) => ['-H', h])] });

  // Through a load balancer that saw 203.0.113.7: a request from outside.
  const viaLb = await get(['x-forwarded-for: 203.0.113.7', 'x-forwarded-proto: https', 'x-envoy-retry-on: 5xx', 'x-envoy-upstream-rq-timeout-ms: 1', 'x-request-id: chosen-by-client']);
  t.is(viaLb.status, 200, viaLb.text);
  const outside = report(viaLb).headers;
  t.is(outside['x-forwarded-for'], `203.0.113.7,${remote.ip}`, 'the peer is appended');
  t.is(outside['x-envoy-external-address'], '203.0.113.7', 'one trusted hop: the client is the last address the load balancer wrote');
  t.is(outside['x-forwarded-proto'], 'https', "a trusted hop's x-forwarded-proto is kept");
  t.false('x-envoy-retry-on' in outside);
  t.false('x-envoy-upstream-rq-timeout-ms' in outside);
  t.false('x-envoy-internal' in outside);
  t.not(outside['x-request-id'], 'chosen-by-client', "an outside request's id is replaced");
  t.regex(outside['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);

  // Straight from the test network (a private address, no x-forwarded-for): internal.
  const direct = await get(['x-envoy-retry-on: 5xx', 'x-request-id: kept-inside']);
  const inside = report(direct).headers;
  t.is(inside['x-forwarded-for'], remote.ip);
  t.false('x-envoy-external-address' in inside);
  t.is(inside['x-envoy-internal'], 'true');
  t.is(inside['x-envoy-retry-on'], '5xx', 'internal requests keep them');
  t.is(inside['x-request-id'], 'kept-inside');
  t.is(inside['x-forwarded-proto'], 'http');
});
