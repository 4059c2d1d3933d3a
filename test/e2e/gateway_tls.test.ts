import test from 'ava';
import { GatewayHost, DnsTestCa, serviceEntry, startTlsServer, virtualService, type Netns } from './harness/index.js';

/** A Gateway in `default`, written as JSON-in-YAML like the harness's other builders. */
function gateway(name: string, servers: unknown[]): string {
  return ['apiVersion: networking.istio.io/v1', 'kind: Gateway', 'metadata:', `  name: ${name}`, '  namespace: default', `spec: ${JSON.stringify({ servers })}`].join('\n');
}

/** One STATIC ServiceEntry per backend, all at the backend host's address. */
function backends(ip: string, list: [host: string, port: number, protocol: string][]): string[] {
  return list.map(([host, port, protocol], i) =>
    serviceEntry({ name: `be${i}`, hosts: [host], ports: [{ number: port, name: `${protocol.toLowerCase()}-p`, protocol }], endpoints: [{ address: ip }] }),
  );
}

interface CurlOut {
  code: number;
  body: string;
  stderr: string;
}

/** curl from the gateway's namespace, the name resolved to 127.0.0.1 (as `curl --resolve` to a load balancer's address). */
async function curl(ns: Netns, url: string, args: string[] = []): Promise<CurlOut> {
  const { hostname, port } = new URL(url);
  const r = await ns.exec(['curl', '-sS', '--max-time', '5', '--resolve', `${hostname}:${port || 443}:127.0.0.1`, ...args, url], { check: false });
  return { code: r.code ?? -1, body: r.stdout, stderr: r.stderr };
}

/** `openssl s_client` with an SNI (or none) and ALPN; its summary tells the served certificate and the protocol agreed. */
async function sClient(ns: Netns, port: number, opts: { sni?: string; alpn?: string; extra?: string[] } = {}): Promise<string> {
  const argv = ['openssl', 's_client', '-connect', `127.0.0.1:${port}`, ...(opts.sni ? ['-servername', opts.sni] : ['-noservername']), ...(opts.alpn ? ['-alpn', opts.alpn] : []), ...(opts.extra ?? [])];
  const r = await ns.exec(argv, { check: false, input: '' });
  return r.stdout + r.stderr;
}

test('HTTPS gateway: two hosts on one port, each with its own certificate by SNI (files and credentialName), ALPN h2 (HTTP/2 over TLS) or http/1.1, HTTP routes after termination', async (t) => {
  const gw = await GatewayHost.create(t);
  const ca = await DnsTestCa.create(t);
  const a = await ca.issue('a', ['a.example.com']);
  await ca.credential(gw.credentialDir, 'b-cred', ['b.example.com']);
  await gw.backend.httpServer(8080, 'svc-a');
  await gw.backend.httpServer(8081, 'svc-b');
  gw.writeConfig(
    ...backends(gw.backend.ip, [['svc-a.internal', 8080, 'HTTP'], ['svc-b.internal', 8081, 'HTTP']]),
    gateway('ingress', [
      { port: { number: 443, name: 'https-a', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', serverCertificate: a.cert, privateKey: a.key } },
      { port: { number: 443, name: 'https-b', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'b-cred' } },
    ]),
    virtualService('a', { hosts: ['a.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'svc-a.internal' } }] }] }),
    virtualService('b', { hosts: ['b.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'svc-b.internal' } }] }] }),
  );
  await gw.start();
  // curl verifies the served certificate against the test CA and the name: a wrong certificate fails the request.
  for (const [host, server] of [['a.example.com', 'svc-a'], ['b.example.com', 'svc-b']]) {
    const r = await curl(gw.ns, `https://${host}/hello`, ['--cacert', ca.caFile, '-D', '-']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.body, /^HTTP\/2 200/, 'curl negotiated h2 by ALPN: the HTTP/2 codec serves the terminated connection');
    t.regex(r.body, new RegExp(`x-server-name: ${server}`, 'i'));
    t.regex(r.body, /x-forwarded-proto: https|"x-forwarded-proto":"https"/i);
  }
  for (const host of ['a.example.com', 'b.example.com']) {
    const out = await sClient(gw.ns, 443, { sni: host, alpn: 'h2,http/1.1' });
    t.regex(out, new RegExp(`subject=CN ?= ?${host.replace(/\./g, '\\.')}`), out);
    t.regex(out, /ALPN protocol: h2/, "Istio's HTTPS servers offer h2, http/1.1");
  }
  // No SNI and no `*` server: no chain matches and the connection closes, as on Istio's gateways.
  const noSni = await sClient(gw.ns, 443, {});
  t.notRegex(noSni, /subject=CN/);
});

test('MUTUAL refuses a client without a certificate and serves one with a certificate from the CA', async (t) => {
  const gw = await GatewayHost.create(t);
  const ca = await DnsTestCa.create(t);
  await ca.credential(gw.credentialDir, 'm-cred', ['m.example.com']);
  const client = await ca.issue('client', ['client.example.com']);
  await gw.backend.httpServer(8080, 'svc-m');
  gw.writeConfig(
    ...backends(gw.backend.ip, [['svc-m.internal', 8080, 'HTTP']]),
    gateway('ingress', [{ port: { number: 443, name: 'https-m', protocol: 'HTTPS' }, hosts: ['m.example.com'], tls: { mode: 'MUTUAL', credentialName: 'm-cred' } }]),
    virtualService('m', { hosts: ['m.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'svc-m.internal' } }] }] }),
  );
  await gw.start();
  const without = await curl(gw.ns, 'https://m.example.com/', ['--cacert', ca.caFile]);
  t.not(without.code, 0, 'no client certificate: the handshake fails');
  const withCert = await curl(gw.ns, 'https://m.example.com/', ['--cacert', ca.caFile, '--cert', client.cert, '--key', client.key, '-o', '/dev/null', '-w', '%{http_code}']);
  t.is(withCert.code, 0, withCert.stderr);
  t.is(withCert.body, '200');
});

test('minProtocolVersion TLSV1_3 refuses a TLS 1.2-only client; a TLS server with SIMPLE hands the decrypted bytes to its tcp route', async (t) => {
  const gw = await GatewayHost.create(t);
  const ca = await DnsTestCa.create(t);
  const v13 = await ca.issue('v13', ['new.example.com']);
  const db = await ca.issue('db', ['db.example.com']);
  await gw.backend.httpServer(8080, 'svc-new');
  await gw.backend.httpServer(8082, 'svc-db');
  gw.writeConfig(
    ...backends(gw.backend.ip, [['svc-new.internal', 8080, 'HTTP'], ['svc-db.internal', 8082, 'TCP']]),
    gateway('ingress', [
      { port: { number: 443, name: 'https-new', protocol: 'HTTPS' }, hosts: ['new.example.com'], tls: { mode: 'SIMPLE', serverCertificate: v13.cert, privateKey: v13.key, minProtocolVersion: 'TLSV1_3' } },
      { port: { number: 9443, name: 'tls-db', protocol: 'TLS' }, hosts: ['db.example.com'], tls: { mode: 'SIMPLE', serverCertificate: db.cert, privateKey: db.key } },
    ]),
    virtualService('new', { hosts: ['new.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'svc-new.internal' } }] }] }),
    virtualService('db', { hosts: ['db.example.com'], gateways: ['ingress'], tcp: [{ route: [{ destination: { host: 'svc-db.internal', port: { number: 8082 } } }] }] }),
  );
  await gw.start();
  const old = await curl(gw.ns, 'https://new.example.com/', ['--cacert', ca.caFile, '--tls-max', '1.2']);
  t.not(old.code, 0, 'TLS 1.2 at most: refused');
  const ok = await curl(gw.ns, 'https://new.example.com/', ['--cacert', ca.caFile, '-o', '/dev/null', '-w', '%{http_code} %{ssl_verify_result}']);
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.body, '200 0');
  // TLS terminated at the gateway, then plain TCP to an HTTP server: the answer is the backend's, over TLS from the gateway's certificate.
  const tcp = await curl(gw.ns, 'https://db.example.com:9443/via-tcp', ['--cacert', ca.caFile, '-D', '-']);
  t.is(tcp.code, 0, tcp.stderr);
  t.regex(tcp.body, /x-server-name: svc-db/i);
  t.regex(tcp.body, /"url":"\/via-tcp"/);
});

test('PASSTHROUGH routes two SNIs to two TLS backends without terminating; an SNI without a route is closed', async (t) => {
  const gw = await GatewayHost.create(t);
  const ca = await DnsTestCa.create(t);
  const backendCert = await ca.issue('backend', ['x.pass.test', 'y.pass.test', 'z.pass.test']);
  await startTlsServer(gw.backend.ns, { 9001: 'backend-x', 9002: 'backend-y' }, backendCert);
  gw.writeConfig(
    ...backends(gw.backend.ip, [['x.internal', 9001, 'TLS'], ['y.internal', 9002, 'TLS']]),
    gateway('passthrough', [{ port: { number: 443, name: 'tls-pass', protocol: 'TLS' }, hosts: ['*.pass.test'], tls: { mode: 'PASSTHROUGH' } }]),
    virtualService('pass', {
      hosts: ['*.pass.test'],
      gateways: ['passthrough'],
      tls: [
        { match: [{ port: 443, sniHosts: ['x.pass.test'] }], route: [{ destination: { host: 'x.internal', port: { number: 9001 } } }] },
        { match: [{ port: 443, sniHosts: ['y.pass.test'] }], route: [{ destination: { host: 'y.internal', port: { number: 9002 } } }] },
      ],
    }),
  );
  await gw.start();
  for (const [host, name] of [['x.pass.test', 'backend-x'], ['y.pass.test', 'backend-y']]) {
    // The gateway has no certificate at all: the handshake (SNI, ALPN, certificate) is the backend's own.
    const r = await curl(gw.ns, `https://${host}/`, ['--cacert', ca.caFile]);
    t.is(r.code, 0, r.stderr);
    t.like(JSON.parse(r.body), { name, sni: host, alpn: 'http/1.1' });
  }
  const none = await curl(gw.ns, 'https://z.pass.test/', ['--cacert', ca.caFile]);
  t.not(none.code, 0, 'no tls route for z.pass.test: closed');
});
