/**
 * HTTP helpers for the sidecar's HTTP e2e tests: a pod with named HTTP upstreams on the remote
 * host, a curl that returns status, headers and the raw body, a raw-bytes client (netcat) for
 * requests curl would never send, and the proxy's access log lines.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { APP_UID } from './clients.js';
import type { Netns, TestContext, UserOptions } from './netns.js';
import { Pod, type ProxyStartOptions } from './pod.js';
import { RemoteHost } from './remote.js';
import type { TestServer } from './servers.js';

export interface HttpResponse {
  /** curl's exit code (0 ok, 7 refused, 28 timeout, 52 empty reply, 56 reset). */
  exitCode: number | null;
  status: number;
  /** Response headers of the final response, names lowercased; repeated names joined with ", ". */
  headers: Record<string, string>;
  /** The final response's header lines as received, without the status line. */
  headerLines: string[];
  body: Buffer;
  text: string;
  sha256: string;
  /** Total time as curl measured it. */
  ms: number;
  stderr: string;
}

/**
 * Real curl in `ns` (as the app uid by default), keeping status, headers and body apart.
 * `args` are more curl arguments (`-H`, `--data-binary`, `-X`, …).
 */
export async function httpRequest(ns: Netns, url: string, opts: { args?: string[]; timeoutS?: number } & UserOptions = {}): Promise<HttpResponse> {
  const dir = mkdtempSync(join(tmpdir(), 'legate-curl-'));
  chmodSync(dir, 0o777);
  try {
    const timeoutS = opts.timeoutS ?? 10;
    const argv = ['curl', '-sS', '--max-time', String(timeoutS), '-D', join(dir, 'h'), '-o', join(dir, 'b'), '-w', '%{http_code} %{time_total}', ...(opts.args ?? []), url];
    const r = await ns.exec(argv, { uid: opts.uid ?? APP_UID, gid: opts.gid, check: false, timeoutMs: timeoutS * 1000 + 5000 });
    const [code, secs] = r.stdout.trim().split(' ');
    const read = (f: string) => {
      try {
        return readFileSync(join(dir, f));
      } catch {
        return Buffer.alloc(0);
      }
    };
    // -D holds every response head (a 100 Continue first, say); the last one is the answer.
    const blocks = read('h').toString('latin1').split(/\r\n\r\n/).filter((b) => b.trim());
    const lines = (blocks[blocks.length - 1] ?? '').split('\r\n').slice(1).filter(Boolean);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    }
    const body = read('b');
    return {
      exitCode: r.code,
      status: Number(code) || 0,
      headers,
      headerLines: lines,
      body,
      text: body.toString('utf8'),
      sha256: createHash('sha256').update(body).digest('hex'),
      ms: Math.round(Number(secs) * 1000),
      stderr: r.stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The JSON report programs/http_server answers with. */
export interface UpstreamReport {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  rawHeaders: string[];
  peer: string;
  peerPort: number;
  bodyBytes: number;
  bodySha256: string;
}

export function report(r: HttpResponse): UpstreamReport {
  try {
    return JSON.parse(r.text) as UpstreamReport;
  } catch {
    throw new Error(`not an upstream report (status ${r.status}, curl exit ${r.exitCode}): ${r.text.slice(0, 500)} ${r.stderr}`);
  }
}

/**
 * Raw bytes to `host:port` with netcat as the app (captured like any app traffic); returns
 * everything the peer sent back before closing. `-N` half-closes after the input, `-w` bounds
 * the wait for the peer.
 */
export async function rawHttp(ns: Netns, host: string, port: number, input: string | Buffer, opts: { waitS?: number } & UserOptions = {}): Promise<string> {
  const r = await ns.exec(['nc', '-N', '-w', String(opts.waitS ?? 3), host, String(port)], {
    uid: opts.uid ?? APP_UID,
    gid: opts.gid,
    input,
    check: false,
    timeoutMs: (opts.waitS ?? 3) * 1000 + 10_000,
  });
  return r.stdout;
}

export interface PodWithHttp {
  pod: Pod;
  remote: RemoteHost;
  /** HTTP servers on the remote host by name. */
  servers: Record<string, TestServer>;
}

/**
 * A remote host running named HTTP servers (programs/http_server), a captured pod, the proxy's
 * config (a function of the remote host, for endpoint addresses) written, the proxy ready.
 */
export async function podWithHttp(
  t: TestContext,
  o: { servers: Record<string, number>; config: (remote: RemoteHost) => string[]; proxy?: ProxyStartOptions },
): Promise<PodWithHttp> {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  const entries = await Promise.all(Object.entries(o.servers).map(async ([name, port]) => [name, await remote.httpServer(port, name)] as const));
  pod.writeConfig(...o.config(remote));
  await pod.startProxy(o.proxy);
  return { pod, remote, servers: Object.fromEntries(entries) };
}

/** The proxy's stdout lines that look like access log entries (text: `[…`, JSON: `{…`). */
export function accessLog(pod: Pod): string[] {
  return (pod.proxy?.stdoutLines ?? []).filter((l) => l.startsWith('[') || l.startsWith('{'));
}
