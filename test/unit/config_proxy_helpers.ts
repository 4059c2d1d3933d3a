import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

export const BIN = join(process.cwd(), 'bin', 'legate.js');

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface RunningProxy {
  child: ChildProcess;
  admin: number;
  log: () => string;
  dump(query?: string): Promise<any>;
  waitFor(pred: (dump: any) => boolean, ms?: number): Promise<any>;
  stop(): Promise<void>;
}

/** Starts `legate proxy <role>` on free ports and waits for its admin endpoint. */
export async function startProxy(role: 'sidecar' | 'router', config: string[], opts: { env?: Record<string, string> } = {}): Promise<RunningProxy> {
  const [outbound, inbound, admin, ready, prom] = await freePorts(5);
  const args = [BIN, 'proxy', role, ...config.flatMap((c) => ['--config', c]), '--concurrency', '2', '--outbound-port', String(outbound), '--inbound-port', String(inbound), '--admin-port', String(admin), '--readiness-port', String(ready), '--prometheus-port', String(prom)];
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
    if (child.exitCode !== null) return;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  };
  return { child, admin, log: () => output, dump, waitFor, stop };
}

/** Does a TCP connect to 127.0.0.1:port succeed? */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
