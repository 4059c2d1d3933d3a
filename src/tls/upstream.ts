import { connect as netConnect, isIP, type Socket, type TcpNetConnectOpts } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { UpstreamTls } from '../config/model.js';
import { fileContext, fileContextError, workloadCertificate, workloadCertificateError, type CertificateFiles } from './contexts.js';
import { credentialFiles } from './credentials.js';
import { dnsSans, uriSans } from './workload_identity.js';

/** The endpoint label auto mTLS looks for (Envoy's transport_socket_matches `tlsMode: istio`). */
const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/**
 * The ALPN Istio's sidecars offer over mTLS: its alpn filter sets `istio-http/1.1` (with the
 * plain names after it) for HTTP/1.1 requests; TCP offers `istio` (Legate does not speak
 * Istio's TCP metadata exchange, so not `istio-peer-exchange`).
 */
export const ISTIO_ALPN = { http: ['istio-http/1.1', 'istio', 'http/1.1'], h2: ['istio-h2', 'istio', 'h2'], tcp: ['istio'] } as const;
export type UpstreamProtocol = keyof typeof ISTIO_ALPN;

/** Why a TLS connection failed, as Envoy words the transport failure (`TLS_error:…`). */
export const tlsFailure = (what: string) => `TLS_error:|${what}:TLS_error_end`;
export const isTlsFailure = (reason: string) => reason.startsWith('TLS_error:');

/** The cluster's TLS for this host: undefined for plaintext (DISABLE, or auto mTLS to an endpoint outside the mesh). */
export function tlsForHost(tls: UpstreamTls | undefined, labels: Readonly<Record<string, string>> | undefined): UpstreamTls | undefined {
  if (!tls || tls.mode === 'DISABLE') return undefined;
  if (tls.autoMtls && labels?.[TLS_MODE_LABEL] !== 'istio') return undefined;
  return tls;
}

/** Marks a SAN mismatch so stats can tell it from other verification failures. */
export const SAN_MISMATCH = 'ERR_TLS_SAN_MISMATCH';

/** Envoy's match_subject_alt_names (exact): the server must present one of `sans` as a URI or DNS SAN. */
function checkSans(sans: readonly string[]) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    const presented = [...uriSans(cert.subjectaltname), ...dnsSans(cert.subjectaltname)];
    if (sans.some((s) => presented.includes(s))) return undefined;
    const err = new Error(`peer SAN ${presented.join(',') || '(none)'} is not one of ${sans.join(',')}`) as NodeJS.ErrnoException;
    err.code = SAN_MISMATCH;
    return err;
  };
}

/**
 * Upstream TLS as one connection pool uses it: the cluster's, and under auto SAN validation
 * (Envoy's auto_san_validation) the name the server certificate must cover — the request's
 * Host, which auto SNI also put in `sni` (src/cluster/pool/server_name_pools.ts).
 */
export type PoolTls = UpstreamTls & { verifyServerName?: string };

/** auto_san_validation: Node's hostname check (DNS SANs, wildcards, IP SANs) against the request's Host instead of the rule's SAN list. */
function checkServerName(name: string) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    const err = checkServerIdentity(name, cert) as NodeJS.ErrnoException | undefined;
    if (err) err.code = SAN_MISMATCH;
    return err;
  };
}

/**
 * `tls.connect` options for one upstream connection, or the reason there are none (certificate
 * files missing). Contexts come from this thread's cache, so a rotation is picked up by the
 * next connection while open ones keep theirs.
 */
export function tlsConnectOptions(tls: PoolTls, host: string, protocol: UpstreamProtocol): ConnectionOptions | string {
  if (tls.mode === 'ISTIO_MUTUAL') {
    const cert = workloadCertificate();
    if (!cert) return tlsFailure(`no workload certificate (${workloadCertificateError() ?? 'cert dir empty'})`);
    // Without expected identities Istio trusts any workload of the root (the chain is still verified).
    const sans = tls.subjectAltNames;
    return { secureContext: cert.context, servername: tls.sni, ALPNProtocols: [...ISTIO_ALPN[protocol]], rejectUnauthorized: true, checkServerIdentity: sans?.length ? checkSans(sans) : () => undefined };
  }
  const files = originationFiles(tls);
  const needsFiles = files.certificate || files.privateKey || files.caCertificates;
  const secureContext = needsFiles ? fileContext(files) : undefined;
  if (needsFiles && !secureContext) return tlsFailure(`certificate files unusable (${fileContextError(files) ?? 'missing'})`);
  // Envoy sends SNI only when told; Istio fills it with the host name for DNS services.
  const servername = tls.sni ?? (isIP(host) ? undefined : host);
  const opts: ConnectionOptions = { secureContext, servername, rejectUnauthorized: !tls.insecureSkipVerify };
  // An HTTP/2 upstream over TLS must be offered h2 (Envoy's http2_protocol_options with TLS).
  if (protocol === 'h2') opts.ALPNProtocols = ['h2'];
  if (tls.insecureSkipVerify) opts.checkServerIdentity = () => undefined;
  else if (tls.verifyServerName !== undefined) opts.checkServerIdentity = checkServerName(tls.verifyServerName);
  else if (tls.subjectAltNames?.length) opts.checkServerIdentity = checkSans(tls.subjectAltNames);
  return opts;
}

/**
 * The files SIMPLE / MUTUAL origination uses: the rule's paths, or its `credentialName` read
 * as a gateway credential (`--credential-dir`), as Istio reads a DestinationRule's secret —
 * its CA (`ca.crt`/`cacert`, or the `<name>-cacert` secret) verifies the server, and with
 * MUTUAL its certificate and key are presented.
 */
function originationFiles(tls: UpstreamTls): CertificateFiles {
  const mutual = tls.mode === 'MUTUAL';
  if (tls.credentialName) {
    const f = credentialFiles(tls.credentialName, true);
    return mutual ? f : { caCertificates: f.caCertificates };
  }
  return { certificate: mutual ? tls.clientCertificate : undefined, privateKey: mutual ? tls.privateKey : undefined, caCertificates: tls.caCertificates };
}

export interface UpstreamSocket {
  socket: Socket;
  /** 'connect' for plaintext, 'secureConnect' once the TLS handshake is done. */
  readyEvent: 'connect' | 'secureConnect';
}

/** Opens a plaintext or TLS connection to an upstream host; a string when TLS cannot even start. */
export function connectUpstream(base: TcpNetConnectOpts, tls: PoolTls | undefined, protocol: UpstreamProtocol): UpstreamSocket | string {
  if (!tls) return { socket: netConnect(base), readyEvent: 'connect' };
  const opts = tlsConnectOptions(tls, base.host ?? '', protocol);
  if (typeof opts === 'string') return opts;
  return { socket: tlsConnect({ ...base, ...opts }), readyEvent: 'secureConnect' };
}

/** How a failed TLS connect is counted: Envoy's `ssl.fail_verify_san`, `ssl.fail_verify_error` or `ssl.connection_error`. */
export function tlsErrorKind(err: NodeJS.ErrnoException): 'fail_verify_san' | 'fail_verify_error' | 'connection_error' {
  if (err.code === SAN_MISMATCH) return 'fail_verify_san';
  if (err.code && /CERT|VERIFY|SELF_SIGNED|ISSUER/.test(err.code)) return 'fail_verify_error';
  return 'connection_error';
}
