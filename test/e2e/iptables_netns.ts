/**
 * Throwaway network namespaces for the `legate iptables` end-to-end tests. Every namespace
 * and process made here is removed in t.teardown; traffic stays inside these namespaces.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const LEGATE = fileURLToPath(new URL('../../../bin/legate.js', import.meta.url));

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never rejects on a non-zero exit (the caller asserts). */
export function sh(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<Out> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Fails (never skips) when the test cannot do its job: it needs root for `ip netns`, and
 * the Debian packages iptables and iproute2 (scripts/install-test-deps.sh installs them).
 */
export async function requireRootAndTools(t: ExecutionContext): Promise<boolean> {
  if (process.getuid?.() !== 0) {
    t.fail(`needs root (ip netns, iptables); uid is ${process.getuid?.()}. CI runs as root; run npm test as root.`);
    return false;
  }
  for (const tool of ['ip', 'iptables-restore', 'iptables-save', 'setpriv']) {
    const found = await sh('sh', ['-c', `command -v ${tool}`]);
    if (found.code !== 0) {
      t.fail(`${tool} not found in PATH: run scripts/install-test-deps.sh (Debian packages iptables, iproute2, util-linux)`);
      return false;
    }
  }
  return true;
}

export class Netns {
  private constructor(readonly name: string, private readonly t: ExecutionContext) {}

  static async create(t: ExecutionContext): Promise<Netns> {
    const name = `legate-ipt-${randomBytes(4).toString('hex')}`;
    const added = await sh('ip', ['netns', 'add', name]);
    if (added.code !== 0) throw new Error(`ip netns add ${name}: ${added.stderr.trim()}`);
    t.teardown(async () => void (await sh('ip', ['netns', 'del', name])));
    const ns = new Netns(name, t);
    await ns.must('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  exec(cmd: string, args: readonly string[], timeoutMs?: number): Promise<Out> {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args], timeoutMs);
  }

  async must(cmd: string, args: readonly string[]): Promise<string> {
    const r = await this.exec(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${this.name}: exit ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** `legate iptables ARGS` inside the namespace. */
  legate(...args: string[]): Promise<Out> {
    return this.exec(process.execPath, [LEGATE, 'iptables', ...args], 60_000);
  }

  /** `node -e CODE ARGS…` inside the namespace, as root or as `uid` (the proxy's 1337). */
  node(code: string, args: readonly string[], uid?: number): Promise<Out> {
    return this.exec(...asUser(uid, [process.execPath, '-e', code, ...args]));
  }

  /** A long-running `node -e CODE`; resolves once it prints "ready", killed in teardown. */
  async serve(code: string, args: readonly string[], uid?: number): Promise<ChildProcess> {
    const [cmd, rest] = asUser(uid, [process.execPath, '-e', code, ...args]);
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...rest], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.t.teardown(() => void child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`server in ${this.name} exited (${code}): ${err.trim()}`)));
    });
    return child;
  }
}

function asUser(uid: number | undefined, argv: string[]): [string, string[]] {
  if (uid === undefined) return [argv[0], argv.slice(1)];
  return ['setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...argv]];
}

/** Two namespaces joined by a veth pair: `pod` 10.99.0.1/24 and `peer` 10.99.0.2/24. */
export async function podAndPeer(t: ExecutionContext): Promise<{ pod: Netns; peer: Netns }> {
  const pod = await Netns.create(t);
  const peer = await Netns.create(t);
  const tag = randomBytes(3).toString('hex');
  const [a, b] = [`lgp${tag}`, `lgq${tag}`];
  await pod.must('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', peer.name]);
  await pod.must('ip', ['addr', 'add', '10.99.0.1/24', 'dev', a]);
  await pod.must('ip', ['link', 'set', a, 'up']);
  await peer.must('ip', ['addr', 'add', '10.99.0.2/24', 'dev', b]);
  await peer.must('ip', ['link', 'set', b, 'up']);
  return { pod, peer };
}

/** TCP servers that answer each connection with their label: argv[1] is JSON [[port, label], …]. */
export const TCP_SERVERS = `const net = require('net'); const list = JSON.parse(process.argv[1]); let n = 0;
for (const [port, label] of list) net.createServer((s) => s.end(label)).listen(port, '0.0.0.0', () => { if (++n === list.length) console.log('ready'); });`;

/**
 * UDP and TCP servers on one port answering with a label: argv[1] address, argv[2] port,
 * argv[3] label. A DNS proxy behind REDIRECT must bind 127.0.0.1 (as istio-agent does): its
 * UDP replies must leave from the address the query was redirected to, or conntrack cannot
 * translate them back and the app never sees them.
 */
export const DNS_SERVER = `const [addr, port, label] = [process.argv[1], +process.argv[2], process.argv[3]];
const u = require('dgram').createSocket('udp4');
u.on('message', (m, r) => u.send(label, r.port, r.address));
u.bind(port, addr, () => require('net').createServer((s) => s.end(label)).listen(port, addr, () => console.log('ready')));`;

/** Connects to argv[1]:argv[2] (TCP) and prints what it is told, or the error. */
export const TCP_CLIENT = `const s = require('net').connect(+process.argv[2], process.argv[1]); let d = '';
s.on('data', (x) => (d += x)); s.on('end', () => console.log(d)); s.on('error', (e) => console.log('ERR ' + e.code));
s.setTimeout(3000, () => { console.log('TIMEOUT'); s.destroy(); });`;

/** Sends one UDP datagram from a connected socket (replies from elsewhere are dropped) and prints the reply. */
export const UDP_CLIENT = `const s = require('dgram').createSocket('udp4');
s.connect(+process.argv[2], process.argv[1], () => s.send('q'));
s.on('message', (m) => { console.log(String(m)); process.exit(0); }); s.on('error', (e) => { console.log('ERR ' + e.code); process.exit(0); });
setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, 3000);`;
