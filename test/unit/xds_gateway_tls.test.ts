import test from 'ava';
import type { DownstreamTls, Listener } from '../../src/config/model.js';
import { decodeDownstreamTls } from '../../src/xds/convert/downstream_tls.js';
import { convertListener } from '../../src/xds/convert/listener.js';
import { ConversionReport } from '../../src/xds/convert/report.js';
import { encodeListener } from '../../src/xds/encode/listener.js';
import { parseSdsName } from '../../src/xds/sds_names.js';
import { tempDir, translateFiles, write } from './config_helpers.js';
import { overTheWire, plain } from './xds_wire.js';

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-shop, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shop-cert, minProtocolVersion: TLSV1_3}
  - port: {number: 443, name: https-admin, protocol: HTTPS}
    hosts: ["*.admin.example.com"]
    tls:
      mode: MUTUAL
      serverCertificate: /etc/certs/admin.crt
      privateKey: /etc/certs/admin.key
      caCertificates: /etc/certs/clients-ca.crt
      subjectAltNames: [ops.example.com]
      minProtocolVersion: TLSV1_2
      maxProtocolVersion: TLSV1_3
      cipherSuites: [ECDHE-RSA-AES256-GCM-SHA384]
  - port: {number: 443, name: https-partner, protocol: HTTPS}
    hosts: [partner.example.com]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: partner-cert}
  - port: {number: 8443, name: https-mesh, protocol: HTTPS}
    hosts: [egress.example.com]
    tls: {mode: ISTIO_MUTUAL}
`;

/** The gateway's listeners as `legate xds-server` would send them to a router, and back. */
function overXds(): { sent: Listener[]; json: any[]; back: Listener[]; report: ConversionReport } {
  const dir = tempDir();
  write(dir, 'gw.yaml', GATEWAY);
  const tr = translateFiles([dir], { role: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' } });
  const report = new ConversionReport();
  const json = tr.listeners.map((l) => overTheWire('envoy.config.listener.v3.Listener', encodeListener(l)));
  return { sent: tr.listeners, json, back: json.map((j) => convertListener(j, report).listener!), report };
}

const chainTls = (ls: Listener[]) => ls.flatMap((l) => l.filterChains.map((fc) => [fc.name || fc.match.serverNames?.join(','), fc.tls] as const));

test('gateway TLS servers over xDS: certificates as SDS names (kubernetes://, file-cert:, file-root:, default/ROOTCA), protocol limits, ciphers, client SANs, ALPN — decoded to the model the files give', (t) => {
  const { sent, json, back, report } = overXds();
  t.deepEqual([...report.notes.values()], []);
  const expected = chainTls(sent).map(([name, tls]) => [name, tls && tls.mode === 'SIMPLE' ? { ...tls, caCertificates: undefined, subjectAltNames: undefined } : tls]);
  t.deepEqual(plain(chainTls(back)), plain(expected));
  t.is(chainTls(back).filter(([, tls]) => tls).length, 4);

  const contexts = json.flatMap((l) => l.filter_chains.map((fc: any) => fc.transport_socket?.typed_config)).filter(Boolean);
  const sds = contexts.map((c: any) => [c.common_tls_context.tls_certificate_sds_secret_configs?.[0]?.name, c.common_tls_context.combined_validation_context?.validation_context_sds_secret_config?.name ?? null, c.require_client_certificate?.value ?? false]);
  t.deepEqual(sds.sort(), [
    ['default', 'ROOTCA', true],
    ['file-cert:/etc/certs/admin.crt~/etc/certs/admin.key', 'file-root:/etc/certs/clients-ca.crt', true],
    ['kubernetes://partner-cert', 'kubernetes://partner-cert-cacert', false],
    ['kubernetes://shop-cert', null, false],
  ].sort());
  const admin = contexts.find((c: any) => c.require_client_certificate?.value && c.common_tls_context.tls_params);
  t.like(admin.common_tls_context.tls_params, { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3', cipher_suites: ['ECDHE-RSA-AES256-GCM-SHA384'] });
  t.deepEqual(admin.common_tls_context.combined_validation_context.default_validation_context.match_subject_alt_names, [{ exact: 'ops.example.com' }]);
  // Credentials come from istiod over ADS; file secrets from the node agent, as istiod writes them.
  const shop = contexts.find((c: any) => c.common_tls_context.tls_certificate_sds_secret_configs[0].name === 'kubernetes://shop-cert');
  t.truthy(shop.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.ads);
  t.deepEqual(shop.common_tls_context.alpn_protocols, ['h2', 'http/1.1']);
});

test('istiod-shaped gateway contexts decode: typed SAN matchers, a separate -cacert secret, Envoy inline file names', (t) => {
  const ads = { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' };
  const notes: string[] = [];
  const mutual = decodeDownstreamTls({
    common_tls_context: {
      tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLS_AUTO' },
      alpn_protocols: ['h2', 'http/1.1'],
      tls_certificate_sds_secret_configs: [{ name: 'kubernetes://httpbin-credential', sds_config: ads }],
      combined_validation_context: {
        default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'client.example.com' } }] },
        validation_context_sds_secret_config: { name: 'kubernetes://httpbin-credential-cacert', sds_config: ads },
      },
    },
    require_client_certificate: true,
  }, (w) => notes.push(w));
  t.deepEqual(mutual, <DownstreamTls>{ mode: 'MUTUAL', alpnProtocols: ['h2', 'http/1.1'], minProtocolVersion: 'TLSV1_2', credentialName: 'httpbin-credential', subjectAltNames: ['client.example.com'] });
  const inline = decodeDownstreamTls({ common_tls_context: { tls_certificates: [{ certificate_chain: { filename: '/c.pem' }, private_key: { filename: '/k.pem' } }] } }, (w) => notes.push(w));
  t.deepEqual(inline, <DownstreamTls>{ mode: 'SIMPLE', serverCertificate: '/c.pem', privateKey: '/k.pem' });
  t.deepEqual(notes, []);
});

test('SDS names Legate cannot resolve from files are noted (the chain then fails its handshakes), not guessed', (t) => {
  const notes: string[] = [];
  decodeDownstreamTls({ common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'spiffe://example.org/custom' }] } }, (w) => notes.push(w));
  decodeDownstreamTls({
    common_tls_context: {
      tls_certificate_sds_secret_configs: [{ name: 'kubernetes://a' }],
      combined_validation_context: { validation_context_sds_secret_config: { name: 'kubernetes://b-cacert' } },
    },
    require_client_certificate: true,
  }, (w) => notes.push(w));
  t.is(notes.length, 2);
  t.regex(notes[0]!, /spiffe:\/\/example.org\/custom.*cannot be resolved/);
  t.regex(notes[1]!, /does not go with this chain's certificate/);
});

test('SDS secret names: Istio\'s forms and what they refer to', (t) => {
  t.deepEqual(parseSdsName('default'), { kind: 'workload' });
  t.deepEqual(parseSdsName('ROOTCA'), { kind: 'root' });
  t.deepEqual(parseSdsName('file-root:system'), { kind: 'system-root' });
  t.deepEqual(parseSdsName('kubernetes://shop-cert'), { kind: 'credential', name: 'shop-cert', ca: false });
  t.deepEqual(parseSdsName('kubernetes://shop-cert-cacert'), { kind: 'credential', name: 'shop-cert', ca: true });
  t.deepEqual(parseSdsName('kubernetes-gateway://default/shop-cert'), { kind: 'credential', name: 'shop-cert', ca: false });
  t.deepEqual(parseSdsName('file-cert:/a/tls.crt~/a/tls.key'), { kind: 'file-cert', certificate: '/a/tls.crt', privateKey: '/a/tls.key' });
  t.deepEqual(parseSdsName('file-root:/a/ca.crt'), { kind: 'file-root', caCertificates: '/a/ca.crt' });
  t.is(parseSdsName('file-cert:/only-one-file'), undefined);
  t.is(parseSdsName('spiffe://x'), undefined);
});
