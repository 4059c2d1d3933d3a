import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { getHeader, ResponseHead, type HeaderList } from '../../filters/network/http_connection_manager/codec/index.js';
import { fromH2Headers, toH2Headers } from '../../filters/network/http_connection_manager/http2/h2_headers.js';
import { BodyFraming, type UpstreamRequest, type UpstreamStreamCallbacks } from './upstream_request.js';
import type { H2Connection } from './h2_connection.js';
import { runGuarded } from '../../guarded_timer.js';

/**
 * One request as a stream of an upstream HTTP/2 session: `host` becomes `:authority`,
 * connection-specific fields are dropped (`te: trailers` stays), the response comes back as a
 * ResponseHead so the router treats both protocols alike. A response without a declared length
 * is framed by END_STREAM (chunked towards an HTTP/1.1 client); a trailers-only response (gRPC
 * errors) keeps its END_STREAM on the head.
 */
export class H2UpstreamStream implements UpstreamRequest {
  readonly protocol = 'HTTP/2';
  private stream: ClientHttp2Stream | undefined;
  private callbacks: UpstreamStreamCallbacks | undefined;
  private requestTrailers: OutgoingHttpHeaders | undefined;
  private responseTrailers: HeaderList | null = null;
  private responseStarted = false;
  private ended = false;

  constructor(private readonly conn: H2Connection) {}

  get localAddress(): string {
    return this.conn.localAddress;
  }

  sendHeaders(callbacks: UpstreamStreamCallbacks, method: string, path: string, h: HeaderList, framing: BodyFraming): void {
    this.callbacks = callbacks;
    const head = toH2Headers(h, { ':method': method, ':path': path, ':scheme': 'http', ':authority': getHeader(h, 'host') ?? this.conn.authority });
    let stream: ClientHttp2Stream;
    try {
      stream = this.conn.session.request(head, { endStream: framing === BodyFraming.None, waitForTrailers: framing !== BodyFraming.None });
    } catch {
      // The session went away between the pool's pick and now (GOAWAY, close).
      this.finish();
      process.nextTick(() => callbacks.onUpstreamReset('connection_termination', true, 'connection termination'));
      return;
    }
    this.stream = stream;
    // Everything on h2 arrives as events: a throw from the router's code (a bug) resets this
    // upstream stream and ends the stream it serves, not the worker (guarded_timer.ts).
    stream.on('response', (headers: IncomingHttpHeaders, flags: number) => this.guarded(() => this.onResponse(headers, flags), 'an h2 response head\'s handling'));
    stream.on('headers', (headers: IncomingHttpHeaders) => this.guarded(() => this.callbacks?.onUpstreamInformational(responseHead(headers, false)), 'an h2 informational response\'s handling'));
    stream.on('data', (chunk: Buffer) => this.guarded(() => {
      this.callbacks?.onUpstreamBody(chunk);
      this.callbacks?.onUpstreamReadEnd();
    }, 'an h2 response body\'s handling'));
    stream.on('trailers', (t: IncomingHttpHeaders) => (this.responseTrailers = fromH2Headers(t)));
    stream.on('end', () => this.guarded(() => this.onEnd(), 'an h2 response end\'s handling'));
    stream.on('drain', () => this.guarded(() => this.callbacks?.onUpstreamDrain(), 'an h2 upstream drain\'s handling'));
    stream.on('wantTrailers', () => stream.sendTrailers(this.requestTrailers ?? {}));
    stream.on('error', () => {});
    stream.on('close', () => this.guarded(() => this.onClose(), 'an h2 upstream stream close\'s handling'));
  }

  /** Runs an event's handling; on a throw, resets this stream and ends the stream it served. */
  private guarded(fn: () => void, what: string): void {
    const cb = this.callbacks;
    runGuarded(fn, what, () => {
      this.callbacks = undefined;
      if (this.stream !== undefined && !this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      cb?.endAfterThrow();
    });
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number): void {
    this.responseStarted = true;
    const cb = this.callbacks;
    if (!cb) return;
    cb.onUpstreamHead(responseHead(headers, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0));
    cb.onUpstreamReadEnd();
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    const cb = this.callbacks;
    this.callbacks = undefined;
    this.finish();
    cb?.onUpstreamComplete(this.responseTrailers);
  }

  private onClose(): void {
    const stream = this.stream!;
    // A stream whose response ended normally may close before 'end' is read out: finish it.
    if (!this.ended && stream.rstCode === constants.NGHTTP2_NO_ERROR && this.responseStarted && stream.readableEnded) return this.onEnd();
    this.finish();
    const cb = this.callbacks;
    this.callbacks = undefined;
    if (!cb || this.ended) return;
    if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) cb.onUpstreamReset('refused_stream', true, 'remote refused stream reset');
    else cb.onUpstreamReset('connection_termination', !this.responseStarted, this.responseStarted ? 'remote reset' : 'connection termination');
  }

  /** The stream slot goes back to its session (once). */
  private finish(): void {
    this.conn.streamEnded(this);
  }

  sendData(chunk: Buffer): boolean {
    return this.stream?.write(chunk) ?? true;
  }

  sendEnd(trailers: HeaderList | null): void {
    if (!this.stream || this.stream.destroyed) return;
    if (trailers !== null && trailers.length > 0) this.requestTrailers = toH2Headers(trailers, {});
    this.stream.end();
  }

  abort(): void {
    this.callbacks = undefined;
    if (this.stream && !this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
    this.finish();
  }

  releaseUnused(): void {
    this.finish();
  }

  pauseResponse(): void {
    this.stream?.pause();
  }

  resumeResponse(): void {
    this.stream?.resume();
  }
}

/** An h2 response head as the router's ResponseHead; `endStream`: trailers-only / no body. */
function responseHead(headers: IncomingHttpHeaders, endStream: boolean): ResponseHead {
  const h = fromH2Headers(headers);
  const cl = getHeader(h, 'content-length');
  // An HTTP/1.1 client needs framing for a head-only answer.
  if (endStream && cl === undefined) h.push('content-length', '0');
  const contentLength = endStream ? 0 : cl !== undefined ? Number(cl) : -1;
  return new ResponseHead(Number(headers[':status']), '', 1, h, contentLength, !endStream && cl === undefined, true, false, false);
}
