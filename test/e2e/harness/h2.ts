/**
 * HTTP/2 and gRPC helpers for e2e tests: an h2c server and a gRPC server (programs/h2_server,
 * programs/grpc_server), the gRPC client program, and h2load (nghttp2-client) as the app.
 */
import { APP_UID } from './clients.js';
import type { Netns, UserOptions } from './netns.js';
import type { Proc } from './proc.js';
import { NODE, programPath } from './programs.js';
import { TestServer } from './servers.js';

async function listening(proc: Proc, port: number): Promise<void> {
  await proc.waitForLine((l) => l.includes('"ev":"listening"') && l.includes(`"port":${port}`), 30_000);
}

/** programs/h2_server on `port` (h2c); `sessions()` counts the HTTP/2 sessions it accepted. */
export async function startH2Server(ns: Netns, port: number, name = 'h2'): Promise<TestServer & { sessions(): number }> {
  const proc = ns.spawn([NODE, programPath('h2_server'), '--listen', `0.0.0.0:${port}`, '--name', name], { label: `${ns.purpose}:h2_server:${name}` });
  await listening(proc, port);
  const s = new TestServer(proc) as TestServer & { sessions(): number };
  s.sessions = () => proc.jsonLines<{ ev: string }>().filter((e) => e.ev === 'session').length;
  return s;
}

/** programs/grpc_server (test.Echo) on `port`; `failWith`: every unary call fails with that status. */
export async function startGrpcServer(ns: Netns, port: number, name = 'echo', failWith?: number): Promise<Proc> {
  const argv = [NODE, programPath('grpc_server'), '--listen', `0.0.0.0:${port}`, '--name', name];
  if (failWith !== undefined) argv.push('--fail', String(failWith));
  const proc = ns.spawn(argv, { label: `${ns.purpose}:grpc_server:${name}` });
  await listening(proc, port);
  return proc;
}

export interface GrpcResult {
  kind: string;
  code: number;
  details?: string;
  text?: string;
}

/** programs/grpc_client as the app: `all` (one call of each kind) or `unary` (`count` calls). */
export async function grpcCalls(
  ns: Netns,
  target: string,
  opts: { authority?: string; mode?: 'all' | 'unary'; msg?: Record<string, unknown>; count?: number } & UserOptions = {},
): Promise<GrpcResult[]> {
  const argv = [NODE, programPath('grpc_client'), '--target', target, '--mode', opts.mode ?? 'all', '--msg', JSON.stringify(opts.msg ?? { text: 'hi' }), '--count', String(opts.count ?? 1)];
  if (opts.authority) argv.push('--authority', opts.authority);
  const r = await ns.exec(argv, { uid: opts.uid ?? APP_UID, gid: opts.gid, check: false, timeoutMs: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return (JSON.parse(line) as { results: GrpcResult[] }).results;
  } catch {
    throw new Error(`grpc_client printed no result: ${r.stdout} ${r.stderr}`);
  }
}

export interface H2loadSummary {
  requests: number;
  succeeded: number;
  failed: number;
  errored: number;
  status2xx: number;
  output: string;
}

/** h2load (nghttp2-client) as the app: `n` requests over `c` connections, `m` streams each. */
export async function h2load(ns: Netns, url: string, opts: { n: number; c: number; m: number; extra?: string[] } & UserOptions): Promise<H2loadSummary> {
  const r = await ns.exec(['h2load', '-n', String(opts.n), '-c', String(opts.c), '-m', String(opts.m), ...(opts.extra ?? []), url], { uid: opts.uid ?? APP_UID, gid: opts.gid, check: false, timeoutMs: 120_000 });
  const out = r.stdout;
  const req = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const codes = /status codes: (\d+) 2xx/.exec(out);
  if (!req || !codes) throw new Error(`h2load output not understood (exit ${r.code}): ${out} ${r.stderr}`);
  return { requests: Number(req[1]), succeeded: Number(req[2]), failed: Number(req[3]), errored: Number(req[4]), status2xx: Number(codes[1]), output: out };
}
