import { connectUpstream, type PoolTls, tlsErrorKind, tlsFailure } from '../../tls/upstream.js';
import type { Host } from '../host.js';
import { CX, NO_BREAKER, RQ, type Breaker } from '../circuit_breaker.js';
import { UpstreamConnection } from './upstream_connection.js';
import { readerSocketOptions, trackReads } from '../../listener/socket_reader.js';

import type { PendingRequest, PoolRequester } from './upstream_request.js';
import { failRequester, PendingQueue, type PendingQueueOwner } from './pending_queue.js';
import { performance } from 'node:perf_hooks';
import { loopNow } from '../../loop_clock.js';
import { guardedTimeout, runGuarded } from '../../guarded_timer.js';

export { UpstreamConnection } from './upstream_connection.js';
export { PendingRequest, type PoolRequester, type UpstreamStreamCallbacks, type UpstreamRequest } from './upstream_request.js';

/** A TCP-level failure keeps its errno code; one during the handshake reads as Envoy's TLS error. */
function tlsFailureReason(err: NodeJS.ErrnoException): string {
  return tlsFailure(`${err.code ?? 'TLS'}:${err.message}`);
}

export interface PoolOptions {
  connectTimeoutMs: number;
  /** 0: unlimited (Istio's default). */
  maxRequestsPerConnection: number;
  /** Envoy's common idle_timeout: 1 h default. */
  idleTimeoutMs: number;
  /** 0: none. A connection older than this is closed once its request finishes. */
  maxConnectionDurationMs: number;
  localAddress?: string;
  /** TLS origination to this host (undefined: plaintext), with the pool's auto SNI name if any. */
  tls?: PoolTls;
}

export interface PoolStats {
  /** `h2`: an HTTP/2 session (upstream_cx_http2_total) rather than an HTTP/1.1 connection. */
  onConnect(h2?: boolean): void;
  onConnectFail(timeout: boolean): void;
  /** A connection that had connected closed, having written and read these many bytes. */
  onClose(txBytes: number, rxBytes: number): void;
  /** No connection could be opened: the cluster is at maxConnections (upstream_cx_overflow). */
  onCxOverflow(): void;
  /** A request refused by maxPendingRequests or maxRequests (upstream_rq_pending_overflow). */
  onPendingOverflow(): void;
  onPending(delta: 1 | -1): void;
  onRequest(delta: 1 | -1): void;
  onMaxRequests(): void;
  /** The upstream broke HTTP framing, or sent bytes no request asked for (upstream_cx_protocol_error). */
  onProtocolError(): void;
  onMaxDuration(): void;
  /** Upstream TLS: a handshake completed, or failed (Envoy's cluster `ssl.*` stats). */
  onTls(result: 'handshake' | ReturnType<typeof tlsErrorKind>): void;
}

/**
 * A worker's pool of HTTP/1.1 connections to one upstream host, as Envoy's HTTP/1 pool: an idle
 * connection (most recently used first) serves a request at once; otherwise the request waits
 * in the pending queue (a pending circuit-breaker resource) while the pool opens connections
 * for it, as many as the cluster's connection breaker allows across all workers. A connection
 * that frees up serves the oldest pending request. Each request on a connection holds a request
 * resource. Pending requests fail after the connect timeout, and all of them when a connect
 * attempt fails (Envoy purges the queue so that retries decide what to do).
 */
export class Http1Pool implements PendingQueueOwner {
  private readonly idle: UpstreamConnection[] = [];
  private readonly pending: PendingQueue;
  /** Connect attempts in flight (each will serve one pending request). */
  private connecting = 0;
  total = 0;
  /** The cluster's breaker under its current config (set by UpstreamPools on every use). */
  breaker: Breaker = NO_BREAKER;
  /** The host left its cluster: connections close as their requests end instead of idling. */
  private retired = false;
  private idleSweep: NodeJS.Timeout | undefined;
  private readonly onCapacity = () => this.connectForPending();
  private readonly onOthersWaiting = () => this.giveUpIdle();

  constructor(
    readonly host: Host,
    private readonly opts: PoolOptions,
    private readonly stats: PoolStats,
  ) {
    this.pending = new PendingQueue(this, stats, opts.connectTimeoutMs);
  }

  /**
   * A connection for one request: `onPoolReady(conn, reused)` or `onPoolFailure(reason, timeout)`, never both,
   * possibly before this returns. Returns the pending entry when the request has to wait.
   */
  acquire(requester: PoolRequester): PendingRequest | undefined {
    while (this.idle.length > 0) {
      const conn = this.idle.pop()!;
      if (conn.closed || conn.socket.destroyed || conn.socket.readableEnded) continue;
      if (this.startRequest(conn)) requester.onPoolReady(conn, true);
      else {
        this.idle.push(conn);
        requester.onPoolFailure('overflow', false);
      }
      return undefined;
    }
    const p = this.pending.add(requester);
    if (p) this.connectForPending();
    return p;
  }

  /** The client went away while its request waited. */
  cancel(p: PendingRequest): void {
    this.pending.cancel(p);
  }

  onPendingEnded(): void {
    // Connect attempts cover every waiting request: stop asking other workers for capacity.
    if (this.pending.length <= this.connecting) this.breaker.cancelWait(this.onCapacity);
  }

  private startRequest(conn: UpstreamConnection): boolean {
    if (!this.breaker.tryAcquire(RQ)) {
      this.stats.onPendingOverflow();
      return false;
    }
    conn.holdsRequest = true;
    this.stats.onRequest(1);
    return true;
  }

  private endRequest(conn: UpstreamConnection): void {
    if (!conn.holdsRequest) return;
    conn.holdsRequest = false;
    this.breaker.release(RQ);
    this.stats.onRequest(-1);
  }

  /** Opens connections for requests no connect attempt covers yet, while the connection breaker allows. */
  private connectForPending(): void {
    while (this.connecting < this.pending.length) {
      if (!this.breaker.tryAcquire(CX)) {
        this.stats.onCxOverflow();
        // Wait for a connection of this cluster to close, here or on another worker.
        this.breaker.waitForConnection(this.onCapacity);
        return;
      }
      this.open();
    }
  }

  /** A new connection; it holds a connection resource until it closes (see forget()). */
  private open(): void {
    const tls = this.opts.tls;
    const up = connectUpstream({ host: this.host.address, port: this.host.port, localAddress: this.opts.localAddress, noDelay: true, ...readerSocketOptions() }, tls, 'http');
    if (typeof up === 'string') {
      // No certificate to connect with: a connect failure that never reached the network.
      this.stats.onTls('connection_error');
      this.stats.onConnectFail(false);
      this.pending.failAll(up, false);
      this.breaker.release(CX);
      return;
    }
    const socket = trackReads(up.socket);
    const conn = new UpstreamConnection(this, socket);
    this.total++;
    this.connecting++;
    const destroy = () => socket.destroy();
    const timer = guardedTimeout(() => {
      this.stats.onConnectFail(true);
      this.connectFailed(conn, 'connection timeout', true);
      socket.destroy();
    }, this.opts.connectTimeoutMs, 'an upstream connect timeout', destroy);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      this.stats.onConnectFail(false);
      if (tls) this.stats.onTls(tlsErrorKind(err));
      this.connectFailed(conn, tls && socket.connecting === false ? tlsFailureReason(err) : (err.code ?? 'connection failure'), false);
    };
    socket.once('error', onError);
    socket.once(up.readyEvent, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      if (tls) this.stats.onTls('handshake');
      this.connecting--;
      conn.connected = true;
      this.stats.onConnect();
      const maxMs = this.opts.maxConnectionDurationMs;
      if (maxMs > 0) {
        conn.durationTimer = guardedTimeout(() => this.onMaxDuration(conn), maxMs, 'an upstream connection\'s max duration', destroy);
        conn.durationTimer.unref();
      }
      runGuarded(() => this.serveOrIdle(conn, false), 'a new upstream connection\'s first request', destroy);
    });
  }

  /** Every waiting request fails with the connect failure: retries (or the client) decide what next. */
  private connectFailed(conn: UpstreamConnection, reason: string, timeout: boolean): void {
    if (conn.connectFailed) return;
    conn.connectFailed = true;
    this.connecting--;
    this.pending.failAll(reason, timeout);
  }

  /** A connection free for a request: the oldest pending request takes it, else it idles. */
  private serveOrIdle(conn: UpstreamConnection, reused: boolean): void {
    for (let p = this.pending.shift(); p; p = this.pending.shift()) {
      if (!this.startRequest(conn)) {
        failRequester(p, 'overflow', false);
        continue;
      }
      const requester = p.requester;
      runGuarded(() => requester.onPoolReady(conn, reused), 'a pooled connection\'s hand-over', () => {
        conn.socket.destroy();
        requester.endAfterThrow();
      });
      return;
    }
    // Pools elsewhere are waiting for this cluster's connection capacity: hand it over.
    if (this.breaker.othersWaiting()) {
      conn.socket.destroy();
      return;
    }
    conn.idleSince = loopNow();
    this.idle.push(conn);
    this.armIdleSweep();
    this.breaker.whenOthersWait(this.onOthersWaiting);
  }

  /** A pool (here or on another worker) waits for the cluster's connection capacity: close an idle connection for it. */
  private giveUpIdle(): void {
    if (this.idle.length === 0) return;
    if (this.breaker.othersWaiting()) this.idle.shift()!.socket.destroy();
    if (this.idle.length > 0) this.breaker.whenOthersWait(this.onOthersWaiting);
  }

  /** A connection of this pool heard the upstream break HTTP/1.1 framing; it is being closed. */
  onProtocolError(): void {
    this.stats.onProtocolError();
  }

  /** The response completed (or the stream gave the connection back unused): reuse it if allowed. */
  release(conn: UpstreamConnection, reusable: boolean): void {
    this.endRequest(conn);
    const max = this.opts.maxRequestsPerConnection;
    if (max > 0 && conn.requests >= max) {
      this.stats.onMaxRequests();
      reusable = false;
    }
    if (!reusable || conn.closed || conn.draining || this.retired) {
      conn.socket.destroy();
      return;
    }
    this.serveOrIdle(conn, true);
  }

  private onMaxDuration(conn: UpstreamConnection): void {
    this.stats.onMaxDuration();
    conn.draining = true;
    // An idle connection goes now; a busy one after its response (release()).
    if (!conn.holdsRequest) conn.socket.destroy();
  }

  /** The connection closed: its request (if any) and its connection resource are given back. */
  forget(conn: UpstreamConnection): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (!conn.connected) this.connectFailed(conn, 'connection termination', false);
    this.total--;
    this.endRequest(conn);
    this.breaker.release(CX);
    if (conn.connected) this.stats.onClose(conn.socket.bytesWritten, conn.socket.bytesRead);
    if (this.pending.length > this.connecting) this.connectForPending();
  }

  /**
   * One timer per pool for the idle timeout rather than one per connection per request: the
   * idle list is in the order connections went idle, so the sweep closes from the front.
   */
  private armIdleSweep(): void {
    const timeout = this.opts.idleTimeoutMs;
    if (this.idleSweep || timeout <= 0 || this.idle.length === 0) return;
    const due = this.idle[0]!.idleSince + timeout - performance.now();
    this.idleSweep = guardedTimeout(() => this.sweepIdle(), Math.max(0, due) + 1, 'the upstream idle sweep', () => this.drain());
    this.idleSweep.unref();
  }

  private sweepIdle(): void {
    this.idleSweep = undefined;
    const expired = performance.now() - this.opts.idleTimeoutMs;
    while (this.idle.length > 0 && this.idle[0]!.idleSince <= expired) this.idle.shift()!.socket.destroy();
    this.armIdleSweep();
  }

  /** Closes idle connections (shutdown, tests); busy ones finish their request and go back to idle. */
  drain(): void {
    for (const conn of this.idle.splice(0)) conn.socket.destroy();
  }

  /** Host removed: idle connections close now, busy ones once their request ends. */
  retire(): void {
    this.retired = true;
    this.drain();
  }
}
