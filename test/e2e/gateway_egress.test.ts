/**
 * End-to-end: Istio's egress-gateway pattern over HTTP (issue 13 item 3). A captured pod's
 * sidecar sends traffic for an external host to the egress gateway (`legate proxy router`
 * in its own namespace) because one VirtualService lists both `mesh` and the gateway; the
 * gateway sends it on to the external server. Real curl, real servers: the external server
 * sees the gateway's address, and both proxies count the request.
 */
import test from 'ava';
import { gateway, gatewayPod, httpRequest, meshConfigMap, Pod, RemoteHost, report, serviceEntry, virtualService } from './harness/index.js';

const EXTERNAL = 'api.external.example';
const OTHER = 'other.external.example';
const EXTERNAL_VIP = '240.240.3.10';
const OTHER_VIP = '240.240.3.11';
const EGRESS_SERVICE = 'istio-egressgateway.istio-system.svc.cluster.local';

/** What istiod would give every proxy: the external hosts, the gateway's Service, the Gateway and the VirtualService. */
function meshConfig(remoteIp: string, gatewayIp: string): string[] {
  const external = (name: string, host: string, vip: string) =>
    serviceEntry({ name, hosts: [host], addresses: [vip], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: remoteIp }] });
  return [
    external('api', EXTERNAL, EXTERNAL_VIP),
    external('other', OTHER, OTHER_VIP),
    serviceEntry({
      name: 'istio-egressgateway',
      namespace: 'istio-system',
      hosts: [EGRESS_SERVICE],
      location: 'MESH_INTERNAL',
      ports: [{ number: 80, name: 'http2', protocol: 'HTTP' }],
      endpoints: [{ address: gatewayIp, labels: { istio: 'egressgateway' } }],
    }),
    gateway('istio-egressgateway', { selector: { istio: 'egressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [EXTERNAL] }] }),
    virtualService('direct-api-through-egress-gateway', {
      hosts: [EXTERNAL],
      gateways: ['istio-egressgateway', 'mesh'],
      http: [
        { match: [{ gateways: ['mesh'], port: 80 }], route: [{ destination: { host: EGRESS_SERVICE, port: { number: 80 } } }] },
        { match: [{ gateways: ['istio-egressgateway'], port: 80 }], route: [{ destination: { host: EXTERNAL, port: { number: 80 } } }] },
      ],
    }),
  ];
}

test('egress gateway: the sidecar sends the external host to the gateway, which forwards it; other hosts go direct', async (t) => {
  const remote = await RemoteHost.create(t, 'internet');
  await remote.httpServer(80, 'external');
  const pod = await Pod.create(t, { remote });
  const egress = await gatewayPod(t, remote, { labels: { istio: 'egressgateway', app: 'istio-egressgateway' }, config: [meshConfigMap(), ...meshConfig(remote.ip, '0.0.0.0')] });
  // The sidecar needs the gateway's address; REGISTRY_ONLY as Istio's egress docs recommend.
  pod.writeConfig(meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }), ...meshConfig(remote.ip, egress.ip));
  await pod.startProxy({ concurrency: 1 });

  const viaGateway = await httpRequest(pod.ns, `http://${EXTERNAL}/get?x=1`, { args: ['--resolve', `${EXTERNAL}:80:${EXTERNAL_VIP}`] });
  t.is(viaGateway.status, 200, viaGateway.stderr);
  const seen = report(viaGateway);
  t.is(seen.peer, egress.ip, 'the external server was reached from the egress gateway');
  t.is(seen.headers.host, EXTERNAL);
  t.is(seen.url, '/get?x=1');
  t.is(await pod.waitForStat(`cluster.outbound|80||${EGRESS_SERVICE}.upstream_rq_2xx`, 1), 1, 'the sidecar routed to the gateway');
  t.is(await egress.waitForStat(`cluster.outbound|80||${EXTERNAL}.upstream_rq_2xx`, 1), 1, 'the gateway routed to the external host');

  // A registered host without the VirtualService is not detoured: the mesh route is per host.
  const direct = await httpRequest(pod.ns, `http://${OTHER}/`, { args: ['--resolve', `${OTHER}:80:${OTHER_VIP}`] });
  t.is(direct.status, 200, direct.stderr);
  t.is(report(direct).peer, pod.ip, 'other.external.example goes straight from the sidecar');

  // The gateway serves only what its Gateway admits: other.external.example sent to it (from
  // outside the pod: the sidecar itself would route by Host) is 404, and nothing is forwarded.
  const notAdmitted = await httpRequest(remote.ns, `http://${OTHER}/`, { args: ['--resolve', `${OTHER}:80:${egress.ip}`] });
  t.is(notAdmitted.status, 404);
  t.is(await egress.stat(`cluster.outbound|80||${OTHER}.upstream_rq_total`), 0);
  // REGISTRY_ONLY still holds for hosts nobody registered.
  const unknown = await httpRequest(pod.ns, 'http://unknown.example/', { args: ['--resolve', `unknown.example:80:${remote.ip}`] });
  t.is(unknown.status, 502);
});
