import { connect, type Socket } from 'node:net';
import { ResponseParser, State, type ResponseHandler, type ResponseHead } from '../../filters/network/http_connection_manager/codec/index.js';
import type { HeaderList } from '../../filters/network/http_connection_manager/codec/index.js';
import type { Host } from '../host.js';
import { readerOf, readerSocketOptions, setReader, trackReads } from '../../listener/socket_reader.js';

/** What a request attempt hears from its upstream connection. */
export interface UpstreamStreamCallbacks {
  onUpstreamInformational(head: ResponseHead): void;
  onUpstreamHead(head: ResponseHead): void;
  onUpstreamBody(chunk: Buffer): void;
  onUpstreamComplete(trailers: HeaderList | null): void;
  /** The connection failed or closed before the response completed. `beforeResponse`: no byte of a response was seen. */
  onUpstreamReset(reason: 'connection_termination' | 'protocol_error' | 'overflow', beforeResponse: boolean, details: string): void;
  /** The upstream can take more request bytes (after a full write). */
  onUpstreamDrain(): void;
  /** One read's bytes have been parsed (a chance to flush what was batched). */
  onUpstreamReadEnd(): void;
}

export interface PoolOptions {
  connectTimeoutMs: number;
  /** 0: unlimited (Istio's default). */
  maxRequestsPerConnection: number;
  /** Envoy's common idle_timeout: 1 h default. */
  idleTimeoutMs: number;
  localAddress?: string;
}

export interface PoolStats {
  onConnect(): void;
  onConnectFail(timeout: boolean): void;
  onClose(conn: UpstreamConnection): void;
}

/**
 * One upstream HTTP/1.1 connection: a socket and a response parser, carrying one request at a
 * time. Response bytes are parsed straight from the socket's buffers and handed to the
 * attached stream; an idle connection that hears anything (or its peer's FIN) is closed, so a
 * request is never written onto a connection the upstream has already given up.
 */
export class UpstreamConnection implements ResponseHandler {
  readonly socket: Socket;
  readonly parser: ResponseParser;
  stream: UpstreamStreamCallbacks | undefined;
  requests = 0;
  /** A response byte has been seen for the current request. */
  responseStarted = false;
  connected = false;
  closed = false;
  /** Whether the current response allows reuse. */
  private reusable = true;
  idleTimer: NodeJS.Timeout | undefined;
  private local: string | undefined;

  constructor(
    readonly pool: Http1Pool,
    socket: Socket,
  ) {
    this.socket = socket;
    this.parser = new ResponseParser(this);
    setReader(socket, (b: Buffer) => this.onData(b));
    socket.on('end', () => this.onEnd());
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.stream?.onUpstreamDrain());
  }

  /** `ip:port` of this end of the connection (Envoy's %UPSTREAM_LOCAL_ADDRESS%). */
  get localAddress(): string {
    return (this.local ??= `${this.socket.localAddress}:${this.socket.localPort}`);
  }

  /** Attaches a stream for one request; the caller then writes the request. */
  attach(stream: UpstreamStreamCallbacks, method: string): void {
    clearTimeout(this.idleTimer);
    this.stream = stream;
    this.requests++;
    this.responseStarted = false;
    this.reusable = true;
    this.parser.expect(method);
  }

  /** Detaches the stream without waiting for its response (reset, timeout): the connection is closed. */
  abort(): void {
    this.stream = undefined;
    this.socket.destroy();
  }

  private onData(b: Buffer): void {
    if (!this.stream) {
      // Bytes on an idle connection: the upstream is out of step with us; never reuse it.
      this.socket.destroy();
      return;
    }
    this.responseStarted = true;
    let off = 0;
    while (off < b.length && this.stream) {
      off = this.parser.execute(b, off);
      if (this.parser.error) {
        const s = this.stream;
        this.stream = undefined;
        this.socket.destroy();
        s?.onUpstreamReset('protocol_error', false, this.parser.error.details ?? 'protocol error');
        return;
      }
    }
    // A 101 handed the socket to a tunnel: the bytes after the head are the tunnel's.
    if (off < b.length && this.parser.state === State.Upgraded) readerOf(this.socket)?.(b.subarray(off));
    this.stream?.onUpstreamReadEnd();
  }

  onInformational(head: ResponseHead): void {
    this.stream?.onUpstreamInformational(head);
  }

  onResponseHead(head: ResponseHead): void {
    this.reusable = head.keepAlive && !head.upgrade && !head.bodyUntilClose;
    this.stream?.onUpstreamHead(head);
  }

  onBody(chunk: Buffer): void {
    this.stream?.onUpstreamBody(chunk);
  }

  onMessageComplete(trailers: HeaderList | null): void {
    const s = this.stream;
    this.stream = undefined;
    // Back in the pool before the stream hears of it: the stream may start the next
    // (pipelined) request at once, and that request should find this warm connection.
    this.pool.release(this, this.reusable);
    s?.onUpstreamComplete(trailers);
  }

  private onEnd(): void {
    if (this.stream) {
      // A read-until-close body ends here; anything else is a reset.
      const err = this.parser.finish();
      if (!err) return;
    }
    this.socket.destroy();
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.pool.forget(this);
    const s = this.stream;
    this.stream = undefined;
    s?.onUpstreamReset('connection_termination', !this.responseStarted, 'connection termination');
  }
}

/**
 * A worker's pool of HTTP/1.1 connections to one upstream host: idle connections reused
 * most-recently-used first (warm sockets, fewer idle timers firing), new ones opened on demand.
 */
export class Http1Pool {
  private readonly idle: UpstreamConnection[] = [];
  total = 0;
  /** The host left its cluster: connections close as their requests end instead of idling. */
  private draining = false;

  constructor(
    readonly host: Host,
    private readonly opts: PoolOptions,
    private readonly stats: PoolStats,
  ) {}

  /** A connection ready for a request: `ready(conn, reused)` or `failed(reason)`, never both. */
  acquire(ready: (conn: UpstreamConnection, reused: boolean) => void, failed: (reason: string, timeout: boolean) => void): void {
    while (this.idle.length > 0) {
      const conn = this.idle.pop()!;
      if (conn.closed || conn.socket.destroyed || conn.socket.readableEnded) continue;
      ready(conn, true);
      return;
    }
    const socket = trackReads(connect({ host: this.host.address, port: this.host.port, localAddress: this.opts.localAddress, noDelay: true, ...readerSocketOptions() }));
    const conn = new UpstreamConnection(this, socket);
    this.total++;
    const timer = setTimeout(() => {
      this.stats.onConnectFail(true);
      socket.destroy();
      failed('connection timeout', true);
    }, this.opts.connectTimeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      this.stats.onConnectFail(false);
      failed(err.code ?? 'connection failure', false);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      conn.connected = true;
      this.stats.onConnect();
      ready(conn, false);
    });
  }

  /** The response completed: keep the connection for the next request if it can be reused. */
  release(conn: UpstreamConnection, reusable: boolean): void {
    const max = this.opts.maxRequestsPerConnection;
    if (!reusable || conn.closed || this.draining || (max > 0 && conn.requests >= max)) {
      conn.socket.destroy();
      return;
    }
    this.idle.push(conn);
    if (this.opts.idleTimeoutMs > 0) {
      conn.idleTimer = setTimeout(() => conn.socket.destroy(), this.opts.idleTimeoutMs);
      conn.idleTimer.unref();
    }
  }

  forget(conn: UpstreamConnection): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.total--;
    this.stats.onClose(conn);
  }

  /** Closes idle connections (shutdown, tests); busy ones finish their request and go back to idle. */
  drain(): void {
    for (const conn of this.idle.splice(0)) conn.socket.destroy();
  }

  /** Host removed: idle connections close now, busy ones once their request ends. */
  retire(): void {
    this.draining = true;
    for (const conn of this.idle.splice(0)) conn.socket.destroy();
  }
}
