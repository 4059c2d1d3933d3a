import type { DownstreamTls } from '../../config/model.js';

type Json = Record<string, any>;
const DOWNSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** Istio's SDS config for the workload secrets the agent serves (`default`, `ROOTCA`). */
const sds = (name: string): Json => ({ name, sds_config: { api_config_source: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], transport_api_version: 'V3' }, resource_api_version: 'V3' } });

/** A chain's TLS as istiod writes it: ISTIO_MUTUAL is the workload certificate and root by SDS, with the SAN prefix check. */
export function encodeDownstreamTls(tls: DownstreamTls): Json {
  const mutual = tls.mode === 'MUTUAL' || tls.mode === 'ISTIO_MUTUAL';
  const common: Json = {};
  if (tls.alpnProtocols?.length) common.alpn_protocols = tls.alpnProtocols;
  if (tls.mode === 'ISTIO_MUTUAL') {
    common.tls_certificate_sds_secret_configs = [sds('default')];
    common.combined_validation_context = {
      default_validation_context: tls.matchSubjectAltNamePrefix ? { match_subject_alt_names: [{ prefix: tls.matchSubjectAltNamePrefix }] } : {},
      validation_context_sds_secret_config: sds('ROOTCA'),
    };
  }
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': DOWNSTREAM_TLS_TYPE, common_tls_context: common, require_client_certificate: mutual } };
}

/**
 * The reverse, for chains from an xDS server: Istio's SDS `default` + `ROOTCA` pair is the
 * workload identity (ISTIO_MUTUAL), anything else is kept as SIMPLE/MUTUAL by its flag.
 */
export function decodeDownstreamTls(ctx: Json | undefined, requireClientCertificate: boolean): DownstreamTls {
  const common = ctx?.common_tls_context ?? {};
  const certSds = common.tls_certificate_sds_secret_configs?.[0]?.name;
  const validation = common.combined_validation_context;
  const alpn: string[] = common.alpn_protocols ?? [];
  if (certSds === 'default' && validation?.validation_context_sds_secret_config?.name === 'ROOTCA') {
    const prefix = validation.default_validation_context?.match_subject_alt_names?.find((m: Json) => typeof m.prefix === 'string')?.prefix;
    return { mode: 'ISTIO_MUTUAL', ...(prefix ? { matchSubjectAltNamePrefix: prefix } : {}), ...(alpn.length ? { alpnProtocols: alpn } : {}) };
  }
  return { mode: requireClientCertificate ? 'MUTUAL' : 'SIMPLE', ...(alpn.length ? { alpnProtocols: alpn } : {}) };
}
