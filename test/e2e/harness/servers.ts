import type { Netns, UserOptions } from './netns.js';
import type { Proc } from './proc.js';
import { NODE, programPath } from './programs.js';

export type TcpMode = 'echo' | 'digest';

export interface AcceptEvent {
  ev: 'accept';
  id: number;
  mode: TcpMode;
  port: number;
  local: string;
  localPort: number;
  peer: string;
  peerPort: number;
}

export interface CloseEvent {
  ev: 'close';
  id: number;
  port: number;
  rx: number;
  tx: number;
  sha256: string;
  gotEnd: boolean;
  error?: string;
}

export interface HttpRequestEvent {
  ev: 'request';
  port: number;
  /** The server's --name. */
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Header lines as received: [name, value, name, value, …]. */
  rawHeaders: string[];
  peer: string;
  peerPort: number;
  bodyBytes: number;
  bodySha256: string;
}

export interface HttpConnectionEvent {
  ev: 'connection';
  port: number;
  peer: string;
  peerPort: number;
}

/** A running test server (programs/tcp_server or http_server) and what it has seen. */
export class TestServer {
  constructor(readonly proc: Proc) {}

  /** Connections accepted so far, optionally on one port. */
  accepts(port?: number): AcceptEvent[] {
    return this.proc.jsonLines<AcceptEvent>().filter((e) => e.ev === 'accept' && (port === undefined || e.port === port));
  }

  /** Connections closed so far, with byte counts and the sha256 of what was received. */
  closes(port?: number): CloseEvent[] {
    return this.proc.jsonLines<CloseEvent>().filter((e) => e.ev === 'close' && (port === undefined || e.port === port));
  }

  requests(port?: number): HttpRequestEvent[] {
    return this.proc.jsonLines<HttpRequestEvent>().filter((e) => e.ev === 'request' && (port === undefined || e.port === port));
  }

  /** Connections an HTTP server accepted so far. */
  connections(port?: number): HttpConnectionEvent[] {
    return this.proc.jsonLines<HttpConnectionEvent>().filter((e) => e.ev === 'connection' && (port === undefined || e.port === port));
  }

  /** Resolves once `n` connections have closed (server side) on `port`. */
  async waitForCloses(n: number, port?: number, timeoutMs = 20_000): Promise<CloseEvent[]> {
    let seen = 0;
    await this.proc.waitForLine((l) => l.includes('"ev":"close"') && (port === undefined || l.includes(`"port":${port},`)) && ++seen >= n, timeoutMs);
    return this.closes(port);
  }
}

async function started(proc: Proc, ports: number[]): Promise<void> {
  for (const port of ports) await proc.waitForLine((l) => l.includes('"ev":"listening"') && l.includes(`"port":${port},`), 30_000);
}

/** Starts programs/tcp_server in `ns` with one listener per entry; resolves when all listen. */
export async function startTcpServer(
  ns: Netns,
  listens: { port: number; mode: TcpMode; host?: string }[],
  user: UserOptions = {},
): Promise<TestServer> {
  const argv = [NODE, programPath('tcp_server')];
  for (const l of listens) argv.push('--listen', `${l.host ?? '0.0.0.0'}:${l.port}:${l.mode}`);
  const proc = ns.spawn(argv, { ...user, label: `${ns.purpose}:tcp_server` });
  await started(proc, listens.map((l) => l.port));
  return new TestServer(proc);
}

/**
 * Starts programs/http_server in `ns` (`name` is echoed in its reports and `x-server-name`);
 * resolves when it listens. See the program for the query parameters that shape its answers.
 */
export async function startHttpServer(ns: Netns, port: number, opts: UserOptions & { host?: string; name?: string; keepAliveMs?: number; idleCloseMs?: number } = {}): Promise<TestServer> {
  const argv = [NODE, programPath('http_server'), '--listen', `${opts.host ?? '0.0.0.0'}:${port}`, ...(opts.name ? ['--name', opts.name] : [])];
  if (opts.keepAliveMs !== undefined) argv.push('--keep-alive-ms', String(opts.keepAliveMs));
  if (opts.idleCloseMs !== undefined) argv.push('--idle-close-ms', String(opts.idleCloseMs));
  const proc = ns.spawn(argv, { ...opts, label: `${ns.purpose}:http_server${opts.name ? `:${opts.name}` : ''}` });
  await started(proc, [port]);
  return new TestServer(proc);
}
