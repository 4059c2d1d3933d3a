/**
 * End-to-end: Istio's egress TLS-origination task with its DestinationRule exactly as the docs
 * write it — `portLevelSettings[443].tls.mode: SIMPLE`, no `sni`, no `caCertificates` — which
 * works in Istio only through istiod's auto SNI and auto SAN validation (Envoy's auto_sni,
 * auto_san_validation). The external side is a name-based HTTPS virtual host, as public
 * servers are: it REQUIRES SNI and serves two names with two certificates. Three names route
 * sidecar → egress gateway → the one origination cluster; each must reach its own certificate
 * over its own TLS connection, and a name the certificate does not cover must fail as 503 UF.
 * The CA is trusted the way "no caCertificates" means in Istio: the proxy's default roots
 * (here extended with NODE_EXTRA_CA_CERTS, as a system trust store would be).
 */
import test from 'ava';
import {
  accessLogEntries, destinationRule, DnsTestCa, eventually, gateway, gatewayPod, httpRequest, meshConfigMap, Pod, RemoteHost, serviceEntry, startTlsServer, virtualService,
} from './harness/index.js';

const EXTERNAL = 'edition.cnn.example';
const OTHER = 'www.cnn.example';
/** Routed like the others, but neither certificate names it: the server falls back to EXTERNAL's. */
const UNCOVERED = 'uncovered.example';
const NAMES = [EXTERNAL, OTHER, UNCOVERED];
const VIP = '240.240.3.30';
const EGRESS = 'istio-egressgateway.istio-system.svc.cluster.local';
const ORIGINATION_CLUSTER = `outbound|443||${EXTERNAL}`;

/** The task's ServiceEntry (80 for the app, 443 for origination), the extra names on the same endpoint. */
const externalService = (remoteIp: string) =>
  serviceEntry({
    name: 'cnn', hosts: NAMES, addresses: [VIP], endpoints: [{ address: remoteIp }],
    ports: [{ number: 80, name: 'http-port', protocol: 'HTTP' }, { number: 443, name: 'https-port-for-tls-origination', protocol: 'HTTPS' }],
  });

const egressService = (gatewayIp: string) =>
  serviceEntry({
    name: 'istio-egressgateway', namespace: 'istio-system', hosts: [EGRESS], location: 'MESH_INTERNAL',
    ports: [{ number: 80, name: 'http2', protocol: 'HTTP' }], endpoints: [{ address: gatewayIp, labels: { istio: 'egressgateway' } }],
  });

/** mesh → the gateway; the gateway → the external host's 443, whatever the name (the Host header is kept). */
const throughGateway = virtualService('direct-cnn-through-egress-gateway', {
  hosts: NAMES,
  gateways: ['istio-egressgateway', 'mesh'],
  http: [
    { match: [{ gateways: ['mesh'], port: 80 }], route: [{ destination: { host: EGRESS, subset: 'cnn', port: { number: 80 } } }] },
    { match: [{ gateways: ['istio-egressgateway'], port: 80 }], route: [{ destination: { host: EXTERNAL, port: { number: 443 } } }] },
  ],
});

/** Istio's task, verbatim apart from the host: no sni, no caCertificates. */
const taskRule = destinationRule('originate-tls-for-edition-cnn-com', {
  host: EXTERNAL,
  trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE' } }] },
});

test('egress gateway TLS origination with the task\'s DestinationRule (no sni): each Host is the SNI, has its own connection and its certificate checked; an uncovered name is 503 UF', async (t) => {
  const remote = await RemoteHost.create(t, 'internet');
  const ca = await DnsTestCa.create(t);
  const [external, other] = await Promise.all([ca.issue('external', [EXTERNAL]), ca.issue('other', [OTHER])]);
  await startTlsServer(remote.ns, { 443: 'cnn-https' }, external, { [EXTERNAL]: external, [OTHER]: other });
  const pod = await Pod.create(t, { remote });
  const common = (gatewayIp: string) => [externalService(remote.ip), egressService(gatewayIp), throughGateway, destinationRule('egressgateway-for-cnn', { host: EGRESS, subsets: [{ name: 'cnn' }] })];
  const egress = await gatewayPod(t, remote, {
    labels: { istio: 'egressgateway', app: 'istio-egressgateway' },
    config: [
      meshConfigMap({ accessLogFile: '/dev/stdout' }),
      ...common('0.0.0.0'),
      gateway('istio-egressgateway', { selector: { istio: 'egressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: NAMES }] }),
      taskRule,
    ],
    // "No caCertificates" is the proxy's default roots; the test CA joins them as a system store would.
    proxy: { env: { NODE_EXTRA_CA_CERTS: ca.caFile } },
  });
  pod.writeConfig(meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }), ...common(egress.ip));
  await pod.startProxy({ concurrency: 1 });

  const get = (name: string) => httpRequest(pod.ns, `http://${name}/headlines`, { args: ['--resolve', `${name}:80:${VIP}`] });
  for (const name of [EXTERNAL, OTHER, EXTERNAL]) {
    const r = await get(name);
    t.is(r.status, 200, `${name}: ${r.stderr}${r.text}`);
    const seen = JSON.parse(r.text) as { name: string; sni: string | null; host: string | null; cert: string; peer: string | null };
    t.is(seen.name, 'cnn-https');
    t.is(seen.sni, name, 'the gateway sent the request\'s Host as SNI');
    t.is(seen.cert, name, 'so the server chose that name\'s certificate');
    t.is(seen.host, name);
    t.is(seen.peer, egress.ip, 'TLS was originated by the egress gateway');
  }
  t.is(await egress.waitForStat(`cluster.${ORIGINATION_CLUSTER}.upstream_rq_2xx`, 3), 3, 'all three through the one origination cluster');
  t.is(await egress.stat(`cluster.${ORIGINATION_CLUSTER}.ssl.handshake`), 2, 'one TLS connection per name: the second EXTERNAL request reused the first');
  t.is(await egress.stat(`cluster.${ORIGINATION_CLUSTER}.upstream_cx_total`), 2);

  // The server presents EXTERNAL's certificate for a name it does not know: auto SAN validation refuses it.
  const refused = await get(UNCOVERED);
  t.is(refused.status, 503, refused.text);
  t.regex(refused.text, /TLS_error/, 'the gateway\'s reply names the TLS failure');
  t.true((await egress.waitForStat(`cluster.${ORIGINATION_CLUSTER}.ssl.fail_verify_san`, 1)) >= 1);
  const logged = await eventually('gateway access log entry for the uncovered name', () => accessLogEntries(egress).find((e) => e.authority === UNCOVERED));
  t.is(logged.response_code, 503);
  t.regex(logged.response_flags ?? '', /^UF(,URX)?$/, 'UF (URX once the connect-failure retries are spent)');
  t.regex(logged.upstream_transport_failure_reason ?? '', /TLS_error/);
  t.is(await egress.stat(`cluster.${ORIGINATION_CLUSTER}.upstream_rq_2xx`), 3, 'nothing reached the server for it');
});
