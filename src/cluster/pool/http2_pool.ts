import type { Host } from '../host.js';
import { CX, NO_BREAKER, RQ, type Breaker } from '../circuit_breaker.js';
import type { PoolOptions, PoolStats } from './http1_pool.js';
import { H2Connection, type H2ConnectionOwner } from './h2_connection.js';
import type { tlsErrorKind } from '../../tls/upstream.js';
import { H2UpstreamStream } from './h2_upstream_stream.js';
import type { PendingRequest, PoolRequester } from './upstream_request.js';
import { PendingQueue, type PendingQueueOwner } from './pending_queue.js';
import { guardedTimeout } from '../../guarded_timer.js';

/**
 * A worker's HTTP/2 pool to one upstream host, as Envoy's: one session carries many streams
 * (up to maxConcurrentStreams and the peer's SETTINGS), a new session opens when every one is
 * full or going away (GOAWAY, max requests, max duration). Each stream holds a request
 * resource (http2MaxRequests); requests wait in the pending queue while a session connects.
 */
export class Http2Pool implements PendingQueueOwner, H2ConnectionOwner {
  private readonly sessions: H2Connection[] = [];
  private readonly pending: PendingQueue;
  private connecting = 0;
  breaker: Breaker = NO_BREAKER;
  private retired = false;

  constructor(
    readonly host: Host,
    private readonly opts: PoolOptions & { maxConcurrentStreams: number },
    private readonly stats: PoolStats,
  ) {
    this.pending = new PendingQueue(this, stats, opts.connectTimeoutMs);
  }

  acquire(requester: PoolRequester): PendingRequest | undefined {
    const conn = this.withRoom();
    if (conn) {
      this.startStream(conn, requester);
      return undefined;
    }
    const p = this.pending.add(requester);
    if (p && this.connecting === 0) this.open();
    return p;
  }

  cancel(p: PendingRequest): void {
    this.pending.cancel(p);
  }

  /** A connected session that takes another stream. */
  private withRoom(): H2Connection | undefined {
    const max = this.opts.maxConcurrentStreams;
    for (const c of this.sessions) {
      if (c.connected && !c.goingAway && !c.closed && c.active < max && c.active < c.peerMaxStreams) return c;
    }
    return undefined;
  }

  private startStream(conn: H2Connection, requester: PoolRequester): void {
    if (!this.breaker.tryAcquire(RQ)) {
      this.stats.onPendingOverflow();
      requester.onPoolFailure('overflow', false);
      return;
    }
    this.stats.onRequest(1);
    const stream = new H2UpstreamStream(conn);
    conn.track(stream);
    const max = this.opts.maxRequestsPerConnection;
    if (max > 0 && conn.requests >= max) {
      this.stats.onMaxRequests();
      conn.goingAway = true;
    }
    requester.onPoolReady(stream, conn.requests > 1);
  }

  private open(): void {
    if (!this.breaker.tryAcquire(CX)) {
      this.stats.onCxOverflow();
      // Streams cannot wait for another worker's connection to close: the pending requests fail as Envoy's overflow.
      this.pending.failAll('overflow', false);
      return;
    }
    this.connecting++;
    this.sessions.push(new H2Connection(this, this.host.address, this.host.port, this.opts.localAddress, this.opts.connectTimeoutMs, this.opts.tls));
  }

  onTls(result: 'handshake' | ReturnType<typeof tlsErrorKind>): void {
    this.stats.onTls(result);
  }

  onSessionReady(conn: H2Connection): void {
    this.connecting--;
    this.stats.onConnect(true);
    const maxMs = this.opts.maxConnectionDurationMs;
    if (maxMs > 0) {
      conn.durationTimer = guardedTimeout(() => {
        this.stats.onMaxDuration();
        conn.retire();
      }, maxMs, 'an upstream connection\'s max duration', () => conn.destroy());
      conn.durationTimer.unref();
    }
    this.servePending();
  }

  onSessionFailed(_conn: H2Connection, reason: string, timeout: boolean): void {
    this.connecting--;
    this.stats.onConnectFail(timeout);
    this.pending.failAll(reason, timeout);
  }

  onStreamEnded(conn: H2Connection): void {
    this.breaker.release(RQ);
    this.stats.onRequest(-1);
    if (conn.active === 0) {
      if (conn.goingAway || this.retired) conn.retire();
      else if (this.opts.idleTimeoutMs > 0) conn.markIdle(this.opts.idleTimeoutMs);
    }
    this.servePending();
  }

  onSessionClosed(conn: H2Connection): void {
    const i = this.sessions.indexOf(conn);
    if (i >= 0) this.sessions.splice(i, 1);
    this.breaker.release(CX);
    if (conn.connected) this.stats.onClose(conn.session.socket?.bytesWritten ?? 0, conn.session.socket?.bytesRead ?? 0);
    if (this.pending.length > 0 && this.connecting === 0 && !this.retired) this.open();
  }

  /** Waiting requests take the room there is; a new session opens for the rest (all full or going away). */
  private servePending(): void {
    while (this.pending.length > 0) {
      const conn = this.withRoom();
      if (!conn) break;
      this.startStream(conn, this.pending.shift()!.requester);
    }
    if (this.pending.length > 0 && this.connecting === 0) this.open();
  }

  /** Sessions with no stream close now; busy ones after their streams (shutdown, tests). */
  drain(): void {
    for (const c of [...this.sessions]) if (c.active === 0) c.retire();
  }

  /** Host removed: no new streams; sessions close as their streams end. */
  retire(): void {
    this.retired = true;
    for (const c of [...this.sessions]) {
      c.goingAway = true;
      if (c.active === 0) c.retire();
    }
  }
}
