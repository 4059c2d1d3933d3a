import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A real DNS server for tests: Debian's dnsmasq on 127.0.0.1, answering from a hosts
 * directory the test rewrites (dnsmasq re-reads it on change), NXDOMAIN for any other name
 * under `.test`, and logging every query so a test can count what reached it.
 */
export class Dnsmasq {
  readonly dir: string;
  readonly hostsDir: string;
  readonly logFile: string;
  port = 0;
  private proc: ChildProcess | undefined;
  private generation = 0;

  constructor(private readonly opts: { localTtl?: number; extraArgs?: string[] } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'legate-dnsmasq-'));
    this.hostsDir = join(this.dir, 'hosts.d');
    this.logFile = join(this.dir, 'queries.log');
  }

  static available(): boolean {
    return ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].some((p) => existsSync(p));
  }

  /** Replaces the hosts table: `{ 'a.test': ['127.0.0.1', '::1'] }`. */
  setHosts(hosts: Record<string, string[]>): void {
    const lines = Object.entries(hosts).flatMap(([name, ips]) => ips.map((ip) => `${ip} ${name}`));
    // Write then rename so that dnsmasq never reads a half-written file.
    const tmp = join(this.dir, `hosts.tmp${++this.generation}`);
    writeFileSync(tmp, lines.join('\n') + '\n');
    renameSync(tmp, join(this.hostsDir, 'hosts'));
  }

  /**
   * Starts dnsmasq on `port`, or on a free one. dnsmasq binds TCP as well as UDP on it, and a
   * test file running alongside may take the TCP port between the check and the bind: a port
   * of our choosing is then chosen again (a few times).
   */
  async start(hosts: Record<string, string[]> = {}, port?: number): Promise<this> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOn(hosts, port ?? (await freeUdpPort()));
      } catch (err) {
        if (port !== undefined || attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
      }
    }
  }

  private async startOn(hosts: Record<string, string[]>, port: number): Promise<this> {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(this.hostsDir, { recursive: true });
    this.setHosts(hosts);
    this.port = port;
    const user = process.getuid?.() === 0 ? 'root' : userInfo().username;
    const args = [
      '--no-daemon',
      `--port=${this.port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      `--hostsdir=${this.hostsDir}`,
      '--local=/test/',
      `--local-ttl=${this.opts.localTtl ?? 1}`,
      '--log-queries',
      `--log-facility=${this.logFile}`,
      `--user=${user}`,
      '--pid-file=',
      ...(this.opts.extraArgs ?? []),
    ];
    const proc = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    this.proc = proc;
    // Ready when it answers a query.
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null) throw new Error(`dnsmasq exited ${proc.exitCode}: ${stderr}`);
      if (await answers(this.port)) return this;
      await sleep(50);
    }
    throw new Error(`dnsmasq did not start: ${stderr}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGTERM');
    await once(p, 'exit');
  }

  /** Queries dnsmasq logged so far, e.g. count('A', 'a.test'). */
  queries(type?: string, name?: string): number {
    let text = '';
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch {
      return 0;
    }
    return text.split('\n').filter((l) => {
      const m = /query\[(\w+)\] (\S+) from/.exec(l);
      return m && (!type || m[1] === type) && (!name || m[2] === name);
    }).length;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const port = s.address().port;
  s.close();
  return port;
}

/** A bare query for `ready.invalid` (any answer, even REFUSED, proves the server is up). */
async function answers(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  const q = Buffer.from('beef0100000100000000000005726561647907696e76616c69640000010001', 'hex');
  try {
    s.send(q, port, '127.0.0.1');
    const got = await Promise.race([once(s, 'message').then(() => true), sleep(100).then(() => false)]);
    return got;
  } finally {
    s.close();
  }
}
