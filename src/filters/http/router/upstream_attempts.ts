import type { Route, RouteAction } from '../../../config/model.js';
import { guardedTimeout } from '../../../guarded_timer.js';
import type { PendingRequest, PoolRequester, UpstreamRequest, UpstreamStreamCallbacks } from '../../../cluster/pool/upstream_request.js';
import { BodyFraming } from '../../../cluster/pool/upstream_request.js';
import type { Host } from '../../../cluster/host.js';
import { HS } from '../../../cluster/host_shared.js';
import { LocalOrigin } from '../../../cluster/outlier/monitor.js';
import type { ThreadLocalCluster } from '../../../cluster/thread_local_cluster.js';
import { C } from '../../../stats/scopes.js';
import { RetryState } from './route_action.js';
import type { Hash64 } from '../../../cluster/lb/xxhash64.js';
import { mirrorRequest } from './mirror.js';
import type { HeaderList, RequestHead } from '../../network/http_connection_manager/codec/index.js';
import { getHeader } from '../../network/http_connection_manager/codec/headers.js';
import { usesServerName } from '../../../cluster/pool/server_name_pools.js';
import type { HttpContext } from '../../network/http_connection_manager/http_context.js';
import { connectFailure, LOCAL_REPLIES, type LocalReply } from '../../network/http_connection_manager/local_reply.js';
import { Flag, StreamInfo } from '../../network/http_connection_manager/stream_info.js';
import type { Downstream } from '../../network/http_connection_manager/downstream.js';
import { GrpcStatus } from '../grpc/grpc.js';
import { streamIdle, type IdleWatched } from '../../network/http_connection_manager/stream_idle.js';
import { loopNow } from '../../../loop_clock.js';

/**
 * Request bodies up to this size are kept so that a retry can resend them: Envoy's retry/shadow
 * buffer limit, which is the connection buffer limit (per_connection_buffer_limit_bytes, 1 MiB
 * by default and in Istio's sidecar listeners). Past it, the request is not retried.
 */
const RETRY_BUFFER_LIMIT = 1024 * 1024;
const PREVIOUS_HOSTS = 'envoy.retry_host_predicates.previous_hosts';

/**
 * Envoy's router, request side: one request's attempts (host pick, pool, request sent through
 * an UpstreamRequest of either protocol), its retries, per-try and route timeouts. The response
 * side is UpstreamResponse (upstream_response.ts), the downstream side ActiveStream: one object
 * per request, layered by inheritance so that no extra object is made per request.
 */
export abstract class UpstreamAttempts implements PoolRequester, IdleWatched {
  readonly info: StreamInfo;
  requestComplete = false;
  responseComplete = false;
  protected route: Route | undefined;
  protected action: RouteAction | undefined;
  protected clusterName = '';
  protected clusterStats: number | undefined;
  protected tlc: ThreadLocalCluster | undefined;
  /** The host of the attempt in flight: counted in its activeRequests (LEAST_REQUEST) and rq_active until the attempt ends (endAttempt). */
  protected attemptHost: Host | undefined;
  /** The host of the latest attempt, and those of earlier ones once a retry happens (previous_hosts). */
  private lastHost: Host | undefined;
  private triedHosts: Host[] | undefined;
  protected upstream: UpstreamRequest | undefined;
  /** The attempt waits in its pool's pending queue for a connection. */
  private pendingRequest: PendingRequest | undefined;
  /** Request body kept for retries (and until an upstream connection is ready); null once too large. */
  private body: Buffer[] | null = [];
  private bodyBytes = 0;
  private bodySent = false;
  private requestTrailers: HeaderList | null = null;
  protected responseHeadSent = false;
  protected retry: RetryState | undefined;
  /** When the router had the whole request (0: not yet). */
  protected requestCompleteAt = 0;
  /** When the current attempt started: Envoy's upstream_rq_time runs from here to the response's end. */
  protected attemptStartAt = 0;
  protected routeTimer: NodeJS.Timeout | undefined;
  protected tryTimer: NodeJS.Timeout | undefined;
  protected backoffTimer: NodeJS.Timeout | undefined;
  /** Envoy's stream_idle_timeout (stream_idle.ts): the deadline moves on every byte either way. */
  idleAt = 0;
  idleMs = 0;
  idlePrev: IdleWatched | null = null;
  idleNext: IdleWatched | null = null;
  protected authority = '';
  protected path = '';
  protected headers: HeaderList;
  protected done = false;
  protected finished = false;
  private mirrored = false;
  /** The current attempt runs on a kept-alive connection (a reset before any response is then safe to resend once). */
  protected reusedConnection = false;
  /** The consistent-hash key (RING_HASH / MAGLEV clusters), and a generated cookie to return. */
  protected hash: Hash64 | undefined;
  protected setCookie: string | undefined;
  /** A gRPC request (content-type application/grpc*): local replies are answered as gRPC. */
  protected grpc = false;
  /** The route timeout in force (a gRPC request's grpc-timeout may set it). */
  protected timeoutMs = 0;

  constructor(
    protected readonly conn: Downstream,
    protected readonly ctx: HttpContext,
    readonly head: RequestHead,
  ) {
    this.info = new StreamInfo(conn.localAddress, conn.remoteAddress);
    this.info.tls = ctx.tls;
    this.headers = head.headers;
  }

  abstract localReply(reply: LocalReply, grpcStatus?: number): void;
  abstract onStreamIdle(): void;
  protected abstract resetDownstream(flag: number): void;
  protected abstract callbacks(): UpstreamStreamCallbacks;

  // ---- attempts ----------------------------------------------------------------------------

  protected startAttempt(): void {
    if (this.done) return;
    const ctx = this.ctx;
    const cluster = ctx.cluster(this.clusterName)!;
    this.endAttempt();
    let host = cluster.tlc.chooseHost(ctx.originalDst, this.hash);
    const policy = this.action?.retryPolicy;
    if (this.info.attempts > 0 && this.lastHost && policy?.retryHostPredicate.includes(PREVIOUS_HOSTS)) {
      // A retry under Envoy's previous_hosts predicate (Istio sets it, with 5 reselections): a
      // host not tried yet when the cluster has one.
      const tried = (this.triedHosts ??= []);
      tried.push(this.lastHost);
      for (let i = 0; i < policy.hostSelectionRetryMaxAttempts && host && tried.includes(host); i++) host = cluster.tlc.chooseHost(ctx.originalDst, this.hash) ?? host;
    }
    if (!host) {
      // Envoy's cluster manager counts the failed host pick, HTTP or TCP alike.
      if (this.clusterStats !== undefined) ctx.stats.inc(this.clusterStats + C.upstream_cx_none_healthy);
      return this.localReply(LOCAL_REPLIES.noHealthyUpstream);
    }
    host.activeRequests++;
    this.attemptHost = host;
    this.lastHost = host;
    this.info.attempts++;
    this.attemptStartAt = loopNow();
    this.info.upstreamHost = host.key;
    if (this.clusterStats !== undefined) ctx.stats.inc(this.clusterStats + C.upstream_rq_total);
    ctx.hostStats[host.statBase + HS.rq_total]++;
    ctx.hostStats[host.statBase + HS.rq_active]++;
    // Auto SNI clusters pick their pool by the (rewritten) Host; others skip the header lookup.
    const authority = usesServerName(cluster.config) ? getHeader(this.headers, 'host') : undefined;
    const pool = ctx.pools.get(cluster.config, this.clusterStats, host, cluster.breaker, this.conn.protocol === 'HTTP/2' && !this.head.upgrade, authority);
    this.pendingRequest = pool.acquire(this);
  }

  onPoolReady(up: UpstreamRequest, reused: boolean): void {
    this.pendingRequest = undefined;
    if (this.done) {
      up.releaseUnused();
      return;
    }
    this.upstream = up;
    this.info.upstreamLocalAddress = up.localAddress;
    if (!reused && this.attemptHost) this.tlc!.outlier?.putLocalOrigin(this.attemptHost.slot, LocalOrigin.ConnectSuccess);
    this.reusedConnection = reused;
    const h = this.headers;
    this.retry!.stampAttempt(h, this.info.attempts);
    const head = this.head;
    const framing = head.chunked ? BodyFraming.UntilEnd : head.contentLength > 0 ? BodyFraming.Length : BodyFraming.None;
    this.bodySent = true;
    up.sendHeaders(this.callbacks(), head.method, this.path, h, framing);
    if (framing !== BodyFraming.None) {
      if (this.body) for (const chunk of this.body) this.writeUpstreamBody(chunk);
      if (this.requestComplete) up.sendEnd(this.requestTrailers);
    }
    this.maybeMirror();
    const perTry = this.action?.retryPolicy?.perTryTimeoutMs;
    if (perTry) this.tryTimer = this.streamTimer(() => this.onTryTimeout(), perTry);
  }

  /** A request body chunk the stream owns (a copy): kept for retries while small enough, and sent on. */
  protected routeData(chunk: Buffer): void {
    if (this.body !== null) {
      this.body.push(chunk);
      this.bodyBytes += chunk.length;
    }
    if (this.upstream && this.bodySent) this.writeUpstreamBody(chunk);
    // Past the retry buffer, a body that is already flowing upstream is no longer kept.
    if (this.body !== null && this.bodyBytes > RETRY_BUFFER_LIMIT && this.bodySent) {
      this.body = null;
    }
    if (!this.upstream && this.bodyBytes > RETRY_BUFFER_LIMIT) this.conn.pauseReading();
  }

  protected routeEnd(trailers: HeaderList | null): void {
    this.requestTrailers = trailers;
    const head = this.head;
    if (this.upstream && this.bodySent && (head.chunked || head.contentLength > 0)) this.upstream.sendEnd(trailers);
    this.maybeMirror();
    // The router's view of the request ends once routing started (not while a fault delay holds it).
    if (this.retry) this.routerRequestComplete();
  }

  /** Once the request is complete and routed: shadow copies (content-length or body-less requests). */
  private maybeMirror(): void {
    const policies = this.action?.requestMirrorPolicies;
    if (this.mirrored || !policies || policies.length === 0 || !this.requestComplete || !this.bodySent || this.head.chunked) return;
    this.mirrored = true;
    mirrorRequest(this.ctx, policies, this.head.method, this.path, this.headers, this.authority, this.body);
  }

  private writeUpstreamBody(chunk: Buffer): void {
    if (!this.upstream!.sendData(chunk)) this.conn.pauseReading();
  }

  onUpstreamDrain(): void {
    this.conn.resumeReading();
  }

  onPoolFailure(reason: string, timeout: boolean): void {
    this.pendingRequest = undefined;
    if (this.done) return;
    // A circuit breaker refused: answered at once and never retried (Envoy); not the host's fault.
    if (reason === 'overflow') return this.localReply(LOCAL_REPLIES.overflow);
    this.hostFailure(LocalOrigin.ConnectFailed);
    this.endAttempt();
    const failure = connectFailure(reason, timeout, this.info.attempts > 1);
    this.info.upstreamTransportFailureReason = failure.transportFailureReason;
    if (this.retry!.shouldRetryConnectFailure() && this.canResend()) return this.scheduleRetry();
    this.retryRefused();
    this.localReply(failure);
  }

  /** A retry needs the whole request body still in hand. */
  protected canResend(): boolean {
    return this.body !== null && (this.requestComplete || this.bodyBytes <= RETRY_BUFFER_LIMIT);
  }

  /** The same request again on a fresh connection, at once (a kept-alive connection lost as we wrote). */
  protected resendNow(): void {
    this.reusedConnection = false;
    this.bodySent = false;
    this.startAttempt();
  }

  protected scheduleRetry(): void {
    if (this.clusterStats !== undefined) this.ctx.stats.inc(this.clusterStats + C.upstream_rq_retry);
    this.endAttempt();
    this.bodySent = false;
    this.upstream = undefined;
    clearTimeout(this.tryTimer);
    this.backoffTimer = this.streamTimer(() => {
      this.retry!.releaseRetry();
      this.startAttempt();
    }, this.retry!.nextBackoffMs());
  }

  /** No retry for a failure the policy covers: the retries ran out (URX) or the retry breaker refused (UO). */
  protected retryRefused(): void {
    const r = this.retry!;
    if (r.limitExceeded) this.info.flags |= Flag.URX;
    if (r.overflowed) {
      r.overflowed = false;
      this.info.flags |= Flag.UO;
      if (this.clusterStats !== undefined) this.ctx.stats.inc(this.clusterStats + C.upstream_rq_retry_overflow);
    }
  }

  private onTryTimeout(): void {
    if (this.responseHeadSent || this.done) return;
    if (this.clusterStats !== undefined) this.ctx.stats.inc(this.clusterStats + C.upstream_rq_per_try_timeout);
    this.hostFailure(LocalOrigin.Timeout);
    this.upstream?.abort();
    this.upstream = undefined;
    if (this.retry!.shouldRetryTimeout() && this.canResend()) return this.scheduleRetry();
    this.retryRefused();
    this.info.flags |= Flag.UT;
    this.localReply(LOCAL_REPLIES.timeout, GrpcStatus.DEADLINE_EXCEEDED);
  }

  /**
   * Envoy's router onRequestComplete: the whole request has passed the filters. The route
   * timeout starts here, and so does x-envoy-upstream-service-time (across every attempt).
   */
  protected routerRequestComplete(): void {
    if (this.requestCompleteAt === 0) this.requestCompleteAt = loopNow();
    this.startRouteTimer();
  }

  /**
   * A call into this stream threw (a bug) outside a read: end it, and only it (guarded_timer.ts).
   * Its upstream request is cancelled here, not left to the client's close: the throw may have
   * been in the handling of that close.
   */
  endAfterThrow(): void {
    this.cancelUpstream();
    this.conn.resetStream();
  }

  /** A timer of this stream (guarded_timer.ts): a throw from `fn` (a bug) ends this stream only. */
  protected streamTimer(fn: () => void, ms: number): NodeJS.Timeout {
    return guardedTimeout(fn, ms, 'a stream timer', () => this.endAfterThrow());
  }

  private startRouteTimer(): void {
    const ms = this.timeoutMs;
    if (ms > 0 && !this.routeTimer && !this.done) {
      this.routeTimer = this.streamTimer(() => {
        if (this.clusterStats !== undefined) this.ctx.stats.inc(this.clusterStats + C.upstream_rq_timeout);
        this.hostFailure(LocalOrigin.Timeout);
        this.upstream?.abort();
        this.upstream = undefined;
        if (this.responseHeadSent) return this.resetDownstream(Flag.UT);
        this.localReply(LOCAL_REPLIES.timeout, GrpcStatus.DEADLINE_EXCEEDED);
      }, ms);
    }
  }

  /**
   * A locally originated failure of the attempt in flight: the host's rq_error (and rq_timeout),
   * and outlier detection (Envoy's router reports resets and failed connections as
   * LocalOriginConnectFailed, timeouts as LocalOriginTimeout).
   */
  protected hostFailure(result: LocalOrigin): void {
    const host = this.attemptHost;
    if (!host) return;
    this.ctx.hostStats[host.statBase + HS.rq_error]++;
    if (result === LocalOrigin.Timeout) this.ctx.hostStats[host.statBase + HS.rq_timeout]++;
    this.tlc!.outlier?.putLocalOrigin(host.slot, result);
  }

  /** The attempt in flight is over (answered, failed, retried or cancelled). */
  protected endAttempt(): void {
    const host = this.attemptHost;
    if (!host) return;
    this.attemptHost = undefined;
    host.activeRequests--;
    this.ctx.hostStats[host.statBase + HS.rq_active]--;
  }

  protected cancelUpstream(): void {
    streamIdle.unwatch(this);
    this.endAttempt();
    clearTimeout(this.tryTimer);
    clearTimeout(this.routeTimer);
    clearTimeout(this.backoffTimer);
    this.retry?.releaseRetry();
    this.pendingRequest?.cancel();
    this.pendingRequest = undefined;
    if (this.upstream) {
      this.upstream.abort();
      this.upstream = undefined;
    }
  }
}
