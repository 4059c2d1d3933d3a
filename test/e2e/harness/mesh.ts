import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCa } from '../../../src/cli/ca.js';
import type { TestContext } from './netns.js';
import { Pod, PROXY_UID } from './pod.js';
import { RemoteHost } from './remote.js';

/** A local CA (`legate ca`) and the workload certificate directories it issued, readable by the proxy's uid. */
export class TestCa {
  private constructor(readonly dir: string) {}

  static async create(t: TestContext): Promise<TestCa> {
    const dir = mkdtempSync(join(tmpdir(), 'legate-ca-'));
    chmodSync(dir, 0o755);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    if ((await runCa(['root', '--ca-dir', dir])) !== 0) throw new Error('legate ca root failed');
    return new TestCa(dir);
  }

  get rootCert(): string {
    return join(this.dir, 'root-cert.pem');
  }

  /**
   * Issues (or re-issues: a rotation, files renamed into place) `spiffe://cluster.local/ns/<ns>/sa/<sa>`
   * into `<ca>/<name>/` in Istio's /etc/certs layout; `dns` issues a DNS-SAN server certificate instead.
   */
  async issue(name: string, id: { ns: string; sa: string } | { dns: string }, layout: 'istio' | 'tls' = 'istio'): Promise<string> {
    const out = join(this.dir, name);
    const who = 'dns' in id ? ['--dns', id.dns] : ['--ns', id.ns, '--sa', id.sa];
    if ((await runCa(['issue', '--ca-dir', this.dir, '--out', out, ...who, '--layout', layout])) !== 0) throw new Error('legate ca issue failed');
    chmodSync(out, 0o755);
    for (const f of readdirSync(out)) chownSync(join(out, f), PROXY_UID, PROXY_UID);
    return out;
  }
}

export interface MeshPods {
  remote: RemoteHost;
  /** The pod whose app calls out (its sidecar originates mTLS). */
  client: Pod;
  /** The pod whose app is called (its sidecar terminates mTLS inbound). */
  server: Pod;
  ca: TestCa;
}

/**
 * Two captured pods in their own namespaces, both linked to one remote host that routes
 * between them (pod → remote → pod, as nodes route pod traffic), and a CA. Configs are written
 * and proxies started by the test, which knows the addresses only now.
 */
export async function meshPods(t: TestContext): Promise<MeshPods> {
  const remote = await RemoteHost.create(t, 'router');
  await remote.ns.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  const [client, server, ca] = await Promise.all([Pod.create(t, { remote, purpose: 'client' }), Pod.create(t, { remote, purpose: 'server' }), TestCa.create(t)]);
  return { remote, client, server, ca };
}

/** A security.istio.io/v1 PeerAuthentication. */
export function peerAuthentication(name: string, namespace: string, spec: Record<string, unknown>): string {
  return ['apiVersion: security.istio.io/v1', 'kind: PeerAuthentication', 'metadata:', `  name: ${name}`, `  namespace: ${namespace}`, `spec: ${JSON.stringify(spec)}`].join('\n');
}
