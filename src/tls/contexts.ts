import { createSecureContext, type SecureContext } from 'node:tls';
import { PemFiles } from './pem_files.js';
import { DEFAULT_CERT_DIR, workloadIdentity, type WorkloadCertificate } from './workload_identity.js';

/**
 * This thread's TLS material: the workload identity (cert dir) and contexts built from
 * certificate files named in the config (SIMPLE / MUTUAL), each built once and rebuilt only
 * when its files change — never per connection. Secure contexts cannot cross threads, so each
 * worker holds its own, watching the same files.
 */
let certDir = DEFAULT_CERT_DIR;
let identity: PemFiles<WorkloadCertificate> | undefined;
const fileContexts = new Map<string, PemFiles<SecureContext>>();

/** Where the workload certificate lives (`--cert-dir`); call before the first connection. */
export function configureTls(dir: string): void {
  if (dir === certDir && identity) return;
  identity?.close();
  certDir = dir;
  identity = undefined;
}

/** The workload certificate (ISTIO_MUTUAL both ways), or undefined when the cert dir has none. */
export function workloadCertificate(): WorkloadCertificate | undefined {
  identity ??= workloadIdentity(certDir).watch();
  return identity.current;
}

/** Why the workload certificate is missing, for a connection's failure details. */
export function workloadCertificateError(): string | undefined {
  return identity?.lastError;
}

export interface CertificateFiles {
  certificate?: string;
  privateKey?: string;
  caCertificates?: string;
}

/** A server's protocol limits (Gateway `minProtocolVersion`, `maxProtocolVersion`, `cipherSuites`), in Node's terms. */
export interface ProtocolLimits {
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (`:`-separated). */
  ciphers?: string;
}

/**
 * A context from PEM files: a certificate and key (served, or presented as a client) and/or
 * the CA bundle to verify the peer against (undefined: Node's default public roots).
 */
export function fileContext(f: CertificateFiles, limits?: ProtocolLimits): SecureContext | undefined {
  const key = `${f.certificate ?? ''}\0${f.privateKey ?? ''}\0${f.caCertificates ?? ''}${limits ? `\0${limits.minVersion}\0${limits.maxVersion}\0${limits.ciphers}` : ''}`;
  let files = fileContexts.get(key);
  if (!files) {
    const paths = [f.certificate, f.privateKey, f.caCertificates].filter((p): p is string => !!p);
    files = new PemFiles(paths, (contents) => {
      let i = 0;
      const cert = f.certificate ? contents[i++] : undefined;
      const pkey = f.privateKey ? contents[i++] : undefined;
      const ca = f.caCertificates ? contents[i++] : undefined;
      return createSecureContext({ cert, key: pkey, ca, ...limits });
    }).watch();
    fileContexts.set(key, files);
  }
  return files.current;
}

/** Why fileContext() had nothing (a file missing or unusable). */
export function fileContextError(f: CertificateFiles): string | undefined {
  return fileContexts.get(`${f.certificate ?? ''}\0${f.privateKey ?? ''}\0${f.caCertificates ?? ''}`)?.lastError;
}
