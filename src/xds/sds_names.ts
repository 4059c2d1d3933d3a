/**
 * The SDS secret names istiod puts in TLS contexts, and what Legate reads for each. Legate has
 * no SDS server to ask: the names are resolved from files on the proxy's side — `default` and
 * `ROOTCA` are the workload identity (`--cert-dir`), `kubernetes://<name>` a credential under
 * `--credential-dir` (its CA: `kubernetes://<name>-cacert`), `file-cert:<cert>~<key>` and
 * `file-root:<ca>` those paths, `file-root:system` the system roots. The same names are what
 * `legate xds-server` writes, so a Legate router fed over xDS serves what its files would.
 */
import { ADS_SOURCE, type Json } from './encode/values.js';

export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';
/** Istio's name for "verify against the system's public roots" (DestinationRule SIMPLE without caCertificates). */
export const SYSTEM_ROOT_SECRET = 'file-root:system';
const CREDENTIAL_PREFIX = 'kubernetes://';
/** Gateway API credentials carry the namespace: `kubernetes-gateway://<namespace>/<name>`. */
const GATEWAY_API_PREFIX = 'kubernetes-gateway://';
const CA_SUFFIX = '-cacert';
const FILE_CERT = 'file-cert:';
const FILE_ROOT = 'file-root:';

export type SdsName =
  | { kind: 'workload' }
  | { kind: 'root' }
  | { kind: 'system-root' }
  | { kind: 'credential'; name: string; ca: boolean }
  | { kind: 'file-cert'; certificate: string; privateKey: string }
  | { kind: 'file-root'; caCertificates: string };

/** What an SDS secret name refers to, or undefined for a name Legate cannot resolve. */
export function parseSdsName(name: string | undefined): SdsName | undefined {
  if (!name) return undefined;
  if (name === WORKLOAD_SECRET) return { kind: 'workload' };
  if (name === ROOT_SECRET) return { kind: 'root' };
  if (name === SYSTEM_ROOT_SECRET) return { kind: 'system-root' };
  for (const prefix of [CREDENTIAL_PREFIX, GATEWAY_API_PREFIX]) {
    if (!name.startsWith(prefix)) continue;
    // A credential is a directory under --credential-dir, named without its namespace.
    let rest = name.slice(prefix.length);
    rest = rest.slice(rest.lastIndexOf('/') + 1);
    const ca = rest.endsWith(CA_SUFFIX);
    return rest ? { kind: 'credential', name: ca ? rest.slice(0, -CA_SUFFIX.length) : rest, ca } : undefined;
  }
  if (name.startsWith(FILE_CERT)) {
    const [certificate, privateKey, extra] = name.slice(FILE_CERT.length).split('~');
    return certificate && privateKey && extra === undefined ? { kind: 'file-cert', certificate, privateKey } : undefined;
  }
  if (name.startsWith(FILE_ROOT)) {
    const caCertificates = name.slice(FILE_ROOT.length);
    return caCertificates ? { kind: 'file-root', caCertificates } : undefined;
  }
  return undefined;
}

/** The name istiod gives a certificate and key: the credential's, else the files'. */
export function certificateSecretName(f: { credentialName?: string; certificate?: string; privateKey?: string }): string | undefined {
  if (f.credentialName) return CREDENTIAL_PREFIX + f.credentialName;
  return f.certificate && f.privateKey ? `${FILE_CERT}${f.certificate}~${f.privateKey}` : undefined;
}

/** The name istiod gives a CA bundle: the credential's `-cacert`, else the file's. */
export function rootSecretName(f: { credentialName?: string; caCertificates?: string }): string | undefined {
  if (f.credentialName) return CREDENTIAL_PREFIX + f.credentialName + CA_SUFFIX;
  return f.caCertificates ? FILE_ROOT + f.caCertificates : undefined;
}

/**
 * An SdsSecretConfig as istiod writes it: credentials come from istiod itself over the ADS
 * stream, the workload and file secrets from the node agent (`sds-grpc`).
 */
export function sdsSecretConfig(name: string): Json {
  if (name.startsWith(CREDENTIAL_PREFIX) || name.startsWith(GATEWAY_API_PREFIX)) return { name, sds_config: ADS_SOURCE };
  return { name, sds_config: { api_config_source: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], transport_api_version: 'V3' }, resource_api_version: 'V3' } };
}

/** Istio's TLSProtocol names (the model's) ↔ Envoy's TlsParameters names. */
const ENVOY_TLS_VERSION: Readonly<Record<string, string>> = { TLS_AUTO: 'TLS_AUTO', TLSV1_0: 'TLSv1_0', TLSV1_1: 'TLSv1_1', TLSV1_2: 'TLSv1_2', TLSV1_3: 'TLSv1_3' };
const ISTIO_TLS_VERSION: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ENVOY_TLS_VERSION).map(([k, v]) => [v, k]));

export interface TlsLimits {
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
  cipherSuites?: string[];
}

/** A server's version limits and ciphers as Envoy's `tls_params` (undefined when it sets none). */
export function encodeTlsParams(l: TlsLimits): Json | undefined {
  const out: Json = {};
  if (l.minProtocolVersion) out.tls_minimum_protocol_version = ENVOY_TLS_VERSION[l.minProtocolVersion];
  if (l.maxProtocolVersion) out.tls_maximum_protocol_version = ENVOY_TLS_VERSION[l.maxProtocolVersion];
  if (l.cipherSuites?.length) out.cipher_suites = [...l.cipherSuites];
  return Object.keys(out).length ? out : undefined;
}

/** The reverse; TLS_AUTO (the proto default, also what a decoder fills in for an unset field) is no limit. */
export function decodeTlsParams(p: Json | undefined): TlsLimits {
  const out: TlsLimits = {};
  const min = ISTIO_TLS_VERSION[p?.tls_minimum_protocol_version];
  const max = ISTIO_TLS_VERSION[p?.tls_maximum_protocol_version];
  if (min && min !== 'TLS_AUTO') out.minProtocolVersion = min;
  if (max && max !== 'TLS_AUTO') out.maxProtocolVersion = max;
  if (p?.cipher_suites?.length) out.cipherSuites = [...p.cipher_suites];
  return out;
}

/** Exact SAN matches of a validation context, in the old and the typed form istiod writes. */
export function exactSans(v: Json | undefined): string[] {
  const plain = (v?.match_subject_alt_names ?? []).map((m: Json) => m.exact);
  const typed = (v?.match_typed_subject_alt_names ?? []).map((m: Json) => m.matcher?.exact);
  return [...new Set([...plain, ...typed].filter((s: unknown): s is string => typeof s === 'string' && s !== ''))];
}

/** A certificate named by a TLS context: a credential, or certificate and key files. */
export type NamedCertificate = { credentialName: string } | { certificate: string; privateKey: string };

/** The context's certificate: its first SDS name (a credential or `file-cert:`), else Envoy's inline filenames. */
export function decodeCertificate(common: Json): NamedCertificate | undefined {
  const name = parseSdsName(common.tls_certificate_sds_secret_configs?.[0]?.name);
  if (name?.kind === 'credential' && !name.ca) return { credentialName: name.name };
  if (name?.kind === 'file-cert') return { certificate: name.certificate, privateKey: name.privateKey };
  const inline = common.tls_certificates?.[0];
  if (inline?.certificate_chain?.filename && inline.private_key?.filename) return { certificate: inline.certificate_chain.filename, privateKey: inline.private_key.filename };
  return undefined;
}

/** A CA file given inline (`trusted_ca.filename`) rather than by SDS name. */
export function inlineCaFile(common: Json): string | undefined {
  return (common.validation_context ?? common.combined_validation_context?.default_validation_context)?.trusted_ca?.filename;
}

/** Istio's secret fields of a TLS setting: a credentialName replaces the file fields. */
export function secretFields(tls: { credentialName?: string; caCertificates?: string }, certificate: string | undefined, privateKey: string | undefined): { credentialName?: string; certificate?: string; privateKey?: string; caCertificates?: string } {
  return tls.credentialName ? { credentialName: tls.credentialName } : { certificate, privateKey, caCertificates: tls.caCertificates };
}

/** A combined validation context as istiod writes it: SAN matchers, and the CA by SDS name. */
export function validationContext(rootName: string, sanMatchers: Json[]): Json {
  return {
    default_validation_context: sanMatchers.length ? { match_subject_alt_names: sanMatchers } : {},
    validation_context_sds_secret_config: sdsSecretConfig(rootName),
  };
}
