import type { SecureContext, TLSSocket } from 'node:tls';
import type { DownstreamTls } from '../config/model.js';
import { fileContext, type CertificateFiles, type ProtocolLimits } from './contexts.js';
import { credentialFiles } from './credentials.js';

/** Istio's TLSProtocol names → Node's; TLS_AUTO (and absent) leaves Envoy's defaults (1.2–1.3), which are Node's too. */
export const TLS_VERSIONS: Readonly<Record<string, ProtocolLimits['minVersion']>> = {
  TLS_AUTO: undefined,
  TLSV1_0: 'TLSv1',
  TLSV1_1: 'TLSv1.1',
  TLSV1_2: 'TLSv1.2',
  TLSV1_3: 'TLSv1.3',
};

interface Resolved {
  files: CertificateFiles;
  limits?: ProtocolLimits;
}

/** Per chain (chains are immutable snapshot objects): what its context is built from, worked out once. */
const resolvedByChain = new WeakMap<DownstreamTls, Resolved>();

function resolve(tls: DownstreamTls): Resolved {
  let r = resolvedByChain.get(tls);
  if (r) return r;
  const verifiesClients = tls.mode === 'MUTUAL' || tls.mode === 'OPTIONAL_MUTUAL';
  const files = tls.credentialName
    ? credentialFiles(tls.credentialName, verifiesClients)
    : { certificate: tls.serverCertificate, privateKey: tls.privateKey, caCertificates: tls.caCertificates };
  const limits: ProtocolLimits = {};
  if (tls.minProtocolVersion) limits.minVersion = TLS_VERSIONS[tls.minProtocolVersion];
  if (tls.maxProtocolVersion) limits.maxVersion = TLS_VERSIONS[tls.maxProtocolVersion];
  if (tls.cipherSuites?.length) limits.ciphers = tls.cipherSuites.join(':');
  r = { files, limits: limits.minVersion || limits.maxVersion || limits.ciphers ? limits : undefined };
  resolvedByChain.set(tls, r);
  return r;
}

/** The context a gateway server (SIMPLE, MUTUAL, OPTIONAL_MUTUAL) serves: from its files or its credential. */
export function gatewayServerContext(tls: DownstreamTls): SecureContext | undefined {
  const r = resolve(tls);
  return fileContext(r.files, r.limits);
}

/**
 * Checks Node's handshake leaves to the server: OPTIONAL_MUTUAL accepts a client without a
 * certificate but not one with a certificate that does not verify; MUTUAL's `subjectAltNames`
 * (Envoy's match_subject_alt_names) must name one of the client certificate's SANs.
 */
export function clientCertificateRejected(socket: TLSSocket, tls: DownstreamTls): boolean {
  if (tls.mode === 'OPTIONAL_MUTUAL' && socket.getPeerCertificate()?.raw && peerVerifyError(socket)) return true;
  const wanted = tls.subjectAltNames;
  if (!wanted?.length || (tls.mode !== 'MUTUAL' && tls.mode !== 'OPTIONAL_MUTUAL')) return false;
  const sans = socket.getPeerCertificate()?.subjectaltname;
  if (!sans) return tls.mode === 'MUTUAL';
  const names = sans.split(', ').map((s) => s.slice(s.indexOf(':') + 1));
  return !wanted.some((w) => names.includes(w));
}

/**
 * OpenSSL's verdict on the peer certificate. Node fills `authorized` only for sockets a
 * tls.Server accepted; ours wrap adopted sockets, so ask the handle as tls.Server itself does
 * (an internal of Node, pinned by test/unit/tls_gateway_context.test.ts). No handle: rejected.
 */
function peerVerifyError(socket: TLSSocket): unknown {
  const handle = (socket as unknown as { _handle?: { verifyError?: () => unknown } })._handle;
  return handle?.verifyError ? handle.verifyError() : new Error('no TLS handle to ask');
}
