import type { Netns, UserOptions } from './netns.js';
import type { Proc } from './proc.js';
import { NODE, programPath } from './programs.js';

/** The uid/gid the harness runs "the application" as: anything but the proxy's 1337. */
export const APP_UID = 1000;

export interface TcpClientResult {
  /** Index in the `sends` list (tcpClients). */
  i: number;
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

export interface TcpClientOptions extends UserOptions {
  host: string;
  port: number;
  /** Shut down writing after sending (default true). */
  halfClose?: boolean;
  /** Per connection; default 15 s. */
  timeoutMs?: number;
}

/**
 * programs/tcp_client in `ns` (as the app uid by default): connect, send `send` random bytes,
 * half-close (unless halfClose is false), read until the peer is done.
 */
export async function tcpClient(ns: Netns, opts: TcpClientOptions & { send?: number }): Promise<TcpClientResult> {
  return (await tcpClients(ns, { ...opts, sends: [opts.send ?? 0] }))[0];
}

/**
 * Several connections at once from one client process (one Node start, however many
 * connections): one per entry of `sends`, each sending that many bytes. Results in order.
 */
export async function tcpClients(ns: Netns, opts: TcpClientOptions & { sends: number[] }): Promise<TcpClientResult[]> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const argv = [NODE, programPath('tcp_client'), '--connect', `${opts.host}:${opts.port}`, '--send', opts.sends.join(','), '--timeout', String(timeoutMs)];
  if (opts.halfClose === false) argv.push('--no-half-close');
  // Generous: on a loaded machine starting Node alone can take seconds.
  const r = await ns.exec(argv, { uid: opts.uid ?? APP_UID, gid: opts.gid, timeoutMs: timeoutMs + 20_000 });
  const results = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TcpClientResult);
  if (results.length !== opts.sends.length) throw new Error(`tcp_client printed ${results.length} of ${opts.sends.length} results: ${r.stdout}\n${r.stderr}`);
  return results;
}

/** A long-running programs/tcp_client --ping: one "ping N" line every `everyMs` to an echo server. */
export function pingClient(ns: Netns, opts: { host: string; port: number; everyMs: number; timeoutMs?: number } & UserOptions): Proc {
  return ns.spawn(
    [NODE, programPath('tcp_client'), '--connect', `${opts.host}:${opts.port}`, '--ping', String(opts.everyMs), '--timeout', String(opts.timeoutMs ?? 15_000)],
    { uid: opts.uid ?? APP_UID, gid: opts.gid, label: `${ns.purpose}:ping_client` },
  );
}

export interface TrafficSummary {
  ev: 'summary';
  ok: number;
  failed: number;
  resets: number;
  mismatches: number;
  longLivedRounds: number;
  errors: Record<string, number>;
}

/**
 * Continuous traffic to an echo server (programs/traffic_client, as the app uid by default):
 * `parallel` loops of short connections plus two long-lived ones, until `stop()`, which
 * resolves to the summary (connections failed, reset, with wrong bytes; rounds completed).
 */
export async function trafficClient(
  ns: Netns,
  opts: { host: string; port: number; parallel?: number } & UserOptions,
): Promise<{ proc: Proc; stop(): Promise<TrafficSummary> }> {
  const proc = ns.spawn([NODE, programPath('traffic_client'), '--connect', `${opts.host}:${opts.port}`, '--parallel', String(opts.parallel ?? 8)], {
    uid: opts.uid ?? APP_UID,
    gid: opts.gid,
    label: `${ns.purpose}:traffic_client`,
  });
  await proc.waitForLine((l) => l.includes('"ev":"started"'), 30_000);
  return {
    proc,
    async stop() {
      await proc.stop('SIGTERM', 15_000);
      const summary = proc.jsonLines<TrafficSummary>().find((e) => e.ev === 'summary');
      if (!summary) throw new Error(`traffic_client printed no summary\n${proc.describe()}`);
      return summary;
    },
  };
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
