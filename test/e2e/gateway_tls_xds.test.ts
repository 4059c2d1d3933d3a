/**
 * End-to-end: gateway certificates over xDS (issue 13). `legate xds-server` reads the Gateway
 * and sends the router its HTTPS chains with the certificates as istiod's SDS names
 * (`file-cert:<cert>~<key>`, `kubernetes://<credentialName>`, `-cacert`); the router, fed only
 * over ADS, resolves them from files and serves each host its own certificate by SNI — checked
 * with real curl verifying against the test CA — and MUTUAL asks for a client certificate.
 */
import test from 'ava';
import { DnsTestCa, GatewayHost, serviceEntry, virtualService, type Netns } from './harness/index.js';

function gateway(name: string, servers: unknown[]): string {
  return ['apiVersion: networking.istio.io/v1', 'kind: Gateway', 'metadata:', `  name: ${name}`, '  namespace: default', `spec: ${JSON.stringify({ servers })}`].join('\n');
}

/** curl from the gateway's namespace to 127.0.0.1:443 under the host's name, verifying against `ca`. */
async function curl(ns: Netns, host: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await ns.exec(['curl', '-sS', '--max-time', '5', '-D', '-', '--resolve', `${host}:443:127.0.0.1`, ...args, `https://${host}/hello`], { check: false });
  return { code: r.code ?? -1, out: r.stdout + r.stderr };
}

test('router fed by legate xds-server serves HTTPS: two certificates by SNI (file paths and credentialName), MUTUAL with the credential\'s CA', async (t) => {
  const gw = await GatewayHost.create(t);
  const ca = await DnsTestCa.create(t);
  const a = await ca.issue('a', ['a.example.com']);
  await ca.credential(gw.credentialDir, 'b-cred', ['b.example.com']);
  await ca.credential(gw.credentialDir, 'm-cred', ['m.example.com']);
  const client = await ca.issue('client', ['client.example.com']);
  await gw.backend.httpServer(8080, 'svc-a');
  await gw.backend.httpServer(8081, 'svc-b');
  gw.writeConfig(
    serviceEntry({ name: 'svc-a', hosts: ['svc-a.internal'], ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: gw.backend.ip }] }),
    serviceEntry({ name: 'svc-b', hosts: ['svc-b.internal'], ports: [{ number: 8081, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: gw.backend.ip }] }),
    gateway('ingress', [
      { port: { number: 443, name: 'https-a', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', serverCertificate: a.cert, privateKey: a.key } },
      { port: { number: 443, name: 'https-b', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'b-cred', minProtocolVersion: 'TLSV1_3' } },
      { port: { number: 443, name: 'https-m', protocol: 'HTTPS' }, hosts: ['m.example.com'], tls: { mode: 'MUTUAL', credentialName: 'm-cred' } },
    ]),
    virtualService('a', { hosts: ['a.example.com', 'm.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'svc-a.internal' } }] }] }),
    virtualService('b', { hosts: ['b.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'svc-b.internal' } }] }] }),
  );
  const xds = await gw.startXdsServer();
  await gw.start({ xds });

  // curl checks the served certificate against the CA and the name: a wrong certificate fails the request.
  for (const [host, server] of [['a.example.com', 'svc-a'], ['b.example.com', 'svc-b']] as const) {
    const r = await curl(gw.ns, host, ['--cacert', ca.caFile]);
    t.is(r.code, 0, r.out);
    t.regex(r.out, /^HTTP\/2 200/, 'h2 by ALPN, as the xDS chain offers it');
    t.regex(r.out, new RegExp(`x-server-name: ${server}`, 'i'));
  }
  // tls_params over xDS: b's server takes TLS 1.3 only.
  const old = await curl(gw.ns, 'b.example.com', ['--cacert', ca.caFile, '--tls-max', '1.2']);
  t.not(old.code, 0, old.out);
  // MUTUAL: the client CA came as kubernetes://m-cred-cacert, resolved to the credential's ca.crt.
  const anonymous = await curl(gw.ns, 'm.example.com', ['--cacert', ca.caFile]);
  t.not(anonymous.code, 0, anonymous.out);
  const withCert = await curl(gw.ns, 'm.example.com', ['--cacert', ca.caFile, '--cert', client.cert, '--key', client.key]);
  t.is(withCert.code, 0, withCert.out);
  t.regex(withCert.out, /x-server-name: svc-a/i);
});
