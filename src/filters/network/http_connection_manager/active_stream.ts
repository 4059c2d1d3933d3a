import type { Route } from '../../../config/model.js';
import { C, H } from '../../../stats/scopes.js';
import { CompiledRouteConfiguration, type RouteRequest } from '../../http/router/route_table.js';
import { chooseCluster, RetryState } from '../../http/router/route_action.js';
import { requestHash } from '../../http/router/hash_policy.js';
import { isHashPolicy } from '../../../cluster/lb/policy.js';
import { applyFault } from '../../http/fault/fault.js';
import { corsDecision } from '../../http/cors/cors.js';
import { httpAuthorization, httpAuthzInput } from '../../http/rbac/http_authz.js';
import type { Authorization } from '../../../config/model.js';
import { propagateTraceContext } from '../../http/tracing/trace_context.js';
import { DECORATOR_OPERATION, decorateRequest } from '../../http/tracing/decorator.js';
import { UpstreamResponse } from '../../http/router/upstream_response.js';
import { redirectLocation, rewritePath, stripPort } from '../../http/router/rewrite.js';
import { getHeader, removeHeader, setHeader, stripHopByHop, KEEP_UPGRADE, TargetForm, type HeaderList } from './codec/index.js';
import { mutateRequest } from './header_mutation.js';
import { httpsRedirectReply, LOCAL_REPLIES, type LocalReply } from './local_reply.js';
import { Flag } from './stream_info.js';
import { normalizePath } from './path.js';
import { isValidAuthority, splitAbsoluteTarget } from './request_target.js';
import { newRequestId } from './request_id.js';
import { mutateForwardedHeaders } from './forwarded_headers.js';
import { recordStreamEnd } from './stream_stats.js';
import { streamIdle, touchIdle } from './stream_idle.js';
import type { DownstreamStream } from './downstream.js';
import { grpcLocalReply, grpcRouteTimeoutMs, isGrpcRequest } from '../../http/grpc/grpc.js';
import { logger, stackOf } from '../../../log.js';

const log = logger('connection');

/**
 * One request/response exchange on a downstream connection (an HTTP/1.1 connection or an h2
 * stream): route, filters (CORS, fault), then the router (upstream_attempts.ts,
 * upstream_response.ts), and the response encoded through the stream's Downstream. Decoding
 * (request) and encoding (response) progress independently; the stream is done when both are.
 */
export class ActiveStream extends UpstreamResponse implements DownstreamStream {
  // ---- decoding (downstream request) -------------------------------------------------------

  decodeHeaders(): void {
    const { head, info, ctx } = this;
    const h = this.headers;
    info.method = head.method;
    info.protocol = this.conn.protocol ?? (head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0');
    const idleMs = ctx.filter.streamIdleTimeoutMs;
    if (idleMs > 0) streamIdle.watch(this, idleMs, info.startHr);
    if (ctx.httpStats !== undefined) {
      ctx.stats.inc(ctx.httpStats + H.downstream_rq_total);
      ctx.stats.inc(ctx.httpStats + H.downstream_rq_active);
    }
    this.grpc = info.grpc = isGrpcRequest(h);
    // Envoy refuses HTTP/1.0 unless told otherwise (Istio does not tell it).
    if (head.versionMinor === 0) return this.localReply(LOCAL_REPLIES.http10);
    let target = head.target;
    let authority = getHeader(h, 'host');
    if (head.targetForm === TargetForm.Absolute) {
      const url = splitAbsoluteTarget(target);
      if (url === undefined) return this.localReply(LOCAL_REPLIES.invalidUrl);
      if (url.scheme !== 'http' && url.scheme !== 'https') return this.localReply(LOCAL_REPLIES.invalidScheme);
      if (url.scheme === 'https' && !ctx.tls) return this.localReply(LOCAL_REPLIES.httpsInPlaintext);
      authority = url.authority;
      target = url.pathAndQuery;
      setHeader(h, 'host', authority);
    }
    if (!authority) return this.localReply(LOCAL_REPLIES.missingHost);
    if (!isValidAuthority(authority)) return this.localReply(LOCAL_REPLIES.invalidAuthority);
    if (head.targetForm !== TargetForm.Origin && head.targetForm !== TargetForm.Absolute) return this.localReply(LOCAL_REPLIES.noRoute);
    // Envoy's default since 1.19.1: a fragment is no part of a request target, and matching
    // "/admin#x" against a policy for "/admin" would let it by.
    if (target.indexOf('#') >= 0) return this.localReply(LOCAL_REPLIES.pathWithFragment);
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
    // x-forwarded-*, edge sanitizing (gateways) and x-forwarded-client-cert; an outside request's id is not trusted.
    const external = mutateForwardedHeaders(h, ctx.filter, this.conn.remoteAddress, ctx.tls);
    info.forwardedFor = getHeader(h, 'x-forwarded-for');
    let requestId = external ? undefined : getHeader(h, 'x-request-id');
    if (!requestId) setHeader(h, 'x-request-id', (requestId = newRequestId()));
    info.requestId = requestId;
    propagateTraceContext(h);
    if (head.expectContinue) {
      this.conn.continueRequest();
      removeHeader(h, 'expect');
    }

    const auth = ctx.authorization;
    if (auth) return this.authorize(auth, path, query);
    this.decodeRoute(path, query);
  }

  /** jwt_authn then RBAC, before routing (Istio's inbound filter order); maybe asynchronous (JWT). */
  private authorize(auth: Authorization, path: string, query: string): void {
    const { ctx, head } = this;
    const input = httpAuthzInput(this.conn.remoteAddress, ctx, head.method, this.authority, path, this.headers);
    httpAuthorization(auth).check(input, query, ctx.stats, ctx.httpStats, (reply) => (reply ? this.localReply(reply) : this.done || this.decodeRoute(path, query)), (err) => this.continuationFailed(err));
  }

  /**
   * Handling the request threw after an asynchronous step (JWT verification). Like a throw
   * while reading bytes, it ends only this stream: an HTTP/1.1 connection is closed, an h2 stream reset.
   */
  private continuationFailed(err: unknown): void {
    log.error(`stream reset: handling its request failed: ${stackOf(err)}`);
    this.conn.resetStream();
  }

  private decodeRoute(path: string, query: string): void {
    const { head, info, ctx, authority } = this;
    const h = this.headers;
    const routes = ctx.routes;
    const host = (ctx.filter.stripAnyHostPort ? stripPort(authority) : authority).toLowerCase();
    const vh = routes?.virtualHost(host);
    // Envoy's require_tls (a Gateway server's httpsRedirect): plaintext requests get 301 to https before any route.
    if (vh?.vh.requireTls === 'ALL' && !ctx.tls) return this.localReply(httpsRedirectReply(authority, this.path));
    const req: RouteRequest = { method: head.method, path, query, authority, scheme: 'http', headers: h };
    const route = vh && CompiledRouteConfiguration.route(vh, req);
    if (!route) {
      if (ctx.httpStats !== undefined) ctx.stats.inc(ctx.httpStats + H.no_route);
      return this.localReply(LOCAL_REPLIES.noRoute);
    }
    this.route = route;
    info.routeName = route.name;
    this.responseOperation = decorateRequest(h, route.operation, ctx.reporter === 'destination');
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
    this.timeoutMs = this.grpc ? grpcRouteTimeoutMs(action.timeoutMs, action.maxGrpcTimeoutMs, getHeader(h, 'grpc-timeout')) : action.timeoutMs;
    const fault = applyFault(route.fault, h);
    if (fault.abort) {
      const grpcStatus = route.fault?.abort?.grpcStatus;
      const reply = { status: fault.abort, body: 'fault filter abort', details: 'fault_filter_abort', flag: Flag.FI };
      return this.localReply(reply, grpcStatus);
    }
    const proceed = () => this.startRouting(vh.vh.includeRequestAttemptCount);
    if (fault.delayMs > 0) {
      this.info.flags |= Flag.DI;
      this.backoffTimer = this.streamTimer(proceed, fault.delayMs);
    } else proceed();
  }

  /** A body chunk the stream may keep (the caller copied it out of the read buffer). */
  decodeData(chunk: Buffer): void {
    this.info.bytesReceived += chunk.length;
    touchIdle(this);
    if (this.done) return;
    this.routeData(chunk);
  }

  decodeComplete(trailers: HeaderList | null): void {
    this.requestComplete = true;
    if (this.done) {
      if (this.finished) this.conn.streamDone(this);
      return;
    }
    this.routeEnd(trailers);
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
    stripHopByHop(h, this.head.upgrade ? KEEP_UPGRADE : undefined);
    if (this.head.upgrade) setHeader(h, 'connection', 'upgrade');
    this.retry = new RetryState(action.retryPolicy, attemptCountHeader, cluster.breaker);
    if (this.requestComplete) this.routerRequestComplete();
    this.startAttempt();
  }

  // ---- endings -----------------------------------------------------------------------------

  private redirect(route: Route): void {
    const location = redirectLocation(route, this.authority, this.path);
    if (this.ctx.httpStats !== undefined) this.ctx.stats.inc(this.ctx.httpStats + H.rq_redirect);
    this.localReply({ status: route.redirect!.responseCode, body: '', details: 'redirect', flag: 0, headers: ['location', location] });
  }

  /** `grpcStatus`: the status a gRPC request gets instead of the HTTP status's mapping. */
  localReply(reply: LocalReply, grpcStatus?: number): void {
    if (this.done) return;
    this.cancelUpstream();
    if (this.grpc) {
      // Answered as gRPC: HTTP 200 (what Envoy logs too), the status in grpc-status.
      reply = grpcLocalReply(reply, grpcStatus);
      this.info.grpcStatus = Number(reply.headers![3]);
    }
    const operation = this.responseOperation;
    if (operation !== undefined) reply = { ...reply, headers: [...(reply.headers ?? []), DECORATOR_OPERATION, operation] };
    this.info.flags |= reply.flag;
    this.info.responseCode = reply.status;
    this.info.details = reply.details;
    this.info.bytesSent += reply.body.length;
    this.conn.encodeLocalReply(this, reply, this.bodyStillArriving());
    this.countResponse(reply.status);
    this.responseComplete = true;
    this.responseHeadSent = true;
    this.finish();
  }

  /** The response had started: the only honest signal left is to reset the downstream. */
  protected resetDownstream(flag: number): void {
    this.info.flags |= flag;
    this.cancelUpstream();
    this.done = true;
    this.log();
    this.conn.resetStream();
  }

  /**
   * Nothing moved either way for stream_idle_timeout: Envoy's 408 "stream timeout" (SI) while no
   * response has started, else a reset (the status line is gone).
   */
  onStreamIdle(): void {
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

  /** A body was announced and has not all arrived. */
  private bodyStillArriving(): boolean {
    return !this.requestComplete && (this.head.chunked || this.head.contentLength > 0);
  }

  protected finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.done = true;
    streamIdle.unwatch(this);
    clearTimeout(this.routeTimer);
    clearTimeout(this.tryTimer);
    this.endAttempt();
    this.log();
    if (this.requestComplete) this.conn.streamDone(this);
    // An unread body would have to be drained to reuse the connection; Envoy closes it instead.
    // So with an upgrade that got no 101: what follows its head was meant for a tunnel.
    else if (this.bodyStillArriving() || this.head.upgrade) this.conn.abandonRequest(this);
    // Otherwise the request's end is being parsed right now and decodeComplete() follows.
  }

  protected countResponse(status: number): void {
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
