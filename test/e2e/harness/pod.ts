import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCapture, DEFAULT_CAPTURE, type CaptureOptions } from './iptables.js';
import { Netns, type TestContext } from './netns.js';
import { eventually, sleep, type ExitStatus, type Proc } from './proc.js';
import { NODE, REPO_ROOT } from './programs.js';
import type { RemoteHost } from './remote.js';

export const PROXY_UID = 1337;

export interface ProxyStartOptions {
  /** `legate proxy sidecar` (default) or `legate proxy router` (a gateway: see gateway.ts). */
  mode?: 'sidecar' | 'router';
  concurrency?: number;
  acceptMode?: 'handoff' | 'reuseport';
  /** More `legate proxy sidecar|router` flags. */
  args?: string[];
  /** Capabilities the proxy keeps as uid 1337 (Istio gives a TPROXY sidecar NET_ADMIN). */
  caps?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for /healthz/ready (default true). */
  waitReady?: boolean;
  /** Leave out `--config <dir>` (a proxy configured by `--xds` in `args`). */
  noConfigFiles?: boolean;
  /** Node flags before the script (`--import <preload>`, say). */
  nodeArgs?: string[];
}

export interface ProxyExit extends ExitStatus {
  /** From the signal to the exit. */
  ms: number;
}

/** Ports the harness's proxy uses (the defaults; a namespace has its own port space). */
export const PORTS = { outbound: 15001, inbound: 15006, admin: 15000, readiness: 15021, prometheus: 15090 } as const;

/**
 * A "pod": a namespace with the sidecar's iptables capture, joined to a RemoteHost by veth
 * (the remote host is also its default gateway, so any address — a ServiceEntry VIP —
 * routes out and gets captured), and the proxy running as uid 1337 on a config directory.
 */
export class Pod {
  proxy: Proc | undefined;
  /** iptables-save -t nat after capture was applied. */
  rules = '';

  private constructor(
    readonly t: TestContext,
    readonly ns: Netns,
    /** The pod's address on its link to the remote host. */
    readonly ip: string,
    readonly configDir: string,
  ) {}

  /**
   * Namespace, link to `remote` (which gets the .1 address), default route, and the capture
   * rules by `legate iptables` (`capture`: false for none, or istio-iptables settings).
   */
  static async create(t: TestContext, opts: { remote: RemoteHost; purpose?: string; capture?: boolean | Partial<CaptureOptions> }): Promise<Pod> {
    const ns = await Netns.create(t, opts.purpose ?? 'pod');
    const link = await Netns.link(opts.remote.ns, ns);
    opts.remote.ip ||= link.a.ip;
    await ns.addRoute('default', link.a.ip);
    const configDir = mkdtempSync(join(tmpdir(), 'legate-e2e-'));
    chmodSync(configDir, 0o755);
    t.teardown(() => rmSync(configDir, { recursive: true, force: true }));
    const pod = new Pod(t, ns, link.b.ip, configDir);
    const capture = opts.capture ?? true;
    if (capture !== false) pod.rules = await applyCapture(ns, capture === true ? {} : capture);
    t.teardown(() => {
      if (!t.passed && pod.rules) t.log(`--- ${ns.name} iptables -t nat:\n${pod.rules}`);
    });
    return pod;
  }

  /** Writes the proxy's configuration (YAML documents, joined with ---) as config.yaml. */
  writeConfig(...docs: string[]): void {
    const file = join(this.configDir, 'config.yaml');
    writeFileSync(file, docs.join('\n---\n') + '\n');
    chmodSync(file, 0o644);
  }

  /** `node bin/legate.js proxy sidecar|router --config <dir>` as uid 1337 inside the pod. */
  async startProxy(opts: ProxyStartOptions = {}): Promise<Proc> {
    const config = opts.noConfigFiles ? [] : ['--config', this.configDir];
    const argv = [NODE, ...(opts.nodeArgs ?? []), join(REPO_ROOT, 'bin/legate.js'), 'proxy', opts.mode ?? 'sidecar', ...config, '--concurrency', String(opts.concurrency ?? 2)];
    if (opts.acceptMode) argv.push('--accept-mode', opts.acceptMode);
    argv.push(...(opts.args ?? []));
    this.proxy = this.ns.spawn(argv, { uid: PROXY_UID, gid: DEFAULT_CAPTURE.proxyGid, caps: opts.caps, label: `${this.ns.name}:legate`, env: { ...process.env, ...opts.env } });
    if (opts.waitReady ?? true) await this.waitReady();
    return this.proxy;
  }

  /** Polls 127.0.0.1:15021/healthz/ready inside the pod until 200; fails early if the proxy exits. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    await eventually(
      'proxy readiness (/healthz/ready 200)',
      async () => {
        if (this.proxy && !this.proxy.running) throw new Error(`proxy exited before it was ready\n${this.proxy.describe()}`);
        return (await this.httpStatus(`http://127.0.0.1:${PORTS.readiness}/healthz/ready`)) === 200 ? true : undefined;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.proxy?.describe() ?? ''}`);
    });
  }

  /** HTTP status of a GET from inside the pod as root (not captured: lo, uid 0), 0 when none. */
  async httpStatus(url: string): Promise<number> {
    const r = await this.ns.exec(['curl', '-s', '--max-time', '2', '-o', '/dev/null', '-w', '%{http_code}', url], { check: false });
    return Number(r.stdout) || 0;
  }

  /** GET on the admin port from inside the pod. */
  async admin(path: string): Promise<string> {
    return (await this.ns.exec(['curl', '-sS', '--fail', '--max-time', '5', `http://127.0.0.1:${PORTS.admin}${path}`])).stdout;
  }

  /** POST on the admin port (Envoy's mutating paths are POST-only). */
  async adminPost(path: string): Promise<string> {
    return (await this.ns.exec(['curl', '-sS', '--fail', '--max-time', '5', '-X', 'POST', `http://127.0.0.1:${PORTS.admin}${path}`])).stdout;
  }

  /** All stats from /stats?format=json as name → value (summed over workers by the proxy). */
  async stats(): Promise<Map<string, number>> {
    const body = JSON.parse(await this.admin('/stats?format=json')) as { stats: { name: string; value: number }[] };
    return new Map(body.stats.map((s) => [s.name, s.value]));
  }

  /** One stat; 0 when the proxy does not (yet) define it. */
  async stat(name: string): Promise<number> {
    return (await this.stats()).get(name) ?? 0;
  }

  /**
   * Waits until `name` reaches `want` (stats are added when connections close, so they lag
   * the client by a moment), then holds for `settleMs` to catch overcounting; returns the value.
   */
  async waitForStat(name: string, want: number | ((v: number) => boolean), timeoutMs = 10_000, settleMs = 100): Promise<number> {
    const ok = typeof want === 'number' ? (v: number) => v >= want : want;
    let last = 0;
    await eventually(`stat ${name} ${typeof want === 'number' ? `>= ${want}` : 'condition'}`, async () => {
      last = await this.stat(name);
      return ok(last) ? last : undefined;
    }, timeoutMs).catch(async (err: Error) => {
      const related = [...(await this.stats())].filter(([k]) => k.split('.')[1] === name.split('.')[1]);
      throw new Error(`${err.message}; last value ${last}; related: ${JSON.stringify(related)}`);
    });
    if (settleMs > 0) {
      await sleep(settleMs);
      last = await this.stat(name);
    }
    return last;
  }

  /** SIGTERM (or `sig`) to the proxy; resolves when it has exited, with how long it took. */
  async stopProxy(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ProxyExit> {
    const proxy = this.proxy;
    if (!proxy) throw new Error('proxy not started');
    const start = Date.now();
    const st = await proxy.stop(sig, timeoutMs);
    return { ...st, ms: Date.now() - start };
  }
}
