import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { join } from 'node:path';
import { PemFiles } from './pem_files.js';

/** Istio's file-mounted certificate layout (`/etc/certs`, `OUTPUT_CERTS`). */
export const IDENTITY_FILES = { chain: 'cert-chain.pem', key: 'key.pem', root: 'root-cert.pem' } as const;
export const DEFAULT_CERT_DIR = '/etc/certs';

export interface WorkloadCertificate {
  chainPem: string;
  keyPem: string;
  rootPem: string;
  /** The leaf's SPIFFE URI SAN. */
  principal: string | undefined;
  notAfter: string;
  /**
   * Certificate, key and roots in one context: it serves both directions, as a client
   * (ISTIO_MUTUAL origination) and as a server (mTLS termination) — built once per rotation.
   */
  context: SecureContext;
}

/** The SANs of one type of a certificate (Node lists SANs as `DNS:a, URI:b`). */
function sansOfType(subjectAltName: string | undefined, prefix: 'URI:' | 'DNS:'): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const part of subjectAltName.split(', ')) if (part.startsWith(prefix)) out.push(part.slice(prefix.length));
  return out;
}

export const uriSans = (subjectAltName: string | undefined): string[] => sansOfType(subjectAltName, 'URI:');
export const dnsSans = (subjectAltName: string | undefined): string[] => sansOfType(subjectAltName, 'DNS:');

/** The first SPIFFE URI SAN, Istio's principal (without `spiffe://` in AuthorizationPolicy, with it in logs). */
export function spiffePrincipal(subjectAltName: string | undefined): string | undefined {
  return uriSans(subjectAltName).find((u) => u.startsWith('spiffe://'));
}

function accept([chainPem, keyPem, rootPem]: string[]): WorkloadCertificate {
  const leaf = new X509Certificate(chainPem);
  // Throws when the key does not match the certificate (a rotation caught half-written).
  const context = createSecureContext({ cert: chainPem, key: keyPem, ca: rootPem });
  return { chainPem, keyPem, rootPem, principal: spiffePrincipal(leaf.subjectAltName), notAfter: leaf.validTo, context };
}

/** The workload's identity from a certificate directory, reloaded when the files rotate. */
export function workloadIdentity(certDir: string): PemFiles<WorkloadCertificate> {
  return new PemFiles([join(certDir, IDENTITY_FILES.chain), join(certDir, IDENTITY_FILES.key), join(certDir, IDENTITY_FILES.root)], accept);
}
