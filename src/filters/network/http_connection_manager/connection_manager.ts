import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { H } from '../../../stats/scopes.js';
import type { UpstreamConnection } from '../../../cluster/pool/upstream_connection.js';
import { RequestParser, State, STATUS_REASONS, type HeaderList, type RequestHandler, type RequestHead } from './codec/index.js';
import type { Downstream, DownstreamStream } from './downstream.js';
import { Http1ResponseEncoder } from './http1_response_encoder.js';
import { ActiveStream } from './active_stream.js';
import type { HttpContext } from './http_context.js';
import { encodeLocalReply, LOCAL_REPLIES, type LocalReply } from './local_reply.js';
import { Flag, StreamInfo } from './stream_info.js';
import { setReader } from '../../../listener/socket_reader.js';
import { relayBytes } from '../../../listener/byte_relay.js';
import { queuedBytes, writeBytes } from '../../../listener/socket_writer.js';
import { isDraining, trackConnection, untrackConnection, type DrainableConnection } from './drain.js';
import type { HttpConnectionManagerFilter } from '../../../config/model.js';
import { guardedTimeout, runGuarded } from '../../../guarded_timer.js';

/**
 * Envoy's per_connection_buffer_limit_bytes default (1 MiB): answers queued for a client that
 * does not read stop the connection from taking its next pipelined request.
 */
const PER_CONNECTION_BUFFER_LIMIT = 1024 * 1024;

/** Bytes of later requests (or tunnel bytes before a 101) read ahead before reading pauses. */
const HOLD_LIMIT = 64 * 1024;

/** Envoy's delayed_close_timeout default: how long a connection we ended waits for its peer's close. */
const DELAYED_CLOSE_MS = 1000;

const dropBytes = (): void => {};

/**
 * Envoy's HTTP connection manager for one downstream HTTP/1.1 connection: parses requests
 * one at a time (pipelined bytes wait, unread, until the response before them is written),
 * hands each to an ActiveStream, and owns the socket's lifecycle and backpressure.
 */
export class HttpConnectionManager extends Http1ResponseEncoder implements RequestHandler, DrainableConnection, Downstream {
  /** HTTP/1.x: the stream's own head says which. */
  readonly protocol = undefined;
  private readonly parser: RequestParser;
  private stream: ActiveStream | undefined;
  /** Bytes of the next pipelined request(s), held until the current exchange completes. */
  private pending: Buffer | undefined;
  private closeWhenDone = false;
  /** closeAfterReply() has ended our side. */
  private closing = false;
  /** The client half-closed after a complete request: answer what it sent, then close. */
  private peerEnded = false;
  private closed = false;
  /** Bytes flow raw (after a 101): no request boundary to close at. */
  private tunneled = false;
  /**
   * The stream's head was parsed but not yet routed: routing waits until the rest of the read
   * is parsed, so that a request whose body is malformed in the same read never reaches the
   * upstream (not even its head).
   */
  private undecoded: ActiveStream | undefined;
  /** Answers fill the socket past the buffer limit: the next request waits for 'drain'. */
  private awaitingDrain = false;
  /** This manager paused the socket's reading (resume() per request costs a Readable state walk). */
  private readingPaused = false;
  /** The stream's wait for the client to drain (onceDrain). */
  private drainWaiter: (() => void) | undefined;
  /** Envoy's request_headers_timeout: runs from a request's first byte until its head is complete. */
  private headersTimer: NodeJS.Timeout | undefined;
  readonly localAddress: string;
  readonly remoteAddress: string;

  /**
   * `ctx`: the connection's context (connection stats, drain). `streamContext`: the context for
   * each new request, which may follow configuration changes (see factory.ts).
   */
  constructor(
    private readonly socket: Socket,
    private readonly ctx: HttpContext,
    private readonly streamContext: () => HttpContext = () => ctx,
  ) {
    super();
    this.parser = new RequestParser(this);
    this.localAddress = `${ctx.originalDst.address}:${ctx.originalDst.port}`;
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    if (ctx.httpStats !== undefined) {
      ctx.stats.inc(ctx.httpStats + H.downstream_cx_total);
      ctx.stats.inc(ctx.httpStats + H.downstream_cx_http1_total);
      ctx.stats.inc(ctx.httpStats + H.downstream_cx_active);
    }
    setReader(socket, (b: Buffer) => this.onData(b));
    // Outside a read the socket reader's guard does not reach: a throw from the stream's code
    // here (a bug) ends this connection, not the worker (guarded_timer.ts).
    socket.on('end', () => runGuarded(() => this.onEnd(), 'a client FIN\'s handling', () => this.destroy()));
    socket.on('error', () => {});
    socket.on('close', () => runGuarded(() => this.onClose(), 'a client close\'s handling', () => this.stream?.endAfterThrow()));
    trackConnection(ctx.listenerName, this);
  }

  get filter(): HttpConnectionManagerFilter {
    return this.ctx.filter;
  }

  /** Starts on bytes already read (protocol detection peeked at them). */
  start(initial?: Buffer): void {
    if (initial && initial.length > 0) this.onData(initial);
  }

  private onData(b: Buffer): void {
    if (this.awaitingDrain) return this.hold(b);
    if (this.stream || this.pending) {
      // A request is in flight. Body bytes go to it; anything after its end waits.
      if (this.stream && !this.stream.requestComplete) return this.feed(b, 0);
      this.hold(b);
      return;
    }
    this.feed(b, 0);
  }

  private hold(b: Buffer): void {
    // Kept past this read: copied (the read buffer is reused).
    this.pending = this.pending ? Buffer.concat([this.pending, b]) : Buffer.from(b);
    // Reading goes on up to a limit, as Envoy's does: a paused socket would not see its client
    // reset or leave, and a response that never ends would hold both connections for good.
    if (this.pending.length >= HOLD_LIMIT) this.pauseSocket();
  }

  private feed(b: Buffer, off: number): void {
    const parser = this.parser;
    if (this.headersTimer === undefined && off < b.length && this.ctx.filter.requestHeadersTimeoutMs > 0 && !this.stream) {
      this.headersTimer = guardedTimeout(() => this.onRequestHeadersTimeout(), this.ctx.filter.requestHeadersTimeoutMs, 'a request headers timeout', () => this.destroy());
    }
    while (off < b.length && !this.closed) {
      off = parser.execute(b, off);
      if (parser.error) return this.protocolError();
      this.decodeParsedHead();
      if (parser.state === State.Upgraded) {
        // The tunnel starts when the upstream agrees (101); until then the bytes wait.
        if (off < b.length) this.hold(b.subarray(off));
        return;
      }
      // A request in flight, or answers past the buffer limit (a reply made synchronously,
      // e.g. a direct response, ends its stream inside this loop): the rest waits.
      if (((this.stream && this.stream.requestComplete) || this.awaitingDrain) && off < b.length) {
        this.hold(b.subarray(off));
        return;
      }
    }
  }

  // ---- parser callbacks --------------------------------------------------------------------

  onRequestHead(head: RequestHead): void {
    if (this.headersTimer !== undefined) {
      clearTimeout(this.headersTimer);
      this.headersTimer = undefined;
    }
    const stream = new ActiveStream(this, this.streamContext(), head);
    this.stream = stream;
    this.undecoded = stream;
  }

  /** Routes the head parsed by the last execute() (its body so far is already buffered in the stream). */
  private decodeParsedHead(): void {
    const stream = this.undecoded;
    if (stream === undefined) return;
    this.undecoded = undefined;
    stream.decodeHeaders();
  }

  onBody(chunk: Buffer): void {
    // Written upstream and kept for retries after this read: a copy of the read buffer's bytes.
    this.stream?.decodeData(Buffer.from(chunk));
  }

  onMessageComplete(trailers: HeaderList | null): void {
    this.stream?.decodeComplete(trailers);
  }

  // ---- what streams call (besides the response encoding: Http1ResponseEncoder) --------------

  resetStream(): void {
    this.destroy();
  }

  abandonRequest(): void {
    this.closeAfterReply();
  }

  /** The exchange is over: next pipelined request, or close. */
  streamDone(stream: DownstreamStream): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    if (this.shouldClose(stream.head)) return this.closeAfterReply();
    if (queuedBytes(this.socket) > PER_CONNECTION_BUFFER_LIMIT) {
      // A client that pipelines without reading: no next request until it has read our answers.
      this.awaitingDrain = true;
      this.pauseSocket();
      // The finished stream's own drain wait (if any) has nothing left to resume: this replaces it.
      this.onceDrain(() => this.nextRequest());
      return;
    }
    this.nextRequest();
  }

  private nextRequest(): void {
    this.awaitingDrain = false;
    if (this.closed) return;
    const next = this.pending;
    this.pending = undefined;
    this.resumeSocket();
    if (next) this.feed(next, 0);
    // The client has sent all it will: once its last request is answered, we are done.
    if (this.peerEnded && !this.stream && !this.closed) this.closeAfterReply();
  }

  /**
   * An upgrade request that got no 101 (the upstream answered 200, or the proxy itself answered)
   * ends the connection too: its bytes after the head were meant for a tunnel and must be neither
   * forwarded nor parsed as requests (Envoy closes as well).
   */
  shouldClose(head: RequestHead): boolean {
    return this.closeWhenDone || !head.keepAlive || head.upgrade || (this.peerEnded && !this.pending) || isDraining(this.ctx.listenerName);
  }

  /** A drain started: an idle keep-alive connection is closed now, a busy one after its response. */
  closeIfIdle(): void {
    if (!this.stream && !this.pending && !this.tunneled && !this.awaitingDrain) this.closeAfterReply();
  }

  /**
   * Ends our side once queued writes flush; no further request is read. Envoy's delayed close:
   * the socket then reads (and drops) what still comes, so the peer's FIN or RST is seen and
   * unread bytes do not turn our close into a reset that could beat the reply, and it is closed
   * whole DELAYED_CLOSE_MS after the flush. Before, a socket paused with bytes held (an upgrade
   * that got no 101, say) never saw its peer leave and kept its descriptor for good.
   */
  closeAfterReply(): void {
    this.closeWhenDone = true;
    this.pending = undefined;
    if (this.closed || this.closing) return;
    this.closing = true;
    const socket = this.socket;
    setReader(socket, dropBytes);
    this.readingPaused = false;
    socket.resume();
    socket.end();
    socket.once('finish', () => setTimeout(() => socket.destroy(), DELAYED_CLOSE_MS).unref());
  }

  write(data: string | Buffer, encoding?: BufferEncoding): boolean {
    if (this.closed) return false;
    return typeof data === 'string' ? this.socket.write(data, encoding ?? 'latin1') : writeBytes(this.socket, data);
  }

  /**
   * One 'drain' wait per connection: the latest waiter replaces an earlier one, which belongs to
   * this stream or to a finished one (its response is over, nothing left to resume). Without
   * this, each response past the high-water mark added a listener until the client read. The
   * wait for the next pipelined request (streamDone) uses it too.
   */
  onceDrain(fn: () => void): void {
    if (this.drainWaiter === undefined) this.socket.once('drain', () => runGuarded(() => this.onDrainWaiter(), 'a client drain\'s handling', () => this.destroy()));
    this.drainWaiter = fn;
  }

  private onDrainWaiter(): void {
    const fn = this.drainWaiter;
    this.drainWaiter = undefined;
    fn?.();
  }

  pauseReading(): void {
    this.pauseSocket();
  }

  resumeReading(): void {
    if (!this.pending && !this.awaitingDrain) this.resumeSocket();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private pauseSocket(): void {
    this.readingPaused = true;
    this.socket.pause();
  }

  private resumeSocket(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.socket.resume();
  }

  /** After a 101 from upstream: bytes flow raw both ways until either side closes. */
  tunnel(head: Buffer, up: UpstreamConnection): void {
    this.write(head);
    this.tunneled = true;
    const down = this.socket;
    const upSock = up.socket;
    up.stream = undefined;
    const rest = this.pending;
    this.pending = undefined;
    if (rest) upSock.write(rest);
    relayBytes(down, upSock);
    relayBytes(upSock, down);
    this.readingPaused = false;
    down.resume();
    upSock.on('close', () => down.destroy());
    down.on('close', () => upSock.destroy());
  }

  // ---- endings -----------------------------------------------------------------------------

  /** A request head still incomplete at request_headers_timeout: Envoy's 408, then close. */
  private onRequestHeadersTimeout(): void {
    this.headersTimer = undefined;
    if (this.closed || this.stream) return;
    if (this.ctx.httpStats !== undefined) this.ctx.stats.inc(this.ctx.httpStats + H.downstream_rq_header_timeout);
    this.localReplyAndClose(LOCAL_REPLIES.requestHeaderTimeout);
  }

  /** Malformed input: Envoy's status (400, 431, 501), connection closed, nothing forwarded. */
  private protocolError(): void {
    const err = this.parser.error!;
    const stream = this.stream;
    if (this.ctx.httpStats !== undefined) this.ctx.stats.inc(this.ctx.httpStats + H.downstream_cx_protocol_error);
    if (stream === this.undecoded) {
      // Never routed: it did not start, so there is nothing to reset or log but the error.
      this.undecoded = undefined;
      this.stream = undefined;
    } else if (stream) {
      stream.onDownstreamReset();
      this.stream = undefined;
      if (stream.responseComplete || stream.info.responseCode) return this.destroy();
    }
    // Envoy sends codec errors through the HCM's local reply: the reason phrase is the body.
    this.localReplyAndClose({ status: err.status, body: STATUS_REASONS[err.status] ?? '', details: err.details ?? 'http1.codec_error', flag: Flag.DPE });
  }

  /** A reply to no routed request (a codec error, a head that never completed): logged, then the connection ends. */
  private localReplyAndClose(reply: LocalReply): void {
    const info = new StreamInfo(this.localAddress, this.remoteAddress);
    info.flags = reply.flag;
    info.responseCode = reply.status;
    info.details = reply.details;
    info.bytesSent = reply.body.length;
    this.socket.write(encodeLocalReply(reply, true, this.filter), 'latin1');
    this.ctx.accessLog?.log(info);
    this.closeAfterReply();
  }

  private onEnd(): void {
    // A client that half-closes after its request still gets the response; between requests it is done.
    if (!this.stream && !this.pending) this.closeAfterReply();
    else if (this.stream && !this.stream.requestComplete) {
      this.parser.finish();
      this.stream.onDownstreamReset();
      this.destroy();
    } else this.peerEnded = true;
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.headersTimer);
    untrackConnection(this.ctx.listenerName, this);
    if (this.ctx.httpStats !== undefined) this.ctx.stats.dec(this.ctx.httpStats + H.downstream_cx_active);
    this.stream?.onDownstreamReset();
    this.stream = undefined;
  }
}
