/**
 * End-to-end: Istio's "Egress Gateways with TLS Origination" task (issue 13). The app sends
 * plain HTTP to an external host; its sidecar routes it to the egress gateway (one
 * VirtualService for `mesh` and the gateway); the gateway routes it to the external host's
 * port 443, where a DestinationRule `portLevelSettings[].tls.mode: SIMPLE` makes the gateway
 * originate TLS to a real HTTPS server (node:https, certificate made by the test). The second
 * test is the task's mTLS variant: sidecar → gateway over ISTIO_MUTUAL (the gateway's server
 * `tls.mode: ISTIO_MUTUAL` presents its workload certificate and requires a mesh client).
 */
import test, { type ExecutionContext } from 'ava';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accessLogEntries, destinationRule, DnsTestCa, eventually, gateway, gatewayPod, httpRequest, meshConfigMap, Pod, RemoteHost, serviceEntry, startTlsServer, TestCa, virtualService,
  type HttpResponse, type TestContext,
} from './harness/index.js';

const EXTERNAL = 'external.example';
const EXTERNAL_VIP = '240.240.3.20';
const EGRESS = 'istio-egressgateway.istio-system.svc.cluster.local';
const EXTERNAL_CLUSTER = `outbound|443||${EXTERNAL}`;

/** The external host as the task registers it: port 80 for the app's plain HTTP, 443 for the gateway's origination. */
function externalService(remoteIp: string): string {
  return serviceEntry({
    name: 'external', hosts: [EXTERNAL], addresses: [EXTERNAL_VIP], endpoints: [{ address: remoteIp }],
    ports: [{ number: 80, name: 'http-port', protocol: 'HTTP' }, { number: 443, name: 'https-port-for-tls-origination', protocol: 'HTTPS' }],
  });
}

/** The egress gateway's Service, as every proxy sees it (the sidecar needs its address). */
function egressService(gatewayIp: string): string {
  return serviceEntry({
    name: 'istio-egressgateway', namespace: 'istio-system', hosts: [EGRESS], location: 'MESH_INTERNAL',
    ports: [{ number: 80, name: 'http2', protocol: 'HTTP' }, { number: 443, name: 'https', protocol: 'HTTPS' }],
    endpoints: [{ address: gatewayIp, labels: { istio: 'egressgateway' } }],
  });
}

/** The task's VirtualService: mesh → the gateway (subset cnn, `gatewayPort`), the gateway → the external host's 443. */
function directThroughGateway(gatewayPort: number): string {
  return virtualService('direct-external-through-egress-gateway', {
    hosts: [EXTERNAL],
    gateways: ['istio-egressgateway', 'mesh'],
    http: [
      { match: [{ gateways: ['mesh'], port: 80 }], route: [{ destination: { host: EGRESS, subset: 'external', port: { number: gatewayPort } } }] },
      { match: [{ gateways: ['istio-egressgateway'], port: gatewayPort }], route: [{ destination: { host: EXTERNAL, port: { number: 443 } } }] },
    ],
  });
}

/** The task's origination rule: SIMPLE on port 443 only, with the SNI and the CA (a file, or a credential). */
function originateTls(ca: { caCertificates: string } | { credentialName: string }): string {
  return destinationRule('originate-tls-for-external', {
    host: EXTERNAL,
    trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE', sni: EXTERNAL, ...ca } }] },
  });
}

interface ExternalAnswer {
  name: string;
  sni: string | null;
  tls: string;
  host: string | null;
  peer: string | null;
  url: string;
}

/** The external HTTPS server on the remote host's 443, its certificate issued for the external name by a test CA. */
async function externalHttps(t: TestContext, remote: RemoteHost): Promise<DnsTestCa> {
  const ca = await DnsTestCa.create(t);
  await startTlsServer(remote.ns, { 443: 'external-https' }, await ca.issue('external', [EXTERNAL]));
  return ca;
}

/** Checks the app's answer came from the external HTTPS server, over TLS with the external SNI, from the gateway. */
function assertOriginated(t: ExecutionContext, r: HttpResponse, gatewayIp: string): ExternalAnswer {
  t.is(r.status, 200, r.stderr + r.text);
  const seen = JSON.parse(r.text) as ExternalAnswer;
  t.is(seen.name, 'external-https', 'the HTTPS server itself answered');
  t.is(seen.sni, EXTERNAL, 'the gateway sent the DestinationRule\'s SNI');
  t.is(seen.host, EXTERNAL);
  t.is(seen.peer, gatewayIp, 'the TLS connection came from the egress gateway');
  return seen;
}

test('egress gateway with TLS origination: plain HTTP from the app, HTTPS with the right SNI from the gateway (DR portLevelSettings SIMPLE, caCertificates)', async (t) => {
  const remote = await RemoteHost.create(t, 'internet');
  const ca = await externalHttps(t, remote);
  const pod = await Pod.create(t, { remote });
  const common = (gatewayIp: string) => [externalService(remote.ip), egressService(gatewayIp), directThroughGateway(80), destinationRule('egressgateway-for-external', { host: EGRESS, subsets: [{ name: 'external' }] })];
  const egress = await gatewayPod(t, remote, {
    labels: { istio: 'egressgateway', app: 'istio-egressgateway' },
    config: [
      meshConfigMap({ accessLogFile: '/dev/stdout' }),
      ...common('0.0.0.0'),
      gateway('istio-egressgateway', { selector: { istio: 'egressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [EXTERNAL] }] }),
      originateTls({ caCertificates: ca.caFile }),
    ],
  });
  pod.writeConfig(meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }), ...common(egress.ip));
  await pod.startProxy({ concurrency: 1 });

  const r = await httpRequest(pod.ns, `http://${EXTERNAL}/politics?x=1`, { args: ['--resolve', `${EXTERNAL}:80:${EXTERNAL_VIP}`] });
  const seen = assertOriginated(t, r, egress.ip);
  t.is(seen.url, '/politics?x=1');
  t.is(await pod.waitForStat(`cluster.outbound|80|external|${EGRESS}.upstream_rq_2xx`, 1), 1, 'the sidecar sent it to the gateway, in plain HTTP');
  t.is(await egress.waitForStat(`cluster.${EXTERNAL_CLUSTER}.upstream_rq_2xx`, 1), 1, 'the gateway routed it to the external host\'s 443');
  t.is(await egress.stat(`cluster.${EXTERNAL_CLUSTER}.ssl.handshake`), 1, 'over TLS');
  const logged = await eventually('gateway access log entry', () => accessLogEntries(egress).find((e) => e.upstream_cluster === EXTERNAL_CLUSTER));
  t.is(logged.response_code, 200);
  t.is(logged.authority, EXTERNAL);
});

/** A credential directory (`--credential-dir`) holding one secret, `<name>/ca.crt`: a DestinationRule's CA-only credentialName. */
function caCredential(t: TestContext, name: string, caFile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'legate-credentials-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, name), { mode: 0o755 });
  cpSync(caFile, join(dir, name, 'ca.crt'));
  return dir;
}

test('egress gateway with TLS origination, mTLS variant: sidecar → gateway ISTIO_MUTUAL (gateway server ISTIO_MUTUAL), gateway → external HTTPS by a credentialName CA', async (t) => {
  const remote = await RemoteHost.create(t, 'internet');
  const ca = await externalHttps(t, remote);
  const mesh = await TestCa.create(t);
  const [podCerts, gatewayCerts] = await Promise.all([
    mesh.issue('app', { ns: 'default', sa: 'curl' }),
    mesh.issue('egress', { ns: 'istio-system', sa: 'istio-egressgateway-service-account' }),
  ]);
  // SIMPLE verifies the server and presents nothing: the secret holds only the CA.
  const credentials = caCredential(t, 'external-ca', ca.caFile);
  const pod = await Pod.create(t, { remote });
  const common = (gatewayIp: string) => [
    externalService(remote.ip), egressService(gatewayIp), directThroughGateway(443),
    destinationRule('egressgateway-for-external', {
      host: EGRESS,
      subsets: [{ name: 'external', trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'ISTIO_MUTUAL', sni: EXTERNAL } }] } }],
    }),
  ];
  const egress = await gatewayPod(t, remote, {
    labels: { istio: 'egressgateway', app: 'istio-egressgateway' },
    config: [
      meshConfigMap({ accessLogFile: '/dev/stdout' }),
      ...common('0.0.0.0'),
      gateway('istio-egressgateway', { selector: { istio: 'egressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: [EXTERNAL], tls: { mode: 'ISTIO_MUTUAL' } }] }),
      originateTls({ credentialName: 'external-ca' }),
    ],
    proxy: { args: ['--cert-dir', gatewayCerts, '--credential-dir', credentials] },
  });
  pod.writeConfig(meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }), ...common(egress.ip));
  await pod.startProxy({ concurrency: 1, args: ['--cert-dir', podCerts] });

  const r = await httpRequest(pod.ns, `http://${EXTERNAL}/politics`, { args: ['--resolve', `${EXTERNAL}:80:${EXTERNAL_VIP}`] });
  assertOriginated(t, r, egress.ip);
  t.is(await pod.waitForStat(`cluster.outbound|443|external|${EGRESS}.ssl.handshake`, 1), 1, 'the sidecar originated mTLS to the gateway');
  t.is(await egress.waitForStat('listener.0.0.0.0_443.ssl.handshake', 1), 1, 'the gateway terminated it');
  t.is(await egress.waitForStat(`cluster.${EXTERNAL_CLUSTER}.ssl.handshake`, 1), 1, 'and originated TLS to the external host');
  const logged = await eventually('gateway access log entry', () => accessLogEntries(egress).find((e) => e.upstream_cluster === EXTERNAL_CLUSTER));
  t.is(logged.requested_server_name, EXTERNAL, 'the sidecar sent the DestinationRule\'s SNI to the gateway');
  t.regex(logged.downstream_remote_address ?? '', new RegExp(`^${pod.ip.replace(/\./g, '\\.')}:`));

  // A client outside the mesh (no workload certificate) is refused by the ISTIO_MUTUAL server.
  const outsider = await remote.ns.exec(['curl', '-sS', '-k', '--max-time', '5', '--resolve', `${EXTERNAL}:443:${egress.ip}`, `https://${EXTERNAL}/`], { check: false });
  t.not(outsider.code, 0, outsider.stdout);
  t.is(await egress.stat(`cluster.${EXTERNAL_CLUSTER}.upstream_rq_total`), 1, 'nothing more was forwarded');
});
