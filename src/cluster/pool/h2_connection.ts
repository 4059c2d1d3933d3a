import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { Socket } from 'node:net';
import { connectUpstream, tlsErrorKind, tlsFailure, type PoolTls } from '../../tls/upstream.js';
import type { H2UpstreamStream } from './h2_upstream_stream.js';
import { performance } from 'node:perf_hooks';
import { guardedTimeout, nothingToEnd, runGuarded } from '../../guarded_timer.js';

/** What a session tells its pool. */
export interface H2ConnectionOwner {
  onSessionReady(conn: H2Connection): void;
  onSessionFailed(conn: H2Connection, reason: string, timeout: boolean): void;
  /** A stream ended: the session has room again (or is done, when going away). */
  onStreamEnded(conn: H2Connection): void;
  onSessionClosed(conn: H2Connection): void;
  /** Upstream TLS: a handshake completed, or failed (the cluster's `ssl.*` stats). */
  onTls(result: 'handshake' | ReturnType<typeof tlsErrorKind>): void;
}

/**
 * One upstream HTTP/2 session — h2c (prior knowledge), or h2 over TLS (ALPN) when the cluster
 * originates TLS — the streams it carries, and whether it still takes new ones (not after
 * GOAWAY, max requests, or max connection duration).
 */
export class H2Connection {
  readonly session: ClientHttp2Session;
  readonly authority: string;
  /** Streams open (or handed out and not yet opened). */
  active = 0;
  /** Streams started over the session's life (max_requests_per_connection). */
  requests = 0;
  connected = false;
  closed = false;
  /** No new streams: GOAWAY received, or retired by the pool. */
  goingAway = false;
  private idleSince = 0;
  /** One timer per session for the idle timeout, refreshed (not re-created) each time it goes idle. */
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly streams = new Set<H2UpstreamStream>();
  private local: string | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  durationTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly owner: H2ConnectionOwner,
    host: string,
    port: number,
    localAddress: string | undefined,
    connectTimeoutMs: number,
    tls: PoolTls | undefined,
  ) {
    this.authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const up = connectUpstream({ host, port, localAddress, noDelay: true }, tls, 'h2');
    // TLS that cannot start (no certificate): a socket that never connects, failed at once.
    const socket = typeof up === 'string' ? new Socket() : up.socket;
    this.session = h2connect(`${tls ? 'https' : 'http'}://${this.authority}`, { createConnection: () => socket, settings: { enablePush: false } });
    this.connectTimer = guardedTimeout(() => this.fail('connection timeout', true), connectTimeoutMs, 'an upstream h2 connect timeout', () => this.destroy());
    if (typeof up === 'string') {
      queueMicrotask(() => this.fail(up, false));
      return;
    }
    if (tls) socket.once('secureConnect', () => owner.onTls('handshake'));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const handshake = tls !== undefined && socket.connecting === false;
      if (handshake) owner.onTls(tlsErrorKind(err));
      this.fail(handshake ? tlsFailure(`${err.code ?? 'TLS'}:${err.message}`) : (err.code ?? 'connection failure'), false);
    });
    this.session.once('connect', () => {
      clearTimeout(this.connectTimer);
      this.connected = true;
      runGuarded(() => owner.onSessionReady(this), 'a new upstream h2 session\'s first requests', () => this.destroy());
    });
    this.session.on('goaway', () => (this.goingAway = true));
    this.session.on('error', () => {});
    this.session.once('close', () => {
      this.closed = true;
      clearTimeout(this.connectTimer);
      clearTimeout(this.durationTimer);
      clearTimeout(this.idleTimer);
      runGuarded(() => {
        if (!this.connected) this.fail('connection termination', false);
        owner.onSessionClosed(this);
      }, 'an upstream h2 session close\'s handling', nothingToEnd);
    });
  }

  get localAddress(): string {
    return (this.local ??= `${this.session.socket?.localAddress}:${this.session.socket?.localPort}`);
  }

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (nghttp2 assumes unlimited until it is heard). */
  get peerMaxStreams(): number {
    return this.session.remoteSettings?.maxConcurrentStreams ?? 0xffffffff;
  }

  private failed = false;
  private fail(reason: string, timeout: boolean): void {
    if (this.connected || this.failed) return;
    this.failed = true;
    clearTimeout(this.connectTimer);
    this.owner.onSessionFailed(this, reason, timeout);
    this.session.destroy();
  }

  track(stream: H2UpstreamStream): void {
    this.streams.add(stream);
    this.active++;
    this.requests++;
  }

  streamEnded(stream: H2UpstreamStream): void {
    if (!this.streams.delete(stream)) return;
    this.active--;
    this.owner.onStreamEnded(this);
  }

  /** The last stream ended: the session closes after `timeoutMs` without a new one (Envoy's idle_timeout). */
  markIdle(timeoutMs: number): void {
    this.idleSince = performance.now();
    if (this.idleTimer) return void this.idleTimer.refresh();
    this.idleTimer = guardedTimeout(() => {
      if (this.active === 0 && performance.now() - this.idleSince >= timeoutMs - 1) this.retire();
    }, timeoutMs, 'an upstream h2 idle timeout', () => this.destroy());
    this.idleTimer.unref();
  }

  /** Closes the session now, streams in flight and all (what a failure in its own timers leaves). */
  destroy(): void {
    this.session.destroy();
  }

  /** No new streams; closes once the streams in flight end (GOAWAY to the upstream). */
  retire(): void {
    this.goingAway = true;
    if (!this.session.closed) this.session.close();
  }
}
