import { Buffer } from 'node:buffer';
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { UpstreamConnection } from '../../../../cluster/pool/upstream_connection.js';
import { getHeader, RequestHead, TargetForm, type HeaderList } from '../codec/index.js';
import type { Downstream, DownstreamStream } from '../downstream.js';
import type { LocalReply } from '../local_reply.js';
import { ActiveStream } from '../active_stream.js';
import type { HttpContext } from '../http_context.js';
import { fromH2Headers, fromRawHeaders, toH2Headers } from './h2_headers.js';
import { applyBaseResponseHeaders } from '../base_response_headers.js';
import type { HttpConnectionManagerFilter } from '../../../../config/model.js';
import { runGuarded } from '../../../../guarded_timer.js';

/** What an h2 stream tells its connection. */
export interface H2StreamOwner {
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** The stream ended; `premature`: the client reset it before its response completed. */
  onStreamClosed(premature: boolean): void;
}

/**
 * One downstream HTTP/2 stream as a Downstream: the request's pseudo-headers become a request
 * head (`:authority` as `host`), its DATA and trailers feed the ActiveStream, and the response is
 * encoded as HEADERS / DATA / trailing HEADERS. Flow control is nghttp2's: a paused stream stops
 * consuming its window, a full one makes encodeData() return false until 'drain'.
 */
export class H2Downstream implements Downstream {
  readonly protocol = 'HTTP/2';
  readonly localAddress: string;
  readonly remoteAddress: string;
  private readonly active: ActiveStream;
  private trailers: OutgoingHttpHeaders | undefined;
  private requestTrailers: HeaderList | null = null;
  private responseEnded = false;
  private readonly filter: HttpConnectionManagerFilter;

  constructor(
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    rawHeaders: string[],
    ctx: HttpContext,
    private readonly owner: H2StreamOwner,
  ) {
    this.localAddress = owner.localAddress;
    this.remoteAddress = owner.remoteAddress;
    this.filter = ctx.filter;
    const h = fromRawHeaders(rawHeaders);
    const method = String(headers[':method']);
    const authority = headers[':authority'];
    if (authority !== undefined && getHeader(h, 'host') === undefined) h.push('host', String(authority));
    const endStream = stream.endAfterHeaders;
    const lengthField = getHeader(h, 'content-length');
    const contentLength = endStream ? -1 : lengthField !== undefined ? Number(lengthField) : -1;
    // A body of no declared length is framed by END_STREAM: chunked towards an HTTP/1.1 upstream.
    const chunked = !endStream && lengthField === undefined;
    const path = headers[':path'];
    const form = method === 'CONNECT' ? TargetForm.Authority : path === '*' ? TargetForm.Asterisk : TargetForm.Origin;
    const expectContinue = !endStream && getHeader(h, 'expect')?.toLowerCase() === '100-continue';
    const head = new RequestHead(method, path === undefined ? '' : String(path), form, 1, h, contentLength, chunked, true, expectContinue, false, undefined);
    this.active = new ActiveStream(this, ctx, head);
    // Everything on h2 arrives as events, with no socket reader around them: a throw from the
    // stream's code (a bug) resets this stream, not the worker (guarded_timer.ts).
    const reset = () => this.resetStream();
    stream.on('data', (chunk: Buffer) => runGuarded(() => this.active.decodeData(chunk), 'an h2 request body\'s handling', reset));
    stream.on('trailers', (t: IncomingHttpHeaders) => (this.requestTrailers = fromH2Headers(t)));
    stream.on('end', () => runGuarded(() => this.active.decodeComplete(this.requestTrailers), 'an h2 request end\'s handling', reset));
    stream.on('wantTrailers', () => stream.sendTrailers(this.trailers ?? {}));
    stream.on('error', () => {});
    stream.on('close', () => runGuarded(() => this.onClose(), 'an h2 stream close\'s handling', () => this.active.endAfterThrow()));
  }

  start(): void {
    this.active.decodeHeaders();
  }

  private onClose(): void {
    const premature = !this.responseEnded;
    try {
      if (premature) this.active.onDownstreamReset();
    } finally {
      // Counted even past a throw (a bug): rapid-reset detection and a drain's close depend on it.
      this.owner.onStreamClosed(premature);
    }
  }

  continueRequest(): void {
    // Envoy answers 100-continue itself (an informational HEADERS frame) and does not forward the expectation.
    if (!this.stream.destroyed && !this.stream.headersSent) this.stream.additionalHeaders({ ':status': 100 });
  }

  encodeHeaders(_s: DownstreamStream, status: number, _reason: string, h: HeaderList, endStream: boolean): void {
    if (this.stream.destroyed) return;
    const out = toH2Headers(h, { ':status': status });
    if (endStream) this.responseEnded = true;
    try {
      this.stream.respond(out, { endStream, waitForTrailers: !endStream });
    } catch {
      // A field HTTP/2 cannot carry (Node refuses it): the stream is reset rather than the connection.
      this.resetStream();
    }
  }

  encodeData(chunk: Buffer): boolean {
    if (this.stream.destroyed) return true;
    // `chunk` may lie in a read buffer that is reused: the stream keeps a copy.
    return this.stream.write(Buffer.from(chunk));
  }

  encodeEnd(trailers: HeaderList | null): void {
    if (this.stream.destroyed || this.responseEnded) return;
    this.responseEnded = true;
    if (trailers !== null && trailers.length > 0) this.trailers = toH2Headers(trailers, {});
    this.stream.end();
  }

  flushHeaders(): void {}

  encodeLocalReply(_s: DownstreamStream, reply: LocalReply, _bodyStillArriving: boolean): void {
    if (this.stream.destroyed || this.stream.headersSent) return;
    const head: OutgoingHttpHeaders = { ':status': reply.status };
    if (reply.body) {
      head['content-length'] = Buffer.byteLength(reply.body);
      head['content-type'] = 'text/plain';
    } else if (!reply.headers?.includes('grpc-status')) head['content-length'] = 0;
    const fields = reply.headers ? [...reply.headers] : [];
    applyBaseResponseHeaders(fields, this.filter);
    toH2Headers(fields, head);
    const noBody = !reply.body || this.active.head.method === 'HEAD';
    this.responseEnded = true;
    this.stream.respond(head, { endStream: noBody });
    if (!noBody) this.stream.end(reply.body);
  }

  onceDrain(fn: () => void): void {
    this.stream.once('drain', () => runGuarded(fn, 'an h2 client drain\'s handling', () => this.resetStream()));
  }

  pauseReading(): void {
    this.stream.pause();
  }

  resumeReading(): void {
    this.stream.resume();
  }

  resetStream(): void {
    this.responseEnded = true;
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  streamDone(): void {}

  abandonRequest(): void {
    // The response is complete. The rest of the request is read and dropped (decodeData ignores it
    // once the stream is done): an RST_STREAM now could discard response DATA still queued.
  }

  tunnel(_head: Buffer, up: UpstreamConnection): void {
    // Upgrades do not exist on h2 (requests here never carry one): nothing to tunnel.
    up.abort();
    this.resetStream();
  }
}
