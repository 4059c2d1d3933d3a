import type { DownstreamTls } from '../../config/model.js';
import { certificateSecretName, encodeTlsParams, ROOT_SECRET, rootSecretName, sdsSecretConfig, WORKLOAD_SECRET } from '../sds_names.js';
import type { Json } from './values.js';

const DOWNSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** Modes whose server checks client certificates (OPTIONAL_MUTUAL checks one only when sent). */
const verifiesClients = (mode: DownstreamTls['mode']) => mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';

/**
 * A chain's TLS as istiod writes it (the inverse of convert/downstream_tls.ts): ISTIO_MUTUAL is
 * the workload certificate and root by SDS (`default`, `ROOTCA`) with the SAN prefix check;
 * gateway servers name their certificate and CA as SDS secrets — `kubernetes://<credentialName>`
 * (and `-cacert`) or `file-cert:` / `file-root:` paths — with the client SANs to match, the
 * protocol limits as `tls_params`, and `require_client_certificate` for MUTUAL.
 */
export function encodeDownstreamTls(tls: DownstreamTls): Json {
  const common: Json = {};
  const params = encodeTlsParams(tls);
  if (params) common.tls_params = params;
  if (tls.alpnProtocols?.length) common.alpn_protocols = tls.alpnProtocols;
  if (tls.mode === 'ISTIO_MUTUAL') {
    common.tls_certificate_sds_secret_configs = [sdsSecretConfig(WORKLOAD_SECRET)];
    common.combined_validation_context = {
      default_validation_context: tls.matchSubjectAltNamePrefix ? { match_subject_alt_names: [{ prefix: tls.matchSubjectAltNamePrefix }] } : {},
      validation_context_sds_secret_config: sdsSecretConfig(ROOT_SECRET),
    };
  } else {
    // Istio: a credentialName replaces the file fields.
    const files = tls.credentialName ? { credentialName: tls.credentialName } : { certificate: tls.serverCertificate, privateKey: tls.privateKey, caCertificates: tls.caCertificates };
    const cert = certificateSecretName(files);
    if (cert) common.tls_certificate_sds_secret_configs = [sdsSecretConfig(cert)];
    const root = verifiesClients(tls.mode) ? rootSecretName(files) : undefined;
    if (root) {
      const sans = tls.subjectAltNames ?? [];
      common.combined_validation_context = {
        default_validation_context: sans.length ? { match_subject_alt_names: sans.map((exact) => ({ exact })) } : {},
        validation_context_sds_secret_config: sdsSecretConfig(root),
      };
    }
  }
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': DOWNSTREAM_TLS_TYPE, common_tls_context: common, require_client_certificate: tls.mode === 'MUTUAL' || tls.mode === 'ISTIO_MUTUAL' } };
}
