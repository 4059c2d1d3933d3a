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
import { eventually } from './proc.js';

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
 * everything the peer sent back before closing. `-N` half-closes after the input (unless
 * `halfClose` is false: then the peer must close, or `-w` idle seconds pass).
 */
export async function rawHttp(ns: Netns, host: string, port: number, input: string | Buffer, opts: { waitS?: number; halfClose?: boolean } & UserOptions = {}): Promise<string> {
  const r = await ns.exec(['nc', ...(opts.halfClose === false ? [] : ['-N']), '-w', String(opts.waitS ?? 3), host, String(port)], {
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
 * config (a function of the remote host, for endpoint addresses) written, the proxy ready —
 * with one worker unless `proxy.concurrency` says otherwise (faster to start; tests about
 * summing over workers ask for two).
 */
export async function podWithHttp(
  t: TestContext,
  o: { servers: Record<string, number>; config: (remote: RemoteHost) => string[]; proxy?: ProxyStartOptions },
): Promise<PodWithHttp> {
  const remote = await RemoteHost.create(t);
  const pod = await Pod.create(t, { remote });
  const entries = await Promise.all(Object.entries(o.servers).map(async ([name, port]) => [name, await remote.httpServer(port, name)] as const));
  pod.writeConfig(...o.config(remote));
  await pod.startProxy({ concurrency: 1, ...o.proxy });
  return { pod, remote, servers: Object.fromEntries(entries) };
}

/** The proxy's stdout lines that look like access log entries (text: `[…`, JSON: `{…`). */
export function accessLog(pod: Pod): string[] {
  return (pod.proxy?.stdoutLines ?? []).filter((l) => l.startsWith('[') || l.startsWith('{'));
}

/** One access log entry under Istio's JSON key names (text lines are parsed into the same shape, `-` as null). */
export interface AccessLogEntry {
  start_time: string;
  method: string | null;
  path: string | null;
  protocol: string | null;
  response_code: number;
  response_flags: string | null;
  response_code_details: string | null;
  connection_termination_details: string | null;
  upstream_transport_failure_reason: string | null;
  bytes_received: number;
  bytes_sent: number;
  duration: number;
  upstream_service_time: string | null;
  x_forwarded_for: string | null;
  user_agent: string | null;
  request_id: string | null;
  authority: string | null;
  upstream_host: string | null;
  upstream_cluster: string | null;
  upstream_local_address: string | null;
  downstream_local_address: string | null;
  downstream_remote_address: string | null;
  requested_server_name: string | null;
  route_name: string | null;
}

/**
 * Istio's default TEXT format (MeshConfig accessLogFormat unset):
 * [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
 * "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
 * %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 * "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW%
 * %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
 * %REQUESTED_SERVER_NAME% %ROUTE_NAME%
 */
const TEXT_LINE =
  /^\[(\S+)\] "(\S+) (\S+) (\S+)" (\d+) (\S+) (\S+) (\S+) "([^"]*)" (\d+) (\d+) (\d+) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$/;

/** Parses one text access log line; undefined when it does not have Istio's default shape. */
export function parseAccessLogText(line: string): AccessLogEntry | undefined {
  const m = TEXT_LINE.exec(line);
  if (!m) return undefined;
  const s = (i: number) => (m[i] === '-' ? null : m[i]);
  return {
    start_time: m[1], method: s(2), path: s(3), protocol: s(4), response_code: Number(m[5]), response_flags: s(6),
    response_code_details: s(7), connection_termination_details: s(8), upstream_transport_failure_reason: s(9),
    bytes_received: Number(m[10]), bytes_sent: Number(m[11]), duration: Number(m[12]), upstream_service_time: s(13),
    x_forwarded_for: s(14), user_agent: s(15), request_id: s(16), authority: s(17), upstream_host: s(18),
    upstream_cluster: s(19), upstream_local_address: s(20), downstream_local_address: s(21),
    downstream_remote_address: s(22), requested_server_name: s(23), route_name: s(24),
  };
}

/** The proxy's access log entries so far (text or JSON lines on its stdout). */
export function accessLogEntries(pod: Pod): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  for (const l of accessLog(pod)) {
    const e = l.startsWith('{') ? (JSON.parse(l) as AccessLogEntry) : parseAccessLogText(l);
    if (!e) throw new Error(`access log line not in Istio's default format: ${l}`);
    out.push(e);
  }
  return out;
}

/** Waits for the access log entry of request id `id` (lines are written asynchronously, per worker). */
export async function accessLogEntry(pod: Pod, id: string, timeoutMs = 5000): Promise<AccessLogEntry> {
  return eventually(`access log entry for request ${id}`, () => accessLogEntries(pod).find((e) => e.request_id === id), timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\naccess log so far:\n${accessLog(pod).join('\n')}`);
  });
}
