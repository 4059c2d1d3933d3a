import test from 'ava';
import type { Cluster } from '../../src/config/model.js';
import { convertCluster } from '../../src/xds/convert/cluster.js';
import { ConversionReport } from '../../src/xds/convert/report.js';
import { encodeCluster } from '../../src/xds/encode/cluster.js';
import { serviceEntry, tempDir, translateFiles, write } from './config_helpers.js';
import { overTheWire, plain } from './xds_wire.js';

const rule = (host: string, tls: Record<string, unknown>) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${host.split('.')[0]}, namespace: default}
spec:
  host: ${host}
  trafficPolicy:
    tls: ${JSON.stringify(tls)}
`;

/** One service per DestinationRule TLS shape, and one meshed service for auto mTLS. */
function clusters(): Cluster[] {
  const dir = tempDir();
  const hosts = ['simple-ca', 'simple-cred', 'simple-system', 'insecure', 'mutual-cred', 'mutual-files', 'istio'];
  write(dir, 'services.yaml', [...hosts.map((h, i) => serviceEntry(h, { vip: `240.0.0.${i + 1}` })), serviceEntry('meshed', { vip: '240.0.0.99', endpoints: [['10.1.0.9', { 'security.istio.io/tlsMode': 'istio' }]] })].join('\n---\n'));
  write(dir, 'rules.yaml', [
    rule('simple-ca', { mode: 'SIMPLE', caCertificates: '/etc/ca.pem', sni: 'api.example.com', subjectAltNames: ['api.example.com'] }),
    rule('simple-cred', { mode: 'SIMPLE', credentialName: 'api-ca' }),
    rule('simple-system', { mode: 'SIMPLE' }),
    rule('insecure', { mode: 'SIMPLE', insecureSkipVerify: true }),
    rule('mutual-cred', { mode: 'MUTUAL', credentialName: 'partner-client-cert', sni: 'partner.example.com' }),
    rule('mutual-files', { mode: 'MUTUAL', clientCertificate: '/c.pem', privateKey: '/k.pem', caCertificates: '/ca.pem' }),
    rule('istio', { mode: 'ISTIO_MUTUAL' }),
  ].join('\n---\n'));
  const tr = translateFiles([dir]);
  return tr.clusters.filter((c) => c.tls);
}

test('DestinationRule TLS over xDS: SIMPLE / MUTUAL as istiod\'s SDS names (kubernetes://…-cacert, file-root:, file-cert:, file-root:system), insecureSkipVerify as no validation, ISTIO_MUTUAL and auto mTLS — decoded to the same model', (t) => {
  const sent = clusters();
  t.is(sent.length, 8);
  const report = new ConversionReport();
  const names: Record<string, [string | undefined, string | undefined]> = {};
  for (const c of sent) {
    const json = overTheWire('envoy.config.cluster.v3.Cluster', encodeCluster(c));
    const socket = json.transport_socket ?? json.transport_socket_matches?.[0]?.transport_socket;
    const common = socket.typed_config.common_tls_context;
    names[c.name.split('|')[3]!.split('.')[0]!] = [common.tls_certificate_sds_secret_configs?.[0]?.name, common.combined_validation_context?.validation_context_sds_secret_config?.name];
    t.deepEqual(plain(convertCluster(json, report).cluster.tls), plain(c.tls), c.name);
  }
  t.deepEqual(names, {
    'simple-ca': [undefined, 'file-root:/etc/ca.pem'],
    'simple-cred': [undefined, 'kubernetes://api-ca-cacert'],
    'simple-system': [undefined, 'file-root:system'],
    insecure: [undefined, undefined],
    'mutual-cred': ['kubernetes://partner-client-cert', 'kubernetes://partner-client-cert-cacert'],
    'mutual-files': ['file-cert:/c.pem~/k.pem', 'file-root:/ca.pem'],
    istio: ['default', 'ROOTCA'],
    meshed: ['default', 'ROOTCA'],
  });
  t.deepEqual([...report.notes.values()], []);
});

test('upstream TLS with an SDS name Legate cannot resolve rejects the cluster rather than sending plain text', (t) => {
  const cluster = {
    name: 'outbound|443||x.example', type: 'STATIC', connect_timeout: '1s',
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { common_tls_context: { combined_validation_context: { validation_context_sds_secret_config: { name: 'spiffe://custom-bundle' } } } } },
  };
  t.throws(() => convertCluster(cluster, new ConversionReport()), { message: /spiffe:\/\/custom-bundle.*cannot be resolved/ });
});
