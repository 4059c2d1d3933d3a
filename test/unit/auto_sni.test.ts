/**
 * Istio's auto SNI / auto SAN validation for TLS origination (Envoy's upstream_http_protocol_options
 * auto_sni, auto_san_validation): when istiod sets them, how they cross xDS, and how the upstream
 * pools key connections by the request's Host and check the server certificate against it.
 */
import test from 'ava';
import type { PeerCertificate } from 'node:tls';
import type { Cluster } from '../../src/config/model.js';
import { Host } from '../../src/cluster/host.js';
import { UpstreamPools } from '../../src/cluster/pool/pools.js';
import { authorityHost, serverNameTls, usesServerName } from '../../src/cluster/pool/server_name_pools.js';
import type { StatsWriter } from '../../src/stats/store.js';
import { SAN_MISMATCH, tlsConnectOptions } from '../../src/tls/upstream.js';
import { convertCluster } from '../../src/xds/convert/cluster.js';
import { ConversionReport } from '../../src/xds/convert/report.js';
import { encodeCluster } from '../../src/xds/encode/cluster.js';
import { serviceEntry, tempDir, translateFiles, write } from './config_helpers.js';
import { overTheWire, plain } from './xds_wire.js';

const rule = (host: string, tls: Record<string, unknown>) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${host}, namespace: default}
spec:
  host: ${host}
  trafficPolicy:
    tls: ${JSON.stringify(tls)}
`;

/** One service per DestinationRule TLS shape; returns each one's (autoSni, autoSanValidation). */
function autoFlags(shapes: Record<string, Record<string, unknown>>): Record<string, [boolean, boolean]> {
  const dir = tempDir();
  const hosts = Object.keys(shapes);
  write(dir, 'services.yaml', hosts.map((h, i) => serviceEntry(h, { vip: `240.0.0.${i + 1}` })).join('\n---\n'));
  write(dir, 'rules.yaml', hosts.map((h) => rule(h, shapes[h]!)).join('\n---\n'));
  const out: Record<string, [boolean, boolean]> = {};
  for (const c of translateFiles([dir]).clusters) {
    const host = c.name.split('|')[3]?.split('.')[0];
    if (host && hosts.includes(host)) out[host] = [c.autoSni === true, c.autoSanValidation === true];
  }
  return out;
}

test('istiod\'s rule: auto SNI for SIMPLE / MUTUAL without sni; auto SAN validation too unless the rule names SANs or skips verification', (t) => {
  t.deepEqual(
    autoFlags({
      'simple-bare': { mode: 'SIMPLE' },
      'simple-ca': { mode: 'SIMPLE', caCertificates: '/etc/ca.pem' },
      'simple-sni': { mode: 'SIMPLE', sni: 'api.example.com' },
      'simple-sans': { mode: 'SIMPLE', subjectAltNames: ['api.example.com'] },
      'simple-insecure': { mode: 'SIMPLE', insecureSkipVerify: true },
      'mutual-bare': { mode: 'MUTUAL', credentialName: 'client' },
      'mutual-sni': { mode: 'MUTUAL', credentialName: 'client', sni: 'partner.example.com' },
      istio: { mode: 'ISTIO_MUTUAL' },
      disabled: { mode: 'DISABLE' },
    }),
    {
      'simple-bare': [true, true],
      'simple-ca': [true, true],
      'simple-sni': [false, false],
      'simple-sans': [true, false],
      'simple-insecure': [true, false],
      'mutual-bare': [true, true],
      'mutual-sni': [false, false],
      istio: [false, false],
      disabled: [false, false],
    },
  );
});

test('the egress TLS-origination task\'s DestinationRule (portLevelSettings SIMPLE on 443, no sni) sets auto SNI on the 443 cluster only', (t) => {
  const dir = tempDir();
  write(dir, 'se.yaml', `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: cnn, namespace: default}
spec:
  hosts: [edition.cnn.com]
  ports: [{number: 80, name: http-port, protocol: HTTP}, {number: 443, name: https-port-for-tls-origination, protocol: HTTPS}]
  resolution: DNS
`);
  write(dir, 'dr.yaml', `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: originate-tls-for-edition-cnn-com, namespace: default}
spec:
  host: edition.cnn.com
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: SIMPLE}
`);
  const clusters = translateFiles([dir]).clusters;
  const https = clusters.find((c) => c.name === 'outbound|443||edition.cnn.com')!;
  const http = clusters.find((c) => c.name === 'outbound|80||edition.cnn.com')!;
  t.deepEqual([https.tls?.mode, https.tls?.sni, https.autoSni, https.autoSanValidation], ['SIMPLE', undefined, true, true]);
  t.deepEqual([http.tls, http.autoSni, http.autoSanValidation], [undefined, undefined, undefined]);
});

test('auto SNI over xDS: upstream_http_protocol_options {auto_sni, auto_san_validation} in the HTTP protocol options, decoded to the same model', (t) => {
  const cluster: Cluster = {
    name: 'outbound|443||edition.cnn.com', type: 'STRICT_DNS', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 10_000, endpoints: [{ address: 'edition.cnn.com', port: 443, weight: 1 }],
    tls: { mode: 'SIMPLE' }, autoSni: true, autoSanValidation: true,
  };
  const json = overTheWire('envoy.config.cluster.v3.Cluster', encodeCluster(cluster));
  const options = json.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  t.deepEqual(plain(options.upstream_http_protocol_options), { auto_sni: true, auto_san_validation: true });
  const report = new ConversionReport();
  const back = convertCluster(json, report).cluster;
  t.deepEqual([back.autoSni, back.autoSanValidation, back.tls?.mode], [true, true, 'SIMPLE']);
  t.deepEqual([...report.notes.values()], []);

  const plainCluster = encodeCluster({ ...cluster, autoSni: undefined, autoSanValidation: undefined, tls: undefined });
  t.is(plainCluster.typed_extension_protocol_options, undefined, 'nothing is added to a cluster without them');
});

test('the Host header gives the name: port stripped, IPv6 brackets removed', (t) => {
  t.is(authorityHost('api.example.com:8443'), 'api.example.com');
  t.is(authorityHost('api.example.com'), 'api.example.com');
  t.is(authorityHost('[2001:db8::1]:443'), '2001:db8::1');
  t.is(authorityHost('2001:db8::1'), '2001:db8::1');
});

const originating = (over: Partial<Cluster> = {}): Cluster => ({
  name: 'outbound|443||external.example', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 1000, endpoints: [],
  tls: { mode: 'SIMPLE' }, autoSni: true, autoSanValidation: true, ...over,
});
const newPools = () => new UpstreamPools({} as StatsWriter, new Float64Array(64));
const host = () => new Host('10.9.0.1', 443, 1, undefined, undefined, 0);

test('auto SNI pools are per (host, name): one name with or without port, in any case, shares a pool, another name gets its own, plain clusters ignore the Host', (t) => {
  const pools = newPools();
  const c = originating();
  const h = host();
  const a = pools.get(c, undefined, h, undefined, false, 'a.example');
  t.is(pools.get(c, undefined, h, undefined, false, 'a.example:443'), a);
  t.is(pools.get(c, undefined, h, undefined, false, 'A.Example:443'), a, 'names are case-insensitive');
  const b = pools.get(c, undefined, h, undefined, false, 'b.example');
  t.not(b, a);
  const h2 = pools.get({ ...c, http2: { upgrade: true } }, undefined, h, undefined, false, 'a.example');
  t.not(h2, a, 'HTTP/2 keeps its own pool per name');
  t.is(pools.get({ ...c, http2: { upgrade: true } }, undefined, h, undefined, false, 'a.example'), h2);
  t.not(pools.get(c, undefined, h), a, 'without a Host the cluster\'s own pool');
  const plainCluster = originating({ name: 'outbound|80||plain.example', tls: undefined });
  t.is(pools.get(plainCluster, undefined, h, undefined, false, 'a.example'), pools.get(plainCluster, undefined, h), 'no TLS: one pool whatever the Host');
});

test('a host that leaves the cluster retires its auto SNI pools too', (t) => {
  const pools = newPools();
  const c = originating();
  const a = pools.get(c, undefined, host(), undefined, false, 'a.example');
  pools.removeHosts(c.name, [host().key]);
  t.not(pools.get(c, undefined, host(), undefined, false, 'a.example'), a, 'the same host coming back starts a fresh pool');
});

const certFor = (dns: string[]): PeerCertificate => ({ subject: { CN: dns[0] }, subjectaltname: dns.map((d) => `DNS:${d}`).join(', ') }) as unknown as PeerCertificate;

test('the pool\'s TLS sends the name as SNI and checks the certificate covers it (wildcards as Node does); an IP is verified but not sent', (t) => {
  const c = originating();
  const opts = tlsConnectOptions(serverNameTls(c, c.tls!, 'api.example.com'), '10.9.0.1', 'http');
  if (typeof opts === 'string') return t.fail(opts);
  t.is(opts.servername, 'api.example.com');
  t.is(opts.checkServerIdentity!('10.9.0.1', certFor(['api.example.com'])), undefined);
  t.is(opts.checkServerIdentity!('10.9.0.1', certFor(['*.example.com'])), undefined);
  const wrong = opts.checkServerIdentity!('10.9.0.1', certFor(['other.example'])) as NodeJS.ErrnoException;
  t.is(wrong.code, SAN_MISMATCH, 'counted as ssl.fail_verify_san');

  const ip = tlsConnectOptions(serverNameTls(c, c.tls!, '10.9.0.1'), '10.9.0.1', 'http');
  if (typeof ip === 'string') return t.fail(ip);
  t.is(ip.servername, undefined, 'Envoy sends no IP as SNI');
  t.truthy(ip.checkServerIdentity!('10.9.0.1', certFor(['api.example.com'])));

  const sniOnly = tlsConnectOptions(serverNameTls(originating({ autoSanValidation: undefined }), { mode: 'SIMPLE', subjectAltNames: ['pinned.example'] }, 'api.example.com'), '10.9.0.1', 'http');
  if (typeof sniOnly === 'string') return t.fail(sniOnly);
  t.is(sniOnly.servername, 'api.example.com');
  t.truthy(sniOnly.checkServerIdentity!('x', certFor(['api.example.com'])), 'the rule\'s own SANs still apply');
  t.is(sniOnly.checkServerIdentity!('x', certFor(['pinned.example'])), undefined);
  t.false(usesServerName(originating({ autoSni: undefined, autoSanValidation: undefined })));
});
