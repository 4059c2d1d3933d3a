import type { UpstreamConnection } from '../../../cluster/pool/upstream_connection.js';
import type { UpstreamStreamCallbacks } from '../../../cluster/pool/upstream_request.js';
import { HS } from '../../../cluster/host_shared.js';
import { LocalOrigin } from '../../../cluster/outlier/monitor.js';
import { C } from '../../../stats/scopes.js';
import { encodeResponseHead, getHeader, STATUS_REASONS, stripHopByHop, KEEP_UPGRADE, type HeaderList, type ResponseHead } from '../../network/http_connection_manager/codec/index.js';
import { mutateResponse } from '../../network/http_connection_manager/header_mutation.js';
import { upstreamReset } from '../../network/http_connection_manager/local_reply.js';
import { Flag } from '../../network/http_connection_manager/stream_info.js';
import { UpstreamAttempts } from './upstream_attempts.js';
import { streamIdle, touchIdle } from '../../network/http_connection_manager/stream_idle.js';
import { loopNow } from '../../../loop_clock.js';
import { applyBaseResponseHeaders } from '../../network/http_connection_manager/base_response_headers.js';
import { decorateResponse } from '../tracing/decorator.js';

/**
 * Envoy's router, response side: what the upstream answers (head, body, trailers, reset) and
 * the retry decisions it drives, encoded downstream through the stream's Downstream.
 */
export abstract class UpstreamResponse extends UpstreamAttempts implements UpstreamStreamCallbacks {
  /** CORS headers for the response to an allowed origin. */
  protected corsHeaders: string[] | undefined;
  /** The tracing operation the response tells the caller (decorator.ts; inbound only). */
  protected responseOperation: string | undefined;

  protected abstract finish(): void;
  protected abstract countResponse(status: number): void;

  protected callbacks(): UpstreamStreamCallbacks {
    return this;
  }

  onUpstreamInformational(_head: ResponseHead): void {
    // 100 Continue was answered locally; other 1xx are not forwarded.
  }

  onUpstreamHead(head: ResponseHead): void {
    clearTimeout(this.tryTimer);
    if (this.done) return;
    touchIdle(this);
    const s = head.status;
    const host = this.attemptHost;
    if (host) {
      this.ctx.hostStats[host.statBase + (s >= 500 ? HS.rq_error : HS.rq_success)]++;
      this.tlc!.outlier?.putHttpStatus(host.slot, s);
    }
    const h = head.headers;
    // A trailers-only gRPC answer carries its status in the head: Envoy retries on it.
    const grpcStatus = this.grpc ? getHeader(h, 'grpc-status') : undefined;
    if (!head.upgrade && this.canResend() && (this.retry!.shouldRetryStatus(s) || (grpcStatus !== undefined && this.retry!.shouldRetryGrpcStatus(Number(grpcStatus))))) {
      this.upstream?.abort();
      return this.scheduleRetry();
    }
    this.retryRefused();
    // Envoy sends it only for a complete request (not for an early answer to a request still arriving).
    const serviceMs = this.requestCompleteAt > 0 ? Math.round(loopNow() - this.requestCompleteAt) : undefined;
    const info = this.info;
    info.upstreamServiceTimeMs = serviceMs;
    info.responseCode = s;
    info.details = 'via_upstream';
    if (grpcStatus !== undefined) this.noteGrpcStatus(h);
    stripHopByHop(h, head.upgrade ? KEEP_UPGRADE : undefined);
    mutateResponse(h, this.route, undefined);
    if (this.corsHeaders) h.push(...this.corsHeaders);
    if (serviceMs !== undefined) h.push('x-envoy-upstream-service-time', String(serviceMs));
    if (this.setCookie !== undefined) h.push('set-cookie', this.setCookie);
    decorateResponse(h, this.responseOperation, this.ctx.reporter === 'destination');
    applyBaseResponseHeaders(h, this.ctx.filter);
    this.responseHeadSent = true;
    this.countResponse(s);
    if (head.upgrade) return this.startTunnel(head);
    const noBody = this.head.method === 'HEAD' || s === 204 || s === 304 || head.contentLength === 0;
    this.conn.encodeHeaders(this, s, head.reason, h, noBody, head.chunked || head.bodyUntilClose ? -1 : head.contentLength);
  }

  /** A 101 (HTTP/1.1 only): the head goes out and bytes flow raw both ways. */
  private startTunnel(head: ResponseHead): void {
    const h = head.headers;
    h.push('connection', 'upgrade');
    const encoded = encodeResponseHead(head.status, head.reason || STATUS_REASONS[head.status], h);
    streamIdle.unwatch(this);
    const up = this.upstream as UpstreamConnection;
    // The request is over (rq_active), but the tunnel keeps loading its host (LEAST_REQUEST) until it closes.
    const host = this.attemptHost;
    if (host) {
      host.activeRequests++;
      up.socket.once('close', () => host.activeRequests--);
    }
    this.endAttempt();
    this.conn.tunnel(encoded, up);
  }

  onUpstreamBody(chunk: Buffer): void {
    if (this.done) return;
    touchIdle(this);
    this.info.bytesSent += chunk.length;
    const up = this.upstream;
    if (!this.conn.encodeData(chunk) && up) {
      up.pauseResponse();
      // Only while this response still holds the connection (it is resumed when the response ends).
      this.conn.onceDrain(() => {
        if (this.upstream === up) up.resumeResponse();
      });
    }
  }

  /** The end of one upstream read: a response head still held is written now. */
  onUpstreamReadEnd(): void {
    this.conn.flushHeaders();
  }

  onUpstreamComplete(trailers: HeaderList | null): void {
    clearTimeout(this.tryTimer);
    if (this.done) return;
    if (trailers !== null && this.grpc) this.noteGrpcStatus(trailers);
    this.conn.encodeEnd(trailers);
    this.upstream = undefined;
    this.endAttempt();
    this.responseComplete = true;
    if (this.clusterStats !== undefined) {
      this.ctx.stats.inc(this.clusterStats + C.upstream_rq_completed);
      this.ctx.stats.record(this.clusterStats + C.upstream_rq_time, Math.floor(loopNow() - this.attemptStartAt));
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
    const idleRace = beforeResponse && this.reusedConnection && reason !== 'refused_stream';
    // Not the host's fault: a kept-alive connection it closed as we wrote (resent once below).
    if (!idleRace) this.hostFailure(LocalOrigin.ConnectFailed);
    this.endAttempt();
    if (!this.responseHeadSent) {
      // A reused keep-alive connection the upstream closed as we wrote: safe to send again once.
      if (idleRace && this.canResend()) return this.resendNow();
      const retry = reason === 'refused_stream' ? this.retry!.shouldRetryRefusedStream() : beforeResponse && this.retry!.shouldRetryReset();
      if (retry && this.canResend()) return this.scheduleRetry();
      this.retryRefused();
      return this.localReply(upstreamReset(reason === 'protocol_error' ? 'protocol error' : details, reason === 'protocol_error', this.info.attempts > 1));
    }
    this.resetDownstream(Flag.UC);
  }

  /** grpc-status / grpc-message for the access log and Istio's grpc_response_status. */
  private noteGrpcStatus(h: HeaderList): void {
    const status = getHeader(h, 'grpc-status');
    if (status === undefined) return;
    this.info.grpcStatus = Number(status);
    this.info.grpcMessage = getHeader(h, 'grpc-message');
  }
}
