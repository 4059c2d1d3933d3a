/**
 * End-to-end: mutual TLS between two sidecars (issue 12 items 1–3). A client pod's sidecar
 * originates ISTIO_MUTUAL (auto mTLS: the endpoint is labelled `security.istio.io/tlsMode:
 * istio`) to a server pod, whose sidecar terminates it under PeerAuthentication and delivers
 * to the app on loopback. Certificates come from `legate ca`; clients are curl and openssl.
 */
import test from 'ava';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import {
  APP_UID, TestCa, destinationRule, grpcCalls, startGrpcServer, startTcpServer, tcpClient, httpLoad, httpRequest, meshConfigMap, meshPods, peerAuthentication, report, serviceEntry, startHttpServer, type MeshPods,
} from './harness/index.js';

const APP_PORT = 8080;
const VIP = '240.240.9.1';
const SERVER_ID = 'spiffe://cluster.local/ns/shop/sa/server';
const CLIENT_ID = 'spiffe://cluster.local/ns/front/sa/client';

/** The server's service as the client sees it: one endpoint, the server pod, in the mesh. */
function serverService(m: MeshPods, extra: string[] = []): string[] {
  return [
    meshConfigMap(),
    serviceEntry({
      name: 'server', namespace: 'shop', hosts: ['server.shop.svc.cluster.local'], addresses: [VIP], location: 'MESH_INTERNAL',
      ports: [{ number: APP_PORT, name: 'http', protocol: 'HTTP' }],
      endpoints: [{ address: m.server.ip, labels: { 'security.istio.io/tlsMode': 'istio' }, serviceAccount: 'server' }],
    }),
    ...extra,
  ];
}

/** Both sidecars with their identities; the server pod runs the app and `mode` inbound. */
async function start(t: Parameters<typeof meshPods>[0], mode: 'STRICT' | 'PERMISSIVE', clientExtra: string[] = [], serverAccept: 'handoff' | 'reuseport' = 'handoff') {
  const m = await meshPods(t);
  const [clientCerts, serverCerts] = await Promise.all([m.ca.issue('client', { ns: 'front', sa: 'client' }), m.ca.issue('server', { ns: 'shop', sa: 'server' })]);
  const app = await startHttpServer(m.server.ns, APP_PORT, { uid: APP_UID, host: '127.0.0.1', name: 'app' });
  m.server.writeConfig(meshConfigMap({ accessLogFile: '/dev/stdout', accessLogEncoding: 'JSON' }), peerAuthentication('default', 'shop', { mtls: { mode } }));
  m.client.writeConfig(...serverService(m, clientExtra));
  await Promise.all([
    m.server.startProxy({ concurrency: 1, acceptMode: serverAccept, args: ['--cert-dir', serverCerts, '--pod-namespace', 'shop', '--proxy-labels', 'app=server'] }),
    m.client.startProxy({ concurrency: 1, args: ['--cert-dir', clientCerts, '--pod-namespace', 'front', '--proxy-labels', 'app=client'] }),
  ]);
  return { ...m, app, clientCerts, serverCerts };
}

test('ISTIO_MUTUAL sidecar to sidecar (STRICT): delivered to the app, peer identity in the server\'s access log, ssl stats on both sides', async (t) => {
  const m = await start(t, 'STRICT');
  const r = await httpRequest(m.client.ns, `http://${VIP}:${APP_PORT}/hello`);
  if (r.status !== 200) t.log([...(await m.server.stats())].filter(([k, v]) => v && /listener|ssl/.test(k)));
  t.is(r.status, 200, r.text);
  const seen = report(r);
  t.is(seen.url, '/hello');
  t.is(seen.peer, '127.0.0.6', 'delivered by the server sidecar');
  // What apps behind Istio's inbound see: the caller's certificate (APPEND_FORWARD, Subject/URI/DNS) and https.
  const clientDer = new X509Certificate(readFileSync(join(m.clientCerts, 'cert-chain.pem'))).raw;
  t.is(seen.headers['x-forwarded-client-cert'], `By=${SERVER_ID};Hash=${createHash('sha256').update(clientDer).digest('hex')};Subject="";URI=${CLIENT_ID}`);
  t.is(seen.headers['x-forwarded-proto'], 'https');
  t.is(await m.client.waitForStat(`cluster.outbound|${APP_PORT}||server.shop.svc.cluster.local.ssl.handshake`, 1), 1);
  t.is(await m.server.waitForStat('listener.0.0.0.0_15006.ssl.handshake', 1), 1);
  const log = m.server.proxy!.stdoutLines.find((l) => l.includes('/hello'));
  t.truthy(log, 'server access log line');
  const entry = JSON.parse(log!) as Record<string, unknown>;
  t.is(entry.downstream_peer_uri_san, CLIENT_ID);
  t.is(entry.requested_server_name, `outbound_.${APP_PORT}_._.server.shop.svc.cluster.local`, "Istio's SNI for ISTIO_MUTUAL");
  const prom = (await m.server.ns.exec(['curl', '-sS', 'http://127.0.0.1:15090/stats/prometheus'])).stdout;
  t.regex(prom, /istio_requests_total\{reporter="destination"[^}]*connection_security_policy="mutual_tls"\} 1/);
});

test('STRICT refuses plaintext; openssl s_client sees the server\'s SPIFFE SAN and the negotiated ALPN', async (t) => {
  const m = await start(t, 'STRICT');
  const plain = await m.remote.ns.exec(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${m.server.ip}:${APP_PORT}/`], { check: false });
  
  t.is(plain.stdout, '000');
  t.is(m.app.requests().length, 0);
  t.true((await m.server.waitForStat('listener.0.0.0.0_15006.no_filter_chain_match', 1)) >= 1);

  const s = await m.remote.ns.exec(
    ['openssl', 's_client', '-connect', `${m.server.ip}:${APP_PORT}`, '-cert', join(m.clientCerts, 'cert-chain.pem'), '-key', join(m.clientCerts, 'key.pem'), '-CAfile', m.ca.rootCert, '-alpn', 'istio-http/1.1,http/1.1', '-verify_return_error', '-ign_eof'],
    { input: 'GET /via-openssl HTTP/1.1\r\nHost: server\r\nConnection: close\r\n\r\n', check: false, timeoutMs: 10_000 },
  );
  t.regex(s.stdout, /ALPN protocol: http\/1\.1/);
  t.regex(s.stdout, /Verify return code: 0 \(ok\)/);
  t.regex(s.stdout, /HTTP\/1\.1 200/);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(s.stdout)?.[0];
  const san = await m.remote.ns.exec(['openssl', 'x509', '-noout', '-ext', 'subjectAltName'], { input: pem ?? '' });
  t.true(san.stdout.includes(`URI:${SERVER_ID}`), san.stdout);
  // Without a client certificate the handshake fails: mutual TLS is required.
  const anon = await m.remote.ns.exec(['openssl', 's_client', '-connect', `${m.server.ip}:${APP_PORT}`, '-CAfile', m.ca.rootCert, '-alpn', 'istio-http/1.1'], { input: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', check: false, timeoutMs: 10_000 });
  t.notRegex(anon.stdout, /HTTP\/1\.1 200/);
  t.deepEqual(m.app.requests().map((q) => q.url), ['/via-openssl']);
});

test('PERMISSIVE accepts plaintext and mTLS on the same port (server sidecar in reuseport accept mode)', async (t) => {
  const m = await start(t, 'PERMISSIVE', [], 'reuseport');
  const plain = await httpRequest(m.remote.ns, `http://${m.server.ip}:${APP_PORT}/plain`, { uid: 0 });
  t.is(plain.status, 200);
  const mtls = await httpRequest(m.client.ns, `http://${VIP}:${APP_PORT}/mtls`);
  t.is(mtls.status, 200);
  t.deepEqual(m.app.requests().map((q) => q.url), ['/plain', '/mtls']);
  t.is(await m.server.waitForStat('listener.0.0.0.0_15006.ssl.handshake', 1), 1, 'only the sidecar\'s connection was TLS');
});

test('a server identity outside the DestinationRule\'s subjectAltNames is refused: 503 UF with the TLS error, ssl.fail_verify_san', async (t) => {
  const m = await start(t, 'STRICT', [
    destinationRule('server', { host: 'server.shop.svc.cluster.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL', subjectAltNames: ['spiffe://cluster.local/ns/shop/sa/someone-else'] } } }, 'shop'),
  ]);
  const r = await httpRequest(m.client.ns, `http://${VIP}:${APP_PORT}/`);
  t.is(r.status, 503);
  t.regex(r.text, /upstream connect error or disconnect\/reset before headers\..*TLS_error/);
  t.is(m.app.requests().length, 0);
  t.true((await m.client.waitForStat(`cluster.outbound|${APP_PORT}||server.shop.svc.cluster.local.ssl.fail_verify_san`, 1)) >= 1);
});

test('certificates rotated on both sides mid-traffic: zero failed requests, new handshakes present the new certificate', async (t) => {
  // One request per upstream connection: every request is a fresh handshake while the files rotate.
  const m = await start(t, 'STRICT', [destinationRule('server', { host: 'server.shop.svc.cluster.local', trafficPolicy: { connectionPool: { http: { maxRequestsPerConnection: 1 } } } }, 'shop')]);
  const load = await httpLoad(m.client.ns, { url: `http://${VIP}:${APP_PORT}/load`, parallel: 4, pauseMaxMs: 20 });
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 700));
    await Promise.all([m.ca.issue('client', { ns: 'front', sa: 'client' }), m.ca.issue('server', { ns: 'shop', sa: 'server' })]);
  }
  await new Promise((r) => setTimeout(r, 1500));
  const summary = await load.stop();
  t.log(summary);
  t.true(summary.sent > 20, `sent ${summary.sent}`);
  t.is(summary.ok, summary.sent, JSON.stringify(summary));
  t.true((await m.server.stat('listener.0.0.0.0_15006.ssl.handshake')) >= summary.sent, 'a handshake per request');
  // A fresh handshake now presents the newest server certificate.
  const s = await m.remote.ns.exec(['openssl', 's_client', '-connect', `${m.server.ip}:${APP_PORT}`, '-cert', join(m.clientCerts, 'cert-chain.pem'), '-key', join(m.clientCerts, 'key.pem'), '-CAfile', m.ca.rootCert, '-alpn', 'istio'], { input: '', check: false, timeoutMs: 10_000 });
  t.regex(s.stdout, /BEGIN CERTIFICATE/, s.stdout + s.stderr);
  const served = await m.remote.ns.exec(['openssl', 'x509', '-noout', '-fingerprint'], { input: /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(s.stdout)?.[0] ?? '' });
  const onDisk = await m.remote.ns.exec(['openssl', 'x509', '-noout', '-fingerprint', '-in', join(m.serverCerts, 'cert-chain.pem')]);
  t.is(served.stdout, onDisk.stdout);
});

test('SIMPLE origination (the egress pattern): plain HTTP from the app, TLS to an external server verified against the DestinationRule\'s CA and SNI', async (t) => {
  const m = await meshPods(t);
  const [clientCerts, serverTls, otherCa] = await Promise.all([
    m.ca.issue('client', { ns: 'front', sa: 'client' }),
    m.ca.issue('secure', { dns: 'secure.example' }, 'tls'),
    TestCa.create(t).then((other) => other.rootCert),
  ]);
  // A real TLS server: openssl's, answering any GET with its status page.
  m.remote.ns.spawn(['openssl', 's_server', '-accept', '8443', '-cert', join(serverTls, 'tls.crt'), '-key', join(serverTls, 'tls.key'), '-www'], { label: 'remote:s_server' });
  const external = (name: string, vip: string, ca: string, sni = 'secure.example') => [
    serviceEntry({ name, hosts: [`${name}.example`], addresses: [vip], ports: [{ number: 8443, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: m.remote.ip }] }),
    destinationRule(name, { host: `${name}.example`, trafficPolicy: { tls: { mode: 'SIMPLE', caCertificates: ca, sni } } }),
  ];
  m.client.writeConfig(meshConfigMap(), ...external('secure', '240.240.9.2', m.ca.rootCert), ...external('untrusted', '240.240.9.3', otherCa), ...external('wrongname', '240.240.9.4', m.ca.rootCert, 'other.example'));
  await m.client.startProxy({ concurrency: 1, args: ['--cert-dir', clientCerts] });
  await new Promise((r) => setTimeout(r, 300));
  const ok = await httpRequest(m.client.ns, 'http://240.240.9.2:8443/');
  t.is(ok.status, 200, ok.text);
  t.regex(ok.text, /s_server|Ciphers/i, 'the TLS server\'s own page');
  t.is(await m.client.waitForStat('cluster.outbound|8443||secure.example.ssl.handshake', 1), 1);
  const untrusted = await httpRequest(m.client.ns, 'http://240.240.9.3:8443/');
  t.is(untrusted.status, 503);
  t.true((await m.client.waitForStat('cluster.outbound|8443||untrusted.example.ssl.fail_verify_error', 1)) >= 1);
  const wrongName = await httpRequest(m.client.ns, 'http://240.240.9.4:8443/');
  t.is(wrongName.status, 503, 'the certificate is for secure.example, not the SNI other.example');
});

test('TCP over mTLS: tcp_proxy originates ISTIO_MUTUAL (ALPN istio) and the STRICT server\'s TCP chain delivers the bytes intact, half-close included', async (t) => {
  const m = await meshPods(t);
  const [clientCerts, serverCerts] = await Promise.all([m.ca.issue('client', { ns: 'front', sa: 'client' }), m.ca.issue('server', { ns: 'shop', sa: 'server' })]);
  await startTcpServer(m.server.ns, [{ port: 7001, mode: 'digest' }], { uid: APP_UID });
  m.server.writeConfig(meshConfigMap(), peerAuthentication('default', 'shop', { mtls: { mode: 'STRICT' } }));
  m.client.writeConfig(
    meshConfigMap(),
    serviceEntry({
      name: 'db', namespace: 'shop', hosts: ['db.shop.svc.cluster.local'], addresses: ['240.240.9.5'], location: 'MESH_INTERNAL',
      ports: [{ number: 7001, name: 'tcp', protocol: 'TCP' }],
      endpoints: [{ address: m.server.ip, labels: { 'security.istio.io/tlsMode': 'istio' }, serviceAccount: 'server' }],
    }),
  );
  await Promise.all([
    m.server.startProxy({ concurrency: 1, args: ['--cert-dir', serverCerts, '--pod-namespace', 'shop'] }),
    m.client.startProxy({ concurrency: 1, args: ['--cert-dir', clientCerts, '--pod-namespace', 'front'] }),
  ]);
  const r = await tcpClient(m.client.ns, { host: '240.240.9.5', port: 7001, send: 300_000, halfClose: true });
  t.true(r.connected, r.error);
  const digest = JSON.parse(r.rxHead) as { rx: number; sha256: string; peer: string };
  t.is(digest.rx, 300_000);
  t.is(digest.sha256, r.sentSha256);
  t.is(digest.peer, '127.0.0.6');
  t.is(await m.client.waitForStat('cluster.outbound|7001||db.shop.svc.cluster.local.ssl.handshake', 1), 1);
  t.is(await m.server.waitForStat('listener.0.0.0.0_15006.ssl.handshake', 1), 1);
  const prom = (await m.server.ns.exec(['curl', '-sS', 'http://127.0.0.1:15090/stats/prometheus'])).stdout;
  t.regex(prom, /istio_tcp_connections_closed_total\{reporter="destination"[^}]*connection_security_policy="mutual_tls"\} 1/);
});

test('gRPC over mTLS: the client sidecar opens h2 over ISTIO_MUTUAL (ALPN istio-h2 → h2), the STRICT server sidecar serves the streams as HTTP/2 to a gRPC app', async (t) => {
  const GRPC_PORT = 9090;
  const m = await meshPods(t);
  const [clientCerts, serverCerts] = await Promise.all([m.ca.issue('client', { ns: 'front', sa: 'client' }), m.ca.issue('server', { ns: 'shop', sa: 'server' })]);
  await startGrpcServer(m.server.ns, GRPC_PORT, 'mtls');
  m.server.writeConfig(meshConfigMap({ accessLogFile: '/dev/stdout', accessLogEncoding: 'JSON' }), peerAuthentication('default', 'shop', { mtls: { mode: 'STRICT' } }));
  m.client.writeConfig(
    meshConfigMap(),
    serviceEntry({
      name: 'grpc', namespace: 'shop', hosts: ['grpc.shop.svc.cluster.local'], addresses: [VIP], location: 'MESH_INTERNAL',
      ports: [{ number: GRPC_PORT, name: 'grpc', protocol: 'GRPC' }],
      endpoints: [{ address: m.server.ip, labels: { 'security.istio.io/tlsMode': 'istio' }, serviceAccount: 'server' }],
    }),
  );
  await Promise.all([
    m.server.startProxy({ concurrency: 1, args: ['--cert-dir', serverCerts, '--pod-namespace', 'shop', '--proxy-labels', 'app=server'] }),
    m.client.startProxy({ concurrency: 1, args: ['--cert-dir', clientCerts, '--pod-namespace', 'front', '--proxy-labels', 'app=client'] }),
  ]);
  const results = await grpcCalls(m.client.ns, `${VIP}:${GRPC_PORT}`, { authority: `grpc.shop.svc.cluster.local:${GRPC_PORT}` });
  t.deepEqual(results.map((r) => [r.kind, r.code]), [['unary', 0], ['server-streaming', 0], ['client-streaming', 0], ['bidi', 0]], JSON.stringify(results));
  t.true((await m.client.waitForStat(`cluster.outbound|${GRPC_PORT}||grpc.shop.svc.cluster.local.ssl.handshake`, 1)) >= 1, 'the h2 session is TLS');
  const log = m.server.proxy!.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.protocol === 'HTTP/2');
  t.truthy(log, 'the server sidecar served HTTP/2 streams');
  t.is(log!.downstream_peer_uri_san, CLIENT_ID);
});

test("AuthorizationPolicy over mTLS: ALLOW by the client's principal, DENY by its namespace, other principals refused with 403 RBAC: access denied", async (t) => {
  const authz = (name: string, spec: Record<string, unknown>) => ['apiVersion: security.istio.io/v1', 'kind: AuthorizationPolicy', 'metadata:', `  name: ${name}`, '  namespace: shop', `spec: ${JSON.stringify(spec)}`].join('\n');
  const m = await meshPods(t);
  const [clientCerts, serverCerts] = await Promise.all([m.ca.issue('client', { ns: 'front', sa: 'client' }), m.ca.issue('server', { ns: 'shop', sa: 'server' })]);
  await startHttpServer(m.server.ns, APP_PORT, { uid: APP_UID, host: '127.0.0.1', name: 'app' });
  m.server.writeConfig(
    meshConfigMap(),
    peerAuthentication('default', 'shop', { mtls: { mode: 'STRICT' } }),
    authz('client-reads', { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/front/sa/client'] } }], to: [{ operation: { methods: ['GET'], paths: ['/public/*', '/internal/*'] } }] }] }),
    authz('admins-only', { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/front/sa/admin'] } }], to: [{ operation: { paths: ['/admin'] } }] }] }),
    authz('front-not-internal', { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['front'] } }], to: [{ operation: { paths: ['/internal/*'] } }] }] }),
  );
  m.client.writeConfig(...serverService(m));
  await Promise.all([
    m.server.startProxy({ concurrency: 1, args: ['--cert-dir', serverCerts, '--pod-namespace', 'shop', '--proxy-labels', 'app=server'] }),
    m.client.startProxy({ concurrency: 1, args: ['--cert-dir', clientCerts, '--pod-namespace', 'front', '--proxy-labels', 'app=client'] }),
  ]);
  const get = (path: string, method = 'GET') => httpRequest(m.client.ns, `http://${VIP}:${APP_PORT}${path}`, { args: ['-X', method] });
  t.is((await get('/public/a')).status, 200, 'ALLOW: the principal matches');
  const admin = await get('/admin');
  t.is(admin.status, 403, 'ALLOW for another principal only');
  t.is(admin.text, 'RBAC: access denied');
  t.is((await get('/internal/x')).status, 403, 'DENY by source namespace wins over the ALLOW');
  t.is((await get('/public/a', 'POST')).status, 403, 'method not allowed');
  const denied = [...(await m.server.stats())].filter(([k]) => k.endsWith('.rbac.denied')).reduce((n, [, v]) => n + v, 0);
  t.true(denied >= 3, `rbac.denied ${denied}`);
});
