import type { Cluster, UpstreamTls } from '../../config/model.js';
import { certificateSecretName, ROOT_SECRET, rootSecretName, sdsSecretConfig, secretFields, SYSTEM_ROOT_SECRET, validationContext, WORKLOAD_SECRET } from '../sds_names.js';
import { TLS_MODE_LABEL } from '../convert/upstream_tls.js';
import type { Json } from './values.js';

const UPSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/**
 * A cluster's upstream TLS as istiod writes it (the inverse of convert/upstream_tls.ts):
 * ISTIO_MUTUAL presents `default` and verifies against `ROOTCA`; SIMPLE / MUTUAL name the
 * DestinationRule's CA and client certificate as SDS secrets (`kubernetes://<credentialName>`,
 * `-cacert`, `file-cert:`, `file-root:`; no CA is `file-root:system`, the public roots;
 * `insecureSkipVerify` no validation at all). Auto mTLS goes under transport_socket_matches:
 * TLS for endpoints labelled `tlsMode: istio`, plain text for the rest. The ALPN is not sent:
 * the proxy picks Istio's per protocol itself.
 */
export function encodeUpstreamTls(c: Cluster): Json {
  const tls = c.tls;
  if (!tls || tls.mode === 'DISABLE') return {};
  const socket = { name: 'envoy.transport_sockets.tls', typed_config: upstreamTlsContext(tls) };
  if (!tls.autoMtls) return { transport_socket: socket };
  return {
    transport_socket_matches: [
      { name: 'tlsMode-istio', match: { [TLS_MODE_LABEL.split('/')[1]!]: 'istio' }, transport_socket: socket },
      { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer' } },
    ],
  };
}

function upstreamTlsContext(tls: UpstreamTls): Json {
  const common: Json = {};
  const sans = (tls.subjectAltNames ?? []).map((exact) => ({ exact }));
  const validation = (root: string) => validationContext(root, sans);
  if (tls.mode === 'ISTIO_MUTUAL') {
    common.tls_certificate_sds_secret_configs = [sdsSecretConfig(WORKLOAD_SECRET)];
    common.combined_validation_context = validation(ROOT_SECRET);
  } else {
    const files = secretFields(tls, tls.clientCertificate, tls.privateKey);
    const cert = tls.mode === 'MUTUAL' ? certificateSecretName(files) : undefined;
    if (cert) common.tls_certificate_sds_secret_configs = [sdsSecretConfig(cert)];
    if (!tls.insecureSkipVerify) common.combined_validation_context = validation(rootSecretName(files) ?? SYSTEM_ROOT_SECRET);
  }
  const out: Json = { '@type': UPSTREAM_TLS_TYPE, common_tls_context: common };
  if (tls.sni) out.sni = tls.sni;
  return out;
}
