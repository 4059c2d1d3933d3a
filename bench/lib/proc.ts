import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';

/** Child processes the harness started, so that every exit path stops them (by pid). */
const children = new Set<ChildProcess>();

export interface Started {
  child: ChildProcess;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Spawns `argv`, logging to `logFile` (or discarding output). */
export function start(argv: string[], opts: { logFile?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Started {
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', out, out], env: opts.env ?? process.env, cwd: opts.cwd });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      children.delete(child);
      resolve(-1);
    });
  });
  const stop = async (graceMs = 2000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { child, pid: child.pid ?? -1, stop, exited };
}

/** Kills every child still running (exit paths and signals). */
export function killAllChildren(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}

/** Runs a command to completion and returns its stdout (throws on failure). */
export function runCapture(argv: string[], opts: { timeoutMs?: number } = {}): string {
  return execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20 }).toString();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retries `probe` until it resolves true or the deadline passes; `what` names it in the error. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000, exited?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void exited?.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error(`${what}: the process exited while starting (see its log)`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** True when a TCP connection to host:port is accepted. */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.setTimeout(500, () => (s.destroy(), resolve(false)));
  });
}

/** A process and its descendants (nginx master + workers, a Node cluster). */
function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may contain spaces and parentheses; fields resume after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
    } catch {
      /* gone */
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parent) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** CPU seconds a process tree has used so far, in user space and in the kernel. */
export function treeCpuSeconds(pid: number): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      user += Number(f[11]); // utime
      system += Number(f[12]); // stime
    } catch {
      /* gone */
    }
  }
  return { user: user / 100, system: system / 100 }; // USER_HZ
}

function statusKb(pid: number, file: 'status' | 'smaps_rollup', key: string): number {
  try {
    const m = readFileSync(`/proc/${pid}/${file}`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Memory of a process tree in MB: RSS summed (counts shared pages once per process) and PSS (shares them). */
export function treeMemoryMB(pid: number): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const p of processTree(pid)) {
    rss += statusKb(p, 'status', 'VmRSS');
    pss += statusKb(p, 'smaps_rollup', 'Pss');
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

/**
 * A sampler of a process tree's RSS in MB, cheap enough to call while a latency load runs in
 * the same event loop: the tree is found once, and each call reads only `status` (about 0.04 ms).
 * treeMemoryMB scans /proc and reads `smaps_rollup`, a walk of the page tables under the
 * process's mmap lock: 4–6 ms for a Node process, about 3 ms for HAProxy. Every 250 ms that
 * stalled the load generator and set the p99 of every target that had a pid, but not of the
 * direct one.
 */
export function treeRssSampler(pid: number): () => number {
  const tree = processTree(pid);
  return () => {
    let kb = 0;
    for (const p of tree) kb += statusKb(p, 'status', 'VmRSS');
    return kb / 1024;
  };
}
