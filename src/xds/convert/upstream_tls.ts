import type { UpstreamTls } from '../../config/model.js';
import type { ConversionReport } from './report.js';
import { structToPlain, type Json } from './values.js';

/** Istio's auto-mTLS label, carried on EDS endpoints as `envoy.transport_socket_match` metadata. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/**
 * A cluster's upstream TLS from xDS, as istiod writes it: an UpstreamTlsContext whose
 * certificate and validation context are the agent's SDS secrets `default` and `ROOTCA` is the
 * workload identity (ISTIO_MUTUAL, with its SNI and exact SAN matches); under
 * `transport_socket_matches` with `tlsMode: istio` it applies to those endpoints only (auto
 * mTLS). Other TLS contexts need certificate files xDS does not name: noted, left plaintext.
 */
export function convertUpstreamTls(c: Json, where: string, report: ConversionReport): UpstreamTls | undefined {
  const matched = (c.transport_socket_matches ?? []).find((m: Json) => structToPlain(m.match)?.tlsMode === 'istio');
  const socket = matched?.transport_socket ?? c.transport_socket;
  if (!socket || socket.name === 'envoy.transport_sockets.raw_buffer') return undefined;
  const ctx = socket.typed_config ?? {};
  const common = ctx.common_tls_context ?? {};
  const validation = common.combined_validation_context;
  const istio = common.tls_certificate_sds_secret_configs?.[0]?.name === 'default' && validation?.validation_context_sds_secret_config?.name === 'ROOTCA';
  if (!istio) {
    report.note('cluster.tls', `${where}: upstream TLS with certificates other than the workload's (SDS default/ROOTCA) is not implemented from xDS; connections are plain text`);
    return undefined;
  }
  const sans = (validation.default_validation_context?.match_subject_alt_names ?? []).map((m: Json) => m.exact).filter((s: unknown): s is string => typeof s === 'string');
  return { mode: 'ISTIO_MUTUAL', ...(matched ? { autoMtls: true } : {}), ...(ctx.sni ? { sni: ctx.sni } : {}), ...(sans.length ? { subjectAltNames: sans } : {}) };
}
