import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePorts } from './servers.js';

export const BIN = join(process.cwd(), 'bin', 'legate.js');

export interface ProxyPorts {
  outbound: number;
  inbound: number;
  admin: number;
  readiness: number;
  /** pilot-agent's status port (merged metrics, app probes). */
  status: number;
  prometheus: number;
}

export interface RunningProxy {
  child: ChildProcess;
  ports: ProxyPorts;
  /** The admin port (ports.admin). */
  admin: number;
  /** stdout and stderr so far (the log). */
  log: () => string;
  dump(query?: string): Promise<any>;
  waitFor(pred: (dump: any) => boolean, ms?: number): Promise<any>;
  stop(): Promise<void>;
}

/**
 * Starts `legate proxy <role>` on loopback, on free ports, as a child process (no network
 * namespace: for tests that need the real process but not capture; see test/e2e for those).
 */
export async function startProxy(
  role: 'sidecar' | 'router',
  config: string[],
  opts: { concurrency?: number; args?: string[]; env?: Record<string, string> } = {},
): Promise<RunningProxy> {
  const [outbound, inbound, admin, readiness, prometheus, status] = await freePorts(6);
  const args = [BIN, 'proxy', role, ...config.flatMap((c) => ['--config', c]), '--concurrency', String(opts.concurrency ?? 2), '--outbound-port', String(outbound),
    '--inbound-port', String(inbound), '--admin-port', String(admin), '--readiness-port', String(readiness), '--prometheus-port', String(prometheus),
    '--status-port', String(status), ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, { env: { ...process.env, LEGATE_LOG_LEVEL: 'info', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const dump = async (query = '') => {
    const res = await fetch(`http://127.0.0.1:${admin}/config_dump${query}`);
    return res.json();
  };
  const waitFor = async (pred: (d: any) => boolean, ms = 10_000) => {
    const until = Date.now() + ms;
    let last: any;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`proxy exited (${child.exitCode}):\n${output}`);
      try {
        last = await dump();
        if (pred(last)) return last;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`condition not met within ${ms} ms; last config_dump legate block: ${JSON.stringify(last?.legate)}\n${output}`);
  };
  const stop = async () => {
    // Killed by a signal, a child has no exit code but a signal code: a second stop() must not wait for an 'exit' already emitted.
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  };
  return { child, ports: { outbound, inbound, admin, readiness, prometheus, status }, admin, log: () => output, dump, waitFor, stop };
}
