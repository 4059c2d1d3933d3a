import type { DownstreamTls } from '../../config/model.js';
import { certificateSecretName, encodeTlsParams, ROOT_SECRET, rootSecretName, sdsSecretConfig, secretFields, validationContext, WORKLOAD_SECRET } from '../sds_names.js';
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
    common.combined_validation_context = validationContext(ROOT_SECRET, tls.matchSubjectAltNamePrefix ? [{ prefix: tls.matchSubjectAltNamePrefix }] : []);
  } else {
    const files = secretFields(tls, tls.serverCertificate, tls.privateKey);
    const cert = certificateSecretName(files);
    if (cert) common.tls_certificate_sds_secret_configs = [sdsSecretConfig(cert)];
    const root = verifiesClients(tls.mode) ? rootSecretName(files) : undefined;
    if (root) common.combined_validation_context = validationContext(root, (tls.subjectAltNames ?? []).map((exact) => ({ exact })));
  }
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': DOWNSTREAM_TLS_TYPE, common_tls_context: common, require_client_certificate: tls.mode === 'MUTUAL' || tls.mode === 'ISTIO_MUTUAL' } };
}
