import type { Netns, UserOptions } from './netns.js';
import { APP_UID } from './clients.js';
import { NODE, programPath } from './programs.js';

export interface RawCase {
  name: string;
  bytes: string | Buffer;
}

export interface RawResult {
  name: string;
  connected: boolean;
  /** What came back (latin1, first 8 KiB). */
  rx: string;
  rxBytes: number;
  /** The peer closed the connection (FIN or reset), not the client's timer. */
  gotEnd: boolean;
  reset: boolean;
  error?: string;
}

/**
 * programs/raw_client in `ns` (as the app, so the capture applies): one connection per case,
 * the bytes written as they are, no half-close, read until the peer closes. One Node start
 * for all cases; results in order.
 */
export async function rawClients(ns: Netns, host: string, port: number, cases: RawCase[], opts: UserOptions & { timeoutMs?: number; parallel?: number; holdMs?: number } = {}): Promise<RawResult[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const input = JSON.stringify(cases.map((c) => ({ name: c.name, data: Buffer.from(c.bytes as string, typeof c.bytes === 'string' ? 'latin1' : undefined).toString('base64') })));
  const argv = [NODE, programPath('raw_client'), '--connect', `${host}:${port}`, '--timeout', String(timeoutMs), '--parallel', String(opts.parallel ?? 8), '--hold-ms', String(opts.holdMs ?? 0)];
  const r = await ns.exec(argv, { uid: opts.uid ?? APP_UID, gid: opts.gid, input, timeoutMs: timeoutMs * Math.ceil(cases.length / (opts.parallel ?? 8)) + 30_000 });
  const results = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as RawResult);
  if (results.length !== cases.length) throw new Error(`raw_client printed ${results.length} of ${cases.length} results: ${r.stdout}\n${r.stderr}`);
  return results;
}

/** The status of the first response in `rx`, or 0. */
export function firstStatus(rx: string): number {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(rx);
  return m ? Number(m[1]) : 0;
}
