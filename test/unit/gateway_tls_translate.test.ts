import test from 'ava';
import type { Listener, TcpProxyFilter } from '../../src/config/model.js';
import { ListenerTable } from '../../src/listener/listener_table.js';
import type { ClientHello } from '../../src/tls/client_hello.js';
import { snapshotOf, translateYaml } from '../support/translate.js';

const ROUTER = { role: 'router' as const, labels: { istio: 'ingressgateway' } };

const services = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: backends, namespace: default}
spec:
  hosts: [a.internal, b.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8443, name: tls, protocol: TLS}, {number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 10.1.0.1}]
---
`;

const gateway = (servers: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
${servers}
---
`;

const httpsServers = `  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a-cert, minProtocolVersion: TLSV1_3}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: ["*.example.org"]
    tls: {mode: MUTUAL, serverCertificate: /certs/b.crt, privateKey: /certs/b.key, caCertificates: /certs/ca.crt, cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]}
  - port: {number: 443, name: https-any, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: fallback}
`;

const vs = (name: string, host: string, dest: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: default}
spec:
  hosts: ["${host}"]
  gateways: [gw]
  http: [{route: [{destination: {host: ${dest}, port: {number: 8080}}}]}]
---
`;

const hello = (sni?: string): ClientHello => ({ sni, alpn: [] }) as unknown as ClientHello;

test('HTTPS servers on one port: a terminating chain per server, by SNI, with its own certificate and limits; no more "not performed" warning', (t) => {
  const out = translateYaml(services + gateway(httpsServers) + vs('a', 'a.example.com', 'a.internal') + vs('b', 'x.example.org', 'b.internal'), ROUTER);
  t.false(out.lines.some((l) => /not performed|not implemented/.test(l)), out.lines.join('\n'));
  const l = out.listeners.find((x) => x.name === '0.0.0.0_443')!;
  t.deepEqual(
    l.filterChains.map((c) => [c.match, c.tls?.mode]),
    [
      [{ transportProtocol: 'tls', serverNames: ['a.example.com'] }, 'SIMPLE'],
      [{ transportProtocol: 'tls', serverNames: ['*.example.org'] }, 'MUTUAL'],
      [{ transportProtocol: 'tls' }, 'SIMPLE'],
    ],
  );
  t.like(l.filterChains[0].tls, { credentialName: 'a-cert', minProtocolVersion: 'TLSV1_3', alpnProtocols: ['h2', 'http/1.1'] });
  t.like(l.filterChains[1].tls, { caCertificates: '/certs/ca.crt', cipherSuites: ['ECDHE-RSA-AES128-GCM-SHA256'] });
  t.truthy(out.routes.find((r) => r.name === 'https.443.https-a.gw.default')?.virtualHosts.find((v) => v.name === 'a.example.com:443'));
});

test('SNI picks the most specific chain: exact over wildcard over the `*` server; clients without SNI get the `*` server only', (t) => {
  const out = translateYaml(services + gateway(httpsServers) + vs('a', 'a.example.com', 'a.internal'), ROUTER);
  const table = new ListenerTable(snapshotOf(out));
  const dst = { address: '10.0.0.1', port: 443 };
  const chainFor = (sni?: string) => table.select('0.0.0.0_443', dst, undefined, hello(sni))?.chain.name;
  t.is(chainFor('a.example.com'), 'https.443.https-a.gw.default');
  t.is(chainFor('x.example.org'), 'https.443.https-b.gw.default');
  t.is(chainFor('other.test'), 'https.443.https-any.gw.default');
  t.is(chainFor(undefined), 'https.443.https-any.gw.default');
  // Reversed order in the config changes nothing: specificity, not position, decides.
  const rev = translateYaml(services + gateway(httpsServers.split(/(?=  - port)/).reverse().join('')) + vs('a', 'a.example.com', 'a.internal'), ROUTER);
  t.is(new ListenerTable(snapshotOf(rev)).select('0.0.0.0_443', dst, undefined, hello('a.example.com'))?.chain.name, 'https.443.https-a.gw.default');
});

test('a port with only named hosts has no chain for clients without SNI (closed, as Istio)', (t) => {
  const out = translateYaml(services + gateway(httpsServers.split(/(?=  - port)/)[0]) + vs('a', 'a.example.com', 'a.internal'), ROUTER);
  const table = new ListenerTable(snapshotOf(out));
  t.is(table.select('0.0.0.0_443', { address: '10.0.0.1', port: 443 }, undefined, hello(undefined)), undefined);
});

test('TLS server with SIMPLE terminates and hands the bytes to its tcp route', (t) => {
  const yaml =
    services +
    gateway(`  - port: {number: 9443, name: tls-db, protocol: TLS}
    hosts: [db.example.com]
    tls: {mode: SIMPLE, serverCertificate: /c.crt, privateKey: /c.key}`) +
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: default}
spec:
  hosts: [db.example.com]
  gateways: [gw]
  tcp: [{route: [{destination: {host: a.internal, port: {number: 8443}}}]}]
`;
  const out = translateYaml(yaml, ROUTER);
  const [chain] = out.listeners.find((x) => x.name === '0.0.0.0_9443')!.filterChains;
  t.deepEqual(chain.match, { transportProtocol: 'tls', serverNames: ['db.example.com'] });
  t.like(chain.tls, { mode: 'SIMPLE', serverCertificate: '/c.crt' });
  t.is(chain.tls?.alpnProtocols, undefined, 'no ALPN on TCP');
  t.is((chain.filters[0] as TcpProxyFilter).cluster, 'outbound|8443||a.internal');
});

const passthrough = `  - port: {number: 443, name: tls-pass, protocol: TLS}
    hosts: ["*.example.com"]
    tls: {mode: PASSTHROUGH}`;

const tlsVs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pass, namespace: default}
spec:
  hosts: ["*.example.com", "*.other.net"]
  gateways: [gw]
  tls:
  - match: [{port: 443, sniHosts: [a.example.com]}]
    route: [{destination: {host: a.internal, port: {number: 8443}}}]
  - match: [{sniHosts: ["*.example.com", other.example.com]}]
    route:
    - {destination: {host: a.internal, port: {number: 8443}}, weight: 30}
    - {destination: {host: b.internal, port: {number: 8443}}, weight: 70}
  - match: [{sniHosts: [x.other.net]}]
    route: [{destination: {host: b.internal, port: {number: 8443}}}]
`;

test('PASSTHROUGH: VirtualService tls routes become SNI chains forwarding with tcp_proxy, without termination; unmatched SNI is closed', (t) => {
  const out = translateYaml(services + gateway(passthrough) + tlsVs, ROUTER);
  t.false(out.lines.some((l) => /not implemented|no VirtualService tls route/.test(l)), out.lines.join('\n'));
  const l: Listener = out.listeners.find((x) => x.name === '0.0.0.0_443')!;
  t.deepEqual(
    l.filterChains.map((c) => [c.match.serverNames, c.tls]),
    [
      [['a.example.com'], undefined],
      [['*.example.com', 'other.example.com'], undefined],
    ],
    'x.other.net is outside the server hosts',
  );
  t.like(l.filterChains[1].filters[0], { weightedClusters: [{ name: 'outbound|8443||a.internal', weight: 30 }, { name: 'outbound|8443||b.internal', weight: 70 }] });
  const table = new ListenerTable(snapshotOf(out));
  const dst = { address: '10.0.0.1', port: 443 };
  t.is((table.select('0.0.0.0_443', dst, undefined, hello('a.example.com'))!.chain.filters[0] as TcpProxyFilter).cluster, 'outbound|8443||a.internal');
  t.is(table.select('0.0.0.0_443', dst, undefined, hello('z.example.com'))!.chain.name, 'default/pass.tls.1.0:443');
  t.is(table.select('0.0.0.0_443', dst, undefined, hello('nope.test')), undefined);
  t.is(table.select('0.0.0.0_443', dst, undefined, hello(undefined)), undefined);
});

test('PASSTHROUGH with no tls route bound warns that the port closes connections', (t) => {
  const out = translateYaml(services + gateway(passthrough), ROUTER);
  t.true(out.lines.some((l) => /no VirtualService tls route is bound to this PASSTHROUGH server/.test(l)), out.lines.join('\n'));
});

test('sidecar: outbound TLS ServiceEntry ports route by SNI with the mesh tls routes, the rest to the service', (t) => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: edition, namespace: default}
spec:
  hosts: [edition.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mirror, namespace: default}
spec:
  hosts: [mirror.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edition, namespace: default}
spec:
  hosts: [edition.example.com]
  tls:
  - match: [{port: 443, sniHosts: [edition.example.com]}]
    route: [{destination: {host: mirror.example.com, port: {number: 443}}}]
`;
  const out = translateYaml(yaml);
  t.deepEqual(out.lines.filter((l) => /tls/i.test(l)), []);
  const l = out.listeners.find((x) => x.name === '0.0.0.0_443')!;
  t.deepEqual(
    l.filterChains.map((c) => [c.match.serverNames, (c.filters[0] as TcpProxyFilter).cluster]),
    [
      [['edition.example.com'], 'outbound|443||mirror.example.com'],
      [['edition.example.com'], 'outbound|443||edition.example.com'],
      [['mirror.example.com'], 'outbound|443||mirror.example.com'],
    ],
  );
  const table = new ListenerTable(snapshotOf(out));
  const pick = (sni?: string) => (table.select('virtualOutbound', { address: '93.184.216.34', port: 443 }, undefined, hello(sni))?.chain.filters[0] as TcpProxyFilter | undefined)?.cluster;
  t.is(pick('edition.example.com'), 'outbound|443||mirror.example.com', 'the tls route comes before the service default');
  t.is(pick('mirror.example.com'), 'outbound|443||mirror.example.com');
});

test('tls route validation follows Istio: SNI hosts required and covered by the VirtualService hosts; gateway TLS versions checked', (t) => {
  const bad = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: default}
spec:
  hosts: [a.example.com]
  tls:
  - match: [{port: 443}]
    route: [{destination: {host: a.internal}}]
  - match: [{sniHosts: [b.example.com]}]
    route: [{destination: {host: a.internal}}]
---
` + gateway(`  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: x, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_2}
  - port: {number: 444, name: https2, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: x, minProtocolVersion: TLSV9}`);
  const out = translateYaml(bad, ROUTER);
  const text = out.lines.join('\n');
  t.regex(text, /spec\.tls\[0\]\.match\[0\]\.sniHosts: TLS match must have at least one SNI host/);
  t.regex(text, /spec\.tls\[1\]\.match\[0\]\.sniHosts\[0\]: the SNI host b\.example\.com is not a match/);
  t.regex(text, /maxProtocolVersion TLSV1_2 is lower than minProtocolVersion TLSV1_3/);
  t.regex(text, /unknown TLS version "TLSV9"/);
});

test('AUTO_PASSTHROUGH: one chain per outbound cluster the server hosts allow, by the SNI naming it (outbound_.<port>_.<subset>_.<host>)', (t) => {
  const yaml =
    services +
    gateway(`  - port: {number: 15443, name: tls-ew, protocol: TLS}
    hosts: ["*.internal"]
    tls: {mode: AUTO_PASSTHROUGH}`) +
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a, namespace: default}
spec:
  host: a.internal
  subsets: [{name: v1, labels: {version: v1}}]
`;
  const out = translateYaml(yaml, ROUTER);
  t.false(out.lines.some((l) => /AUTO_PASSTHROUGH/.test(l)), out.lines.join('\n'));
  const l = out.listeners.find((x) => x.name === '0.0.0.0_15443')!;
  const byName = new Map(l.filterChains.map((c) => [c.match.serverNames![0], (c.filters[0] as TcpProxyFilter).cluster]));
  t.is(byName.get('outbound_.8443_._.a.internal'), 'outbound|8443||a.internal');
  t.is(byName.get('outbound_.8443_.v1_.a.internal'), 'outbound|8443|v1|a.internal');
  t.is(byName.get('outbound_.8080_._.b.internal'), 'outbound|8080||b.internal');
  t.false([...byName.keys()].some((n) => n.includes('Passthrough') || n.includes('Blackhole')));
});

test('a listener with only SNI chains asks for the ClientHello first instead of closing the connection', (t) => {
  const out = translateYaml(services + gateway(passthrough) + tlsVs, ROUTER);
  const first = new ListenerTable(snapshotOf(out)).select('0.0.0.0_443', { address: '10.0.0.1', port: 443 });
  t.true(first?.inspectTls);
});
