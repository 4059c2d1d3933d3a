import type { Route, RouteAction } from '../../../config/model.js';
import type { PendingRequest, PoolRequester, UpstreamConnection, UpstreamStreamCallbacks } from '../../../cluster/pool/http1_pool.js';
import type { Host } from '../../../cluster/host.js';
import { HS } from '../../../cluster/host_shared.js';
import { LocalOrigin } from '../../../cluster/outlier/monitor.js';
import type { ThreadLocalCluster } from '../../../cluster/thread_local_cluster.js';
import { C, H } from '../../../stats/scopes.js';
import { CompiledRouteConfiguration, type RouteRequest } from '../../http/router/route_table.js';
import { chooseCluster, RetryState } from '../../http/router/route_action.js';
import { requestHash } from '../../http/router/hash_policy.js';
import { isHashPolicy } from '../../../cluster/lb/policy.js';
import type { Hash64 } from '../../../cluster/lb/xxhash64.js';
import { applyFault } from '../../http/fault/fault.js';
import { mirrorRequest } from '../../http/router/mirror.js';
import { corsDecision } from '../../http/cors/cors.js';
import { propagateTraceContext } from '../../http/tracing/trace_context.js';
import {
  encodeChunk, getHeader, lastChunk, LAST_CHUNK, removeHeader, encodeRequestHead, encodeResponseHead, setHeader, stripHopByHop,
  STATUS_REASONS, TargetForm, type HeaderList, type RequestHead, type ResponseHead,
} from './codec/index.js';
import { httpDate } from './date.js';
import { mutateRequest, mutateResponse } from './header_mutation.js';
import type { HttpContext } from './http_context.js';
import { connectFailure, encodeLocalReply, LOCAL_REPLIES, upstreamReset, type LocalReply } from './local_reply.js';
import { Flag, StreamInfo } from './stream_info.js';
import { normalizePath } from './path.js';
import { newRequestId } from './request_id.js';
import type { HttpConnectionManager } from './connection_manager.js';
import { recordStreamEnd } from './stream_stats.js';

/**
 * Request bodies up to this size are kept so that a retry can resend them: Envoy's retry/shadow
 * buffer limit, which is the connection buffer limit (per_connection_buffer_limit_bytes, 1 MiB
 * by default and in Istio's sidecar listeners). Past it, the request is not retried.
 */
const RETRY_BUFFER_LIMIT = 1024 * 1024;
const PREVIOUS_HOSTS = 'envoy.retry_host_predicates.previous_hosts';

/**
 * One request/response exchange on a downstream HTTP/1.1 connection: route, filters (fault),
 * router (pool, retries, timeouts), and the response written back. Decoding (request) and
 * encoding (response) progress independently; the connection moves on when both are done.
 */
export class ActiveStream implements UpstreamStreamCallbacks, PoolRequester {
  readonly info: StreamInfo;
  requestComplete = false;
  responseComplete = false;
  private route: Route | undefined;
  private action: RouteAction | undefined;
  private clusterName = '';
  private clusterStats: number | undefined;
  private tlc: ThreadLocalCluster | undefined;
  /** The host of the attempt in flight: counted in its activeRequests (LEAST_REQUEST) and rq_active until the attempt ends (endAttempt). */
  private attemptHost: Host | undefined;
  /** The host of the latest attempt, and those of earlier ones once a retry happens (previous_hosts). */
  private lastHost: Host | undefined;
  private triedHosts: Host[] | undefined;
  private upstream: UpstreamConnection | undefined;
  /** The attempt waits in its pool's pending queue for a connection. */
  private pendingRequest: PendingRequest | undefined;
  /** Request body kept for retries (and until an upstream connection is ready); null once too large. */
  private body: Buffer[] | null = [];
  private bodyBytes = 0;
  private bodySent = false;
  private upstreamChunked = false;
  private downstreamChunked = false;
  private responseHeadSent = false;
  private retry: RetryState | undefined;
  /** When the router had the whole request (0: not yet). */
  private requestCompleteAt = 0;
  /** When the current attempt started: Envoy's upstream_rq_time runs from here to the response's end. */
  private attemptStartAt = 0;
  private routeTimer: NodeJS.Timeout | undefined;
  private tryTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** Envoy's stream_idle_timeout: refreshed (not re-created) on every byte either way. */
  private idleTimer: NodeJS.Timeout | undefined;
  private authority = '';
  private path = '';
  private headers: HeaderList;
  private done = false;
  private finished = false;
  /** A response head waiting to be written together with the first body bytes. */
  private pendingHead: Buffer | undefined;
  private mirrored = false;
  /** CORS headers for the response to an allowed origin. */
  private corsHeaders: string[] | undefined;
  /** The current attempt runs on a kept-alive connection (a reset before any response is then safe to resend once). */
  private reusedConnection = false;
  /** The consistent-hash key (RING_HASH / MAGLEV clusters), and a generated cookie to return. */
  private hash: Hash64 | undefined;
  private setCookie: string | undefined;

  constructor(
    private readonly conn: HttpConnectionManager,
    private readonly ctx: HttpContext,
    readonly head: RequestHead,
  ) {
    this.info = new StreamInfo(conn.localAddress, conn.remoteAddress);
    this.headers = head.headers;
  }

  // ---- decoding (downstream request) -------------------------------------------------------

  decodeHeaders(): void {
    const { head, info, ctx } = this;
    const h = this.headers;
    info.method = head.method;
    info.protocol = head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    const idleMs = ctx.filter.streamIdleTimeoutMs;
    if (idleMs > 0) this.idleTimer = setTimeout(() => this.onStreamIdle(), idleMs);
    if (ctx.httpStats !== undefined) {
      ctx.stats.inc(ctx.httpStats + H.downstream_rq_total);
      ctx.stats.inc(ctx.httpStats + H.downstream_rq_active);
    }
    // Envoy refuses HTTP/1.0 unless told otherwise (Istio does not tell it).
    if (head.versionMinor === 0) return this.localReply(LOCAL_REPLIES.http10);
    let target = head.target;
    let authority = getHeader(h, 'host');
    if (head.targetForm === TargetForm.Absolute) {
      const url = new URL(target);
      authority = url.host;
      target = url.pathname + url.search;
      setHeader(h, 'host', authority);
    }
    if (!authority) return this.localReply(LOCAL_REPLIES.missingHost);
    if (head.targetForm !== TargetForm.Origin && head.targetForm !== TargetForm.Absolute) return this.localReply(LOCAL_REPLIES.noRoute);
    const q = target.indexOf('?');
    let path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : target.slice(q + 1);
    if (ctx.filter.normalizePath) {
      const normalized = normalizePath(path);
      if (normalized === undefined) return this.localReply({ status: 400, body: '', details: 'path_normalization_failed', flag: Flag.DPE });
      path = normalized;
    }
    this.path = q < 0 ? path : `${path}?${query}`;
    this.authority = authority;
    info.authority = authority;
    info.path = this.path;
    info.userAgent = getHeader(h, 'user-agent');
    info.forwardedFor = getHeader(h, 'x-forwarded-for');
    let requestId = getHeader(h, 'x-request-id');
    if (!requestId) h.push('x-request-id', (requestId = newRequestId()));
    info.requestId = requestId;
    propagateTraceContext(h);
    // The scheme the client used: https once TLS was terminated here (Envoy's x-forwarded-proto).
    if (!getHeader(h, 'x-forwarded-proto')) h.push('x-forwarded-proto', ctx.tls ? 'https' : 'http');
    if (head.expectContinue) {
      // Envoy answers 100-continue itself and does not forward the expectation.
      this.conn.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
      removeHeader(h, 'expect');
    }

    const routes = ctx.routes;
    const host = (ctx.filter.stripAnyHostPort ? stripPort(authority) : authority).toLowerCase();
    const vh = routes?.virtualHost(host);
    const req: RouteRequest = { method: head.method, path, query, authority, scheme: 'http', headers: h };
    const route = vh && CompiledRouteConfiguration.route(vh, req);
    if (!route) {
      if (ctx.httpStats !== undefined) ctx.stats.inc(ctx.httpStats + H.no_route);
      return this.localReply(LOCAL_REPLIES.noRoute);
    }
    this.route = route;
    info.routeName = route.name;
    if (route.directResponse) {
      if (ctx.httpStats !== undefined) ctx.stats.inc(ctx.httpStats + H.rq_direct_response);
      return this.localReply({ status: route.directResponse.status, body: route.directResponse.body ?? '', details: 'direct_response', flag: 0 });
    }
    if (route.redirect) return this.redirect(route);
    const cors = corsDecision(route.cors, head.method, h);
    if (cors.kind === 'preflight') return this.localReply({ status: 200, body: '', details: 'cors_response', flag: 0, headers: cors.headers });
    if (cors.kind === 'response') this.corsHeaders = cors.headers;
    const action = route.route!;
    this.action = action;
    const fault = applyFault(route.fault, h);
    if (fault.abort) {
      return this.localReply({ status: fault.abort, body: 'fault filter abort', details: 'fault_filter_abort', flag: Flag.FI });
    }
    const proceed = () => this.startRouting(vh.vh.includeRequestAttemptCount);
    if (fault.delayMs > 0) {
      this.info.flags |= Flag.DI;
      this.backoffTimer = setTimeout(proceed, fault.delayMs);
    } else proceed();
  }

  decodeData(chunk: Buffer): void {
    this.info.bytesReceived += chunk.length;
    this.idleTimer?.refresh();
    if (this.done) return;
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

  decodeComplete(trailers: HeaderList | null): void {
    this.requestComplete = true;
    if (this.done) {
      if (this.finished) this.conn.streamDone(this);
      return;
    }
    if (this.upstream && this.bodySent && this.upstreamChunked) this.upstream.socket.write(lastChunk(trailers));
    this.maybeMirror();
    // The router's view of the request ends once routing started (not while a fault delay holds it).
    if (this.retry) this.routerRequestComplete();
    if (this.responseComplete) this.finish();
  }

  // ---- routing -----------------------------------------------------------------------------

  private startRouting(attemptCountHeader: boolean): void {
    const action = this.action!;
    const target = chooseCluster(action);
    const ctx = this.ctx;
    const cluster = ctx.cluster(target.name);
    this.clusterName = target.name;
    this.info.upstreamCluster = target.name;
    if (!cluster) {
      if (ctx.httpStats !== undefined) ctx.stats.inc(ctx.httpStats + H.no_cluster);
      return this.localReply(LOCAL_REPLIES.clusterNotFound);
    }
    this.clusterStats = cluster.statsBase;
    this.tlc = cluster.tlc;
    const h = this.headers;
    if (action.hashPolicy.length > 0 && isHashPolicy(cluster.config)) {
      const q = this.path.indexOf('?');
      const conn = this.conn;
      const r = requestHash(action.hashPolicy, { headers: h, query: q < 0 ? '' : this.path.slice(q + 1), remoteAddress: conn.remoteAddress, localAddress: conn.localAddress });
      this.hash = r.hash;
      this.setCookie = r.setCookie;
    }
    mutateRequest(h, this.route, target.mutations);
    if (action.hostRewriteLiteral) setHeader(h, 'host', action.hostRewriteLiteral);
    if (action.prefixRewrite !== undefined || action.regexRewrite) {
      // Envoy's router tells the upstream what the path was before the rewrite.
      setHeader(h, 'x-envoy-original-path', this.path);
      this.path = rewritePath(this.path, this.route!, action);
    }
    stripHopByHop(h, { keepUpgrade: this.head.upgrade });
    if (this.head.upgrade) setHeader(h, 'connection', 'upgrade');
    this.retry = new RetryState(action.retryPolicy, attemptCountHeader, cluster.breaker);
    if (this.requestComplete) this.routerRequestComplete();
    this.startAttempt();
  }

  private startAttempt(): void {
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
    this.attemptStartAt = performance.now();
    this.info.upstreamHost = host.key;
    if (this.clusterStats !== undefined) ctx.stats.inc(this.clusterStats + C.upstream_rq_total);
    ctx.hostStats[host.statBase + HS.rq_total]++;
    ctx.hostStats[host.statBase + HS.rq_active]++;
    const pool = ctx.pools.get(cluster.config, this.clusterStats, host, cluster.breaker);
    this.pendingRequest = pool.acquire(this);
  }

  onPoolReady(conn: UpstreamConnection, reused: boolean): void {
    this.pendingRequest = undefined;
    if (this.done) {
      conn.pool.release(conn, true);
      return;
    }
    this.upstream = conn;
    this.info.upstreamLocalAddress = conn.localAddress;
    if (!reused && this.attemptHost) this.tlc!.outlier?.putLocalOrigin(this.attemptHost.slot, LocalOrigin.ConnectSuccess);
    conn.attach(this, this.head.method);
    this.reusedConnection = reused;
    const h = this.headers;
    this.retry!.stampAttempt(h, this.info.attempts);
    const hasBody = this.head.chunked || this.head.contentLength > 0;
    this.upstreamChunked = this.head.chunked;
    if (this.upstreamChunked) h.push('transfer-encoding', 'chunked');
    const sock = conn.socket;
    const head = encodeRequestHead(this.head.method, this.path, h);
    if (this.upstreamChunked) h.length -= 2;
    this.bodySent = true;
    if (!hasBody) sock.write(head);
    else {
      sock.cork();
      sock.write(head);
      if (this.body) for (const chunk of this.body) this.writeUpstreamBody(chunk);
      if (this.requestComplete && this.upstreamChunked) sock.write(LAST_CHUNK);
      process.nextTick(uncork, sock);
    }
    this.maybeMirror();
    const perTry = this.action?.retryPolicy?.perTryTimeoutMs;
    if (perTry) this.tryTimer = setTimeout(() => this.onTryTimeout(), perTry);
  }

  /** Once the request is complete and routed: shadow copies (content-length or body-less requests). */
  private maybeMirror(): void {
    const policies = this.action?.requestMirrorPolicies;
    if (this.mirrored || !policies || policies.length === 0 || !this.requestComplete || !this.bodySent || this.head.chunked) return;
    this.mirrored = true;
    mirrorRequest(this.ctx, policies, this.head.method, this.path, this.headers, this.authority, this.body);
  }

  private writeUpstreamBody(chunk: Buffer): void {
    const sock = this.upstream!.socket;
    const ok = sock.write(this.upstreamChunked ? encodeChunk(chunk) : chunk);
    if (!ok) this.conn.pauseReading();
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
  private canResend(): boolean {
    return this.body !== null && (this.requestComplete || this.bodyBytes <= RETRY_BUFFER_LIMIT);
  }

  private scheduleRetry(): void {
    if (this.clusterStats !== undefined) this.ctx.stats.inc(this.clusterStats + C.upstream_rq_retry);
    this.endAttempt();
    this.bodySent = false;
    this.upstream = undefined;
    clearTimeout(this.tryTimer);
    this.backoffTimer = setTimeout(() => {
      this.retry!.releaseRetry();
      this.startAttempt();
    }, this.retry!.nextBackoffMs());
  }

  /** No retry for a failure the policy covers: the retries ran out (URX) or the retry breaker refused (UO). */
  private retryRefused(): void {
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
    this.localReply(LOCAL_REPLIES.timeout);
  }

  /**
   * Envoy's router onRequestComplete: the whole request has passed the filters. The route
   * timeout starts here, and so does x-envoy-upstream-service-time (across every attempt).
   */
  private routerRequestComplete(): void {
    if (this.requestCompleteAt === 0) this.requestCompleteAt = performance.now();
    this.startRouteTimer();
  }

  private startRouteTimer(): void {
    const ms = this.action?.timeoutMs ?? 0;
    if (ms > 0 && !this.routeTimer && !this.done) {
      this.routeTimer = setTimeout(() => {
        if (this.clusterStats !== undefined) this.ctx.stats.inc(this.clusterStats + C.upstream_rq_timeout);
        this.hostFailure(LocalOrigin.Timeout);
        this.upstream?.abort();
        this.upstream = undefined;
        if (this.responseHeadSent) return this.resetDownstream(Flag.UT);
        this.localReply(LOCAL_REPLIES.timeout);
      }, ms);
    }
  }

  // ---- encoding (upstream response) --------------------------------------------------------

  onUpstreamInformational(_head: ResponseHead): void {
    // 100 Continue was answered locally; other 1xx are not forwarded over HTTP/1.1.
  }

  onUpstreamHead(head: ResponseHead): void {
    clearTimeout(this.tryTimer);
    if (this.done) return;
    this.idleTimer?.refresh();
    const s = head.status;
    const host = this.attemptHost;
    if (host) {
      this.ctx.hostStats[host.statBase + (s >= 500 ? HS.rq_error : HS.rq_success)]++;
      this.tlc!.outlier?.putHttpStatus(host.slot, s);
    }
    if (!head.upgrade && this.retry!.shouldRetryStatus(s) && this.canResend()) {
      this.upstream?.abort();
      return this.scheduleRetry();
    }
    this.retryRefused();
    // Envoy sends it only for a complete request (not for an early answer to a request still arriving).
    const serviceMs = this.requestCompleteAt > 0 ? Math.round(performance.now() - this.requestCompleteAt) : undefined;
    this.info.upstreamServiceTimeMs = serviceMs;
    this.info.responseCode = s;
    this.info.details = 'via_upstream';
    const h = head.headers;
    stripHopByHop(h, { keepUpgrade: head.upgrade });
    mutateResponse(h, this.route, undefined);
    if (this.corsHeaders) h.push(...this.corsHeaders);
    if (serviceMs !== undefined) h.push('x-envoy-upstream-service-time', String(serviceMs));
    if (this.setCookie !== undefined) h.push('set-cookie', this.setCookie);
    setHeader(h, 'server', 'legate');
    const noBody = this.head.method === 'HEAD' || s === 204 || s === 304 || head.upgrade;
    this.downstreamChunked = !noBody && (head.chunked || head.bodyUntilClose);
    if (this.downstreamChunked) h.push('transfer-encoding', 'chunked');
    if (head.upgrade) h.push('connection', 'upgrade');
    else if (this.conn.shouldClose(this.head)) h.push('connection', 'close');
    const encoded = encodeResponseHead(s, head.reason || STATUS_REASONS[s], h);
    this.responseHeadSent = true;
    this.countResponse(s);
    if (head.upgrade) {
      clearTimeout(this.idleTimer);
      // The request is over (rq_active), but the tunnel keeps loading its host (LEAST_REQUEST) until it closes.
      const host = this.attemptHost;
      if (host) {
        host.activeRequests++;
        this.upstream!.socket.once('close', () => host.activeRequests--);
      }
      this.endAttempt();
      this.conn.write(encoded);
      return this.conn.tunnel(this.upstream!);
    }
    // Held until the body's first bytes (usually parsed from the same read) so that head and
    // body leave in one write; flushed at the end of the read otherwise.
    this.pendingHead = encoded;
  }

  onUpstreamBody(chunk: Buffer): void {
    if (this.done) return;
    this.idleTimer?.refresh();
    this.info.bytesSent += chunk.length;
    // `chunk` lies in the thread's read buffer (src/listener/socket_reader.ts): whatever is written is a copy.
    const data = this.downstreamChunked ? encodeChunk(chunk) : chunk;
    let ok: boolean;
    const head = this.pendingHead;
    if (head !== undefined) {
      this.pendingHead = undefined;
      const out = Buffer.allocUnsafe(head.length + data.length);
      head.copy(out, 0);
      data.copy(out, head.length);
      ok = this.conn.write(out);
    } else ok = this.conn.write(this.downstreamChunked ? data : Buffer.from(data)); // the read buffer is reused: copy
    if (!ok && this.upstream) {
      const up = this.upstream.socket;
      up.pause();
      this.conn.onceDrain(() => up.resume());
    }
  }

  /** The end of one upstream read: a response head still held is written now. */
  onUpstreamReadEnd(): void {
    this.flushHead();
  }

  private flushHead(): void {
    const head = this.pendingHead;
    if (head !== undefined) {
      this.pendingHead = undefined;
      this.conn.write(head);
    }
  }

  onUpstreamComplete(trailers: HeaderList | null): void {
    clearTimeout(this.tryTimer);
    if (this.done) return;
    this.flushHead();
    if (this.downstreamChunked) this.conn.write(lastChunk(trailers));
    this.upstream = undefined;
    this.endAttempt();
    this.responseComplete = true;
    if (this.clusterStats !== undefined) {
      this.ctx.stats.inc(this.clusterStats + C.upstream_rq_completed);
      this.ctx.stats.record(this.clusterStats + C.upstream_rq_time, Math.floor(performance.now() - this.attemptStartAt));
    }
    // Envoy: a retried request whose answer the policy would not retry again; an answer that only
    // stands because the retries ran out (URX) is no success.
    if (this.retry && this.info.attempts > 1 && !this.retry.limitExceeded && this.clusterStats !== undefined)
      this.ctx.stats.inc(this.clusterStats + C.upstream_rq_retry_success);
    // A declined upgrade's request never completes (its parser stopped at the head): done too.
    if (this.requestComplete || this.head.upgrade) this.finish();
  }

  onUpstreamReset(reason: string, beforeResponse: boolean, details: string): void {
    clearTimeout(this.tryTimer);
    this.upstream = undefined;
    if (this.done) return this.endAttempt();
    if (this.clusterStats !== undefined) this.ctx.stats.inc(this.clusterStats + C.upstream_rq_rx_reset);
    const idleRace = beforeResponse && this.reusedConnection;
    // Not the host's fault: a kept-alive connection it closed as we wrote (resent once below).
    if (!idleRace) this.hostFailure(LocalOrigin.ConnectFailed);
    this.endAttempt();
    if (!this.responseHeadSent) {
      // A reused keep-alive connection the upstream closed as we wrote: safe to send again once.
      if (idleRace && this.canResend()) {
        this.reusedConnection = false;
        this.bodySent = false;
        this.startAttempt();
        return;
      }
      if (beforeResponse && this.retry!.shouldRetryReset() && this.canResend()) return this.scheduleRetry();
      this.retryRefused();
      return this.localReply(upstreamReset(reason === 'protocol_error' ? 'protocol error' : details, reason === 'protocol_error', this.info.attempts > 1));
    }
    this.resetDownstream(Flag.UC);
  }

  // ---- endings -----------------------------------------------------------------------------

  private redirect(route: Route): void {
    const r = route.redirect!;
    const scheme = r.schemeRedirect ?? 'http';
    let host = r.hostRedirect ?? stripPort(this.authority);
    const port = r.portRedirect ?? (r.derivePort === 'FROM_REQUEST_PORT' ? Number(this.authority.split(':')[1]) || undefined : undefined);
    if (port && !((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443))) host = `${host}:${port}`;
    const location = `${scheme}://${host}${r.pathRedirect === undefined ? this.path : redirectPath(r.pathRedirect, this.path)}`;
    if (this.ctx.httpStats !== undefined) this.ctx.stats.inc(this.ctx.httpStats + H.rq_redirect);
    this.localReply({ status: r.responseCode, body: '', details: 'redirect', flag: 0, headers: ['location', location] });
  }

  localReply(reply: LocalReply): void {
    if (this.done) return;
    this.cancelUpstream();
    this.info.flags |= reply.flag;
    this.info.responseCode = reply.status;
    this.info.details = reply.details;
    const close = this.conn.shouldClose(this.head) || this.bodyStillArriving();
    const text = encodeLocalReply(reply, close, [], this.head.method === 'HEAD');
    this.info.bytesSent += reply.body.length;
    this.conn.write(text, 'latin1');
    this.countResponse(reply.status);
    this.responseComplete = true;
    this.responseHeadSent = true;
    this.finish();
  }

  /** The response had started: the only honest signal left is to reset the downstream. */
  private resetDownstream(flag: number): void {
    this.info.flags |= flag;
    this.cancelUpstream();
    this.done = true;
    this.log();
    this.conn.destroy();
  }

  /**
   * Nothing moved either way for stream_idle_timeout: Envoy's 408 "stream timeout" (SI) while no
   * response has started, else a reset (the status line is gone).
   */
  private onStreamIdle(): void {
    if (this.done) return;
    if (this.ctx.httpStats !== undefined) this.ctx.stats.inc(this.ctx.httpStats + H.downstream_rq_idle_timeout);
    if (!this.responseHeadSent) return this.localReply(LOCAL_REPLIES.streamIdleTimeout);
    this.resetDownstream(Flag.SI);
  }

  /** The downstream went away mid-stream. */
  onDownstreamReset(): void {
    if (this.done) return;
    this.info.flags |= Flag.DC;
    if (this.ctx.httpStats !== undefined) this.ctx.stats.inc(this.ctx.httpStats + H.downstream_rq_rx_reset);
    this.cancelUpstream();
    this.done = true;
    this.log();
  }

  /**
   * A locally originated failure of the attempt in flight: the host's rq_error (and rq_timeout),
   * and outlier detection (Envoy's router reports resets and failed connections as
   * LocalOriginConnectFailed, timeouts as LocalOriginTimeout).
   */
  private hostFailure(result: LocalOrigin): void {
    const host = this.attemptHost;
    if (!host) return;
    this.ctx.hostStats[host.statBase + HS.rq_error]++;
    if (result === LocalOrigin.Timeout) this.ctx.hostStats[host.statBase + HS.rq_timeout]++;
    this.tlc!.outlier?.putLocalOrigin(host.slot, result);
  }

  /** The attempt in flight is over (answered, failed, retried or cancelled). */
  private endAttempt(): void {
    const host = this.attemptHost;
    if (!host) return;
    this.attemptHost = undefined;
    host.activeRequests--;
    this.ctx.hostStats[host.statBase + HS.rq_active]--;
  }

  private cancelUpstream(): void {
    clearTimeout(this.idleTimer);
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

  /** A body was announced and has not all arrived. */
  private bodyStillArriving(): boolean {
    return !this.requestComplete && (this.head.chunked || this.head.contentLength > 0);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.done = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.routeTimer);
    clearTimeout(this.tryTimer);
    this.endAttempt();
    this.log();
    if (this.requestComplete) this.conn.streamDone(this);
    // An unread body would have to be drained to reuse the connection; Envoy closes it instead.
    // So with an upgrade that got no 101: what follows its head was meant for a tunnel.
    else if (this.bodyStillArriving() || this.head.upgrade) this.conn.closeAfterReply();
    // Otherwise the request's end is being parsed right now and decodeComplete() follows.
  }

  private countResponse(status: number): void {
    const ctx = this.ctx;
    const cls = (status / 100) | 0;
    if (ctx.httpStats !== undefined && cls >= 1 && cls <= 5) ctx.stats.inc(ctx.httpStats + H.downstream_rq_1xx + cls - 1);
    if (this.clusterStats !== undefined && this.info.details === 'via_upstream' && cls >= 1 && cls <= 5)
      ctx.stats.inc(this.clusterStats + C.upstream_rq_1xx + cls - 1);
  }

  private log(): void {
    const ctx = this.ctx;
    if (ctx.httpStats !== undefined) {
      ctx.stats.dec(ctx.httpStats + H.downstream_rq_active);
      ctx.stats.inc(ctx.httpStats + H.downstream_rq_completed);
    }
    recordStreamEnd(ctx, this.info);
    ctx.accessLog?.log(this.info);
  }
}

function uncork(sock: { uncork(): void }): void {
  sock.uncork();
}

function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

/** Envoy's path_redirect: keeps the request's query string unless the redirect path has its own. */
function redirectPath(pathRedirect: string, requestPath: string): string {
  const p = pathRedirect.startsWith('/') ? pathRedirect : `/${pathRedirect}`;
  if (p.includes('?')) return p;
  const q = requestPath.indexOf('?');
  return q < 0 ? p : p + requestPath.slice(q);
}

function rewritePath(path: string, route: Route, action: RouteAction): string {
  const q = path.indexOf('?');
  const bare = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : path.slice(q);
  if (action.regexRewrite) {
    const re = new RegExp(action.regexRewrite.pattern, 'g');
    return bare.replace(re, action.regexRewrite.substitution.replace(/\\(\d)/g, '$$$1')) + query;
  }
  const m = route.match;
  // Envoy: a prefix route swaps its prefix, a path route its path; on a regex route
  // prefix_rewrite replaces the whole path (the query string stays).
  if (m.safeRegex !== undefined) return action.prefixRewrite! + query;
  const matched = m.prefix ?? m.path ?? '';
  return action.prefixRewrite! + bare.slice(matched.length) + query;
}
