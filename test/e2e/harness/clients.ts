import type { Netns, UserOptions } from './netns.js';
import type { Proc } from './proc.js';
import { NODE, programPath } from './programs.js';

/** The uid/gid the harness runs "the application" as: anything but the proxy's 1337. */
export const APP_UID = 1000;

export interface TcpClientResult {
  connected: boolean;
  error?: string;
  local?: string;
  localPort?: number;
  sent: number;
  sentSha256: string;
  rx: number;
  rxSha256: string;
  /** The first 4 KiB received, as UTF-8. */
  rxHead: string;
  /** The peer ended its side cleanly (FIN), as opposed to a reset or a timeout. */
  gotEnd: boolean;
  ms: number;
}

/**
 * programs/tcp_client in `ns` (as the app uid by default): connect, send `send` random bytes,
 * half-close (unless halfClose is false), read until the peer is done.
 */
export async function tcpClient(
  ns: Netns,
  opts: { host: string; port: number; send?: number; halfClose?: boolean; timeoutMs?: number } & UserOptions,
): Promise<TcpClientResult> {
  const argv = [NODE, programPath('tcp_client'), '--connect', `${opts.host}:${opts.port}`, '--send', String(opts.send ?? 0), '--timeout', String(opts.timeoutMs ?? 15_000)];
  if (opts.halfClose === false) argv.push('--no-half-close');
  const r = await ns.exec(argv, { uid: opts.uid ?? APP_UID, gid: opts.gid, timeoutMs: (opts.timeoutMs ?? 15_000) + 5_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as TcpClientResult;
  } catch {
    throw new Error(`tcp_client printed no result: ${r.stdout}\n${r.stderr}`);
  }
}

/** A long-running programs/tcp_client --ping: one "ping N" line every `everyMs` to an echo server. */
export function pingClient(ns: Netns, opts: { host: string; port: number; everyMs: number; timeoutMs?: number } & UserOptions): Proc {
  return ns.spawn(
    [NODE, programPath('tcp_client'), '--connect', `${opts.host}:${opts.port}`, '--ping', String(opts.everyMs), '--timeout', String(opts.timeoutMs ?? 15_000)],
    { uid: opts.uid ?? APP_UID, gid: opts.gid, label: `${ns.purpose}:ping_client` },
  );
}

export interface CurlResult {
  /** curl's exit code (0 ok, 7 refused, 52 empty reply, 56 reset, 28 timeout, …). */
  exitCode: number | null;
  status: number;
  body: string;
}

/** Real curl in `ns` (as the app uid by default). */
export async function curl(ns: Netns, url: string, opts: { args?: string[]; timeoutS?: number } & UserOptions = {}): Promise<CurlResult> {
  const argv = ['curl', '-sS', '--max-time', String(opts.timeoutS ?? 5), '-o', '-', '-w', '\n%{http_code}', ...(opts.args ?? []), url];
  const r = await ns.exec(argv, { uid: opts.uid ?? APP_UID, gid: opts.gid, check: false, timeoutMs: (opts.timeoutS ?? 5) * 1000 + 5000 });
  const cut = r.stdout.lastIndexOf('\n');
  return { exitCode: r.code, status: Number(r.stdout.slice(cut + 1)) || 0, body: r.stdout.slice(0, cut) };
}
