import type { DownstreamTls } from '../../config/model.js';
import { decodeCertificate, decodeTlsParams, exactSans, inlineCaFile, parseSdsName, type SdsName } from '../sds_names.js';
import { bool, type Json } from './values.js';

/**
 * A chain's DownstreamTlsContext from an xDS server → the model the file config produces
 * (src/listener/tls_termination.ts serves it). Istio's `default` + `ROOTCA` pair is the
 * workload identity (ISTIO_MUTUAL); other certificates are SDS names resolved from files
 * (src/xds/sds_names.ts) or Envoy's inline `filename`s; a client CA makes the chain MUTUAL when
 * a client certificate is required, OPTIONAL_MUTUAL when not. What cannot be served as named
 * goes to `problem` (the chain then fails its handshakes, as Envoy's with a missing secret).
 */
export function decodeDownstreamTls(ctx: Json | undefined, problem: (what: string) => void): DownstreamTls {
  const common = ctx?.common_tls_context ?? {};
  const required = bool(ctx?.require_client_certificate) ?? false;
  const validation = common.combined_validation_context;
  const certName = parseSdsName(common.tls_certificate_sds_secret_configs?.[0]?.name);
  const rootName = parseSdsName(validation?.validation_context_sds_secret_config?.name);
  const alpn: string[] = common.alpn_protocols ?? [];
  const limits = decodeTlsParams(common.tls_params);
  const alpnOnly = alpn.length ? { alpnProtocols: alpn } : {};
  if (certName?.kind === 'workload' && rootName?.kind === 'root') {
    // The workload context is built once from the cert dir with Node's defaults (TLS 1.2–1.3, as istiod's tls_params): limits are not applied to it.
    const prefix = validation.default_validation_context?.match_subject_alt_names?.find((m: Json) => typeof m.prefix === 'string')?.prefix;
    return { mode: 'ISTIO_MUTUAL', ...(prefix ? { matchSubjectAltNamePrefix: prefix } : {}), ...alpnOnly };
  }
  const shared = { ...alpnOnly, ...limits };
  const inlineCa = inlineCaFile(common);
  const verifies = !!rootName || !!inlineCa;
  const out: DownstreamTls = { mode: required ? 'MUTUAL' : verifies ? 'OPTIONAL_MUTUAL' : 'SIMPLE', ...shared };
  const cert = decodeCertificate(common);
  if (!cert) problem(`server certificate ${JSON.stringify(common.tls_certificate_sds_secret_configs?.[0]?.name ?? null)} cannot be resolved from files (kubernetes://<credentialName>, file-cert:<cert>~<key>, or inline filenames)`);
  else if ('credentialName' in cert) out.credentialName = cert.credentialName;
  else Object.assign(out, { serverCertificate: cert.certificate, privateKey: cert.privateKey });
  if (rootName) clientCa(out, rootName, problem);
  else if (inlineCa) out.caCertificates = inlineCa;
  else if (required) problem('a client certificate is required but no CA is named to verify it with');
  const sans = exactSans(validation?.default_validation_context ?? common.validation_context);
  if (sans.length) out.subjectAltNames = sans;
  return out;
}

function clientCa(out: DownstreamTls, name: SdsName, problem: (what: string) => void): void {
  // The model holds one credential per chain, whose CA is found beside it (src/tls/credentials.ts): `<name>-cacert` is that.
  if (name.kind === 'credential' && name.ca && out.credentialName === name.name) return;
  if (name.kind === 'file-root' && !out.credentialName) out.caCertificates = name.caCertificates;
  else problem(`client CA ${JSON.stringify(name)} does not go with this chain's certificate (a credential's CA comes from the same credential, a file CA with file certificates)`);
}
