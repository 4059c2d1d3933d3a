import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, type TestContext } from './netns.js';
import { PORTS } from './pod.js';
import { eventually, type Proc } from './proc.js';
import { NODE, REPO_ROOT } from './programs.js';
import { RemoteHost } from './remote.js';

/**
 * An ingress/egress gateway host: `legate proxy router` (as root, no capture) in its own
 * namespace, joined by veth to a backend host for the upstreams (`backend.ip`). Clients run in
 * the gateway's namespace and connect to 127.0.0.1. `credentialDir` is passed as
 * `--credential-dir` (see TestCa.credential).
 */
export class GatewayHost {
  proxy: Proc | undefined;

  private constructor(
    readonly t: TestContext,
    readonly ns: Netns,
    readonly backend: RemoteHost,
    readonly dir: string,
  ) {}

  static async create(t: TestContext): Promise<GatewayHost> {
    const ns = await Netns.create(t, 'gateway');
    const backend = await RemoteHost.create(t, 'backend');
    const link = await Netns.link(ns, backend.ns);
    backend.ip = link.b.ip;
    const dir = mkdtempSync(join(tmpdir(), 'legate-gw-'));
    chmodSync(dir, 0o755);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'config'));
    mkdirSync(join(dir, 'credentials'));
    return new GatewayHost(t, ns, backend, dir);
  }

  get credentialDir(): string {
    return join(this.dir, 'credentials');
  }

  writeConfig(...docs: string[]): void {
    writeFileSync(join(this.dir, 'config', 'config.yaml'), docs.join('\n---\n') + '\n');
  }

  /**
   * `legate xds-server` on the written config, in the gateway's namespace (as istiod would be
   * reached); `start({ xds })` then feeds the router from it instead of the files.
   */
  async startXdsServer(port = 15010): Promise<string> {
    const argv = [NODE, join(REPO_ROOT, 'bin/legate.js'), 'xds-server', '--config', join(this.dir, 'config'), '--port', String(port), '--address', '127.0.0.1'];
    const server = this.ns.spawn(argv, { label: `${this.ns.name}:legate-xds-server` });
    // It logs (to stderr) once the ADS port is bound.
    await eventually('xds-server listening', () => (server.stderr.includes('ADS (SotW and Delta) on') ? true : undefined), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${server.describe()}`);
    });
    return `127.0.0.1:${port}`;
  }

  /** `legate proxy router` on the written config (or over ADS from `xds`); resolves once /healthz/ready answers 200. */
  async start(opts: { args?: string[]; concurrency?: number; xds?: string } = {}): Promise<Proc> {
    const source = opts.xds ? ['--xds', opts.xds] : ['--config', join(this.dir, 'config')];
    const argv = [NODE, join(REPO_ROOT, 'bin/legate.js'), 'proxy', 'router', ...source, '--concurrency', String(opts.concurrency ?? 1), '--credential-dir', this.credentialDir, ...(opts.args ?? [])];
    const proxy = (this.proxy = this.ns.spawn(argv, { label: `${this.ns.name}:legate-router` }));
    await eventually(
      'router readiness (/healthz/ready 200)',
      async () => {
        if (!proxy.running) throw new Error(`router exited before it was ready\n${proxy.describe()}`);
        const r = await this.ns.exec(['curl', '-s', '--max-time', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${PORTS.readiness}/healthz/ready`], { check: false });
        return r.stdout === '200' ? true : undefined;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proxy.describe()}`);
    });
    return proxy;
  }
}
