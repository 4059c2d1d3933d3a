import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRoot, issueLeaf } from '../../src/tls/ca.js';

export interface BenchCert {
  cert: string;
  key: string;
  /** Certificate then key in one file (HAProxy's `crt`). */
  combined: string;
}

/**
 * One server certificate (ECDSA P-256, from src/tls/ca.ts) that every HTTPS target serves, so
 * they all pay for the same handshake and cipher; written once per run into `tmp`.
 */
export async function benchCertificate(tmp: string): Promise<BenchCert> {
  const files = { cert: join(tmp, 'bench-tls.crt'), key: join(tmp, 'bench-tls.key'), combined: join(tmp, 'bench-tls.pem') };
  if (existsSync(files.combined)) return files;
  const root = await createRoot('bench.local');
  const leaf = await issueLeaf(root, { dnsNames: ['bench.local'] });
  // Readable by uid 1337 (Legate) as well as the root-run peers.
  writeFileSync(files.cert, leaf.certPem, { mode: 0o644 });
  writeFileSync(files.key, leaf.keyPem, { mode: 0o644 });
  writeFileSync(files.combined, leaf.certPem + leaf.keyPem, { mode: 0o644 });
  return files;
}
