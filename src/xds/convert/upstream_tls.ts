import type { UpstreamTls } from '../../config/model.js';
import { decodeCertificate, exactSans, inlineCaFile, parseSdsName } from '../sds_names.js';
import type { ConversionReport } from './report.js';
import { structToPlain, type Json } from './values.js';

/** Istio's auto-mTLS label, carried on EDS endpoints as `envoy.transport_socket_match` metadata. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/**
 * A cluster's upstream TLS from xDS, as istiod writes it. The workload identity (SDS `default`
 * and `ROOTCA`) is ISTIO_MUTUAL, with its SNI and exact SAN matches; under
 * `transport_socket_matches` with `tlsMode: istio` it applies to those endpoints only (auto
 * mTLS). Other contexts are a DestinationRule's SIMPLE / MUTUAL origination, their SDS names
 * resolved from files (src/xds/sds_names.ts): no validation context is insecureSkipVerify,
 * `file-root:system` the public roots. A name that cannot be resolved rejects the cluster —
 * sending plain text, or trusting any server, where TLS was asked would be worse.
 */
export function convertUpstreamTls(c: Json, where: string, report: ConversionReport): UpstreamTls | undefined {
  const matched = (c.transport_socket_matches ?? []).find((m: Json) => structToPlain(m.match)?.tlsMode === 'istio');
  const socket = matched?.transport_socket ?? c.transport_socket;
  if (!socket || socket.name === 'envoy.transport_sockets.raw_buffer') return undefined;
  const ctx = socket.typed_config ?? {};
  const common = ctx.common_tls_context ?? {};
  const validation = common.combined_validation_context;
  const certName = common.tls_certificate_sds_secret_configs?.[0]?.name;
  const rootName = validation?.validation_context_sds_secret_config?.name;
  const root = parseSdsName(rootName);
  const sans = exactSans(validation?.default_validation_context ?? common.validation_context);
  const shared = { ...(ctx.sni ? { sni: ctx.sni } : {}), ...(sans.length ? { subjectAltNames: sans } : {}) };
  if (parseSdsName(certName)?.kind === 'workload' && root?.kind === 'root') return { mode: 'ISTIO_MUTUAL', ...(matched ? { autoMtls: true } : {}), ...shared };
  const unresolvable = (what: string, name: string | undefined) => report.fail(where, `upstream TLS ${what} ${JSON.stringify(name)} cannot be resolved from files (kubernetes://<credentialName>, file-cert:, file-root:, inline filenames)`);
  const out: UpstreamTls = { mode: certName || common.tls_certificates?.length ? 'MUTUAL' : 'SIMPLE', ...shared };
  const named = decodeCertificate(common);
  if (named && 'credentialName' in named) out.credentialName = named.credentialName;
  else if (named) Object.assign(out, { clientCertificate: named.certificate, privateKey: named.privateKey });
  else if (out.mode === 'MUTUAL') unresolvable('client certificate', certName);
  const inlineCa = inlineCaFile(common);
  if (root?.kind === 'credential' && root.ca && (!out.credentialName || out.credentialName === root.name)) out.credentialName = root.name;
  else if (root?.kind === 'file-root' && !out.credentialName) out.caCertificates = root.caCertificates;
  else if (root?.kind === 'system-root') { /* Node's default roots */ }
  else if (rootName) unresolvable('CA', rootName);
  else if (inlineCa) out.caCertificates = inlineCa;
  else out.insecureSkipVerify = true;
  return out;
}
