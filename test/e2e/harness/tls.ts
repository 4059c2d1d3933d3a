import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRoot, issueLeaf, type RootCa } from '../../../src/tls/ca.js';
import type { Netns, TestContext } from './netns.js';
import { NODE, programPath } from './programs.js';
import { TestServer } from './servers.js';

export interface CertFiles {
  cert: string;
  key: string;
}

/**
 * A certificate authority made for one test (src/tls/ca.ts), writing PEM files into a temp
 * directory that every uid can read (clients run as the app uid), removed at teardown.
 */
/** A test CA issuing DNS-SAN server certificates and Gateway credentials in-process (mesh.ts TestCa issues SPIFFE identities with `legate ca`). */
export class DnsTestCa {
  private constructor(
    readonly dir: string,
    private readonly root: RootCa,
  ) {}

  static async create(t: TestContext): Promise<DnsTestCa> {
    const dir = mkdtempSync(join(tmpdir(), 'legate-ca-'));
    chmodSync(dir, 0o755);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const root = await createRoot('legate.test');
    writeFileSync(join(dir, 'ca.crt'), root.certPem, { mode: 0o644 });
    return new DnsTestCa(dir, root);
  }

  /** The root certificate (what clients verify servers with, and MUTUAL servers verify clients with). */
  get caFile(): string {
    return join(this.dir, 'ca.crt');
  }

  /** A leaf for `dnsNames` (subject CN = the first) as `<dir>/<name>.crt|.key`. */
  async issue(name: string, dnsNames: string[]): Promise<CertFiles> {
    const leaf = await issueLeaf(this.root, { dnsNames });
    const files = { cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
    writeFileSync(files.cert, leaf.certPem, { mode: 0o644 });
    writeFileSync(files.key, leaf.keyPem, { mode: 0o644 });
    return files;
  }

  /** A Gateway `credentialName` laid out as a mounted kubernetes.io/tls secret: `<parent>/<name>/tls.crt`, `tls.key`, `ca.crt`. */
  async credential(parent: string, name: string, dnsNames: string[]): Promise<void> {
    const leaf = await issueLeaf(this.root, { dnsNames });
    const d = join(parent, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'tls.crt'), leaf.certPem);
    writeFileSync(join(d, 'tls.key'), leaf.keyPem, { mode: 0o600 });
    writeFileSync(join(d, 'ca.crt'), this.root.certPem);
  }
}

/**
 * programs/tls_server in `ns`: HTTPS on each port (`{port: name}`), answering its name and the SNI
 * it negotiated. `byName` makes it serve one certificate per SNI (`files` for unknown names) and
 * refuse a handshake without SNI.
 */
export async function startTlsServer(ns: Netns, listens: Record<number, string>, files: CertFiles, byName: Record<string, CertFiles> = {}): Promise<TestServer> {
  const argv = [NODE, programPath('tls_server'), '--cert', files.cert, '--key', files.key];
  for (const [name, f] of Object.entries(byName)) argv.push('--sni', `${name}=${f.cert},${f.key}`);
  for (const [port, name] of Object.entries(listens)) argv.push('--listen', `${port}=${name}`);
  const proc = ns.spawn(argv, { label: `${ns.purpose}:tls_server` });
  for (const port of Object.keys(listens)) await proc.waitForLine((l) => l.includes('"ev":"listening"') && l.includes(`"port":${port},`), 30_000);
  return new TestServer(proc);
}
