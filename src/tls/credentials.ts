import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateFiles } from './contexts.js';

/**
 * Where a Gateway's `credentialName` is read from when there is no Kubernetes secret API:
 * `<credential-dir>/<name>/`, one directory per secret, laid out as a mounted secret would be.
 */
export const DEFAULT_CREDENTIAL_DIR = '/etc/istio/credentials';

let credentialDir = DEFAULT_CREDENTIAL_DIR;
const resolved = new Map<string, CertificateFiles>();

/** Sets the credential directory (`--credential-dir`); call before the first connection. */
export function configureCredentials(dir: string): void {
  if (dir === credentialDir) return;
  credentialDir = dir;
  resolved.clear();
}

/** The first of `names` that exists in `dir` (else the first, so the error names a file Istio's docs use). */
function pick(dir: string, names: readonly string[]): string {
  for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  return join(dir, names[0]);
}

/**
 * The files of a credential, in the secret formats Istio reads: `tls.crt`/`tls.key` (+ `ca.crt`),
 * or `cert`/`key` (+ `cacert`), and for the CA also a separate `<name>-cacert` secret. Resolved
 * once per name (the file watch then follows rotations), never per connection.
 */
export function credentialFiles(name: string, withCa: boolean): CertificateFiles {
  const key = `${name}\0${withCa}`;
  let files = resolved.get(key);
  if (!files) {
    const dir = join(credentialDir, name);
    files = { certificate: pick(dir, ['tls.crt', 'cert']), privateKey: pick(dir, ['tls.key', 'key']) };
    if (withCa) {
      const own = ['ca.crt', 'cacert'].find((n) => existsSync(join(dir, n)));
      files.caCertificates = own ? join(dir, own) : pick(join(credentialDir, `${name}-cacert`), ['ca.crt', 'cacert']);
    }
    resolved.set(key, files);
  }
  return files;
}
