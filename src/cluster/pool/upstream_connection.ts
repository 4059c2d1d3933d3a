import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { ResponseParser, State, type ResponseHandler, type ResponseHead } from '../../filters/network/http_connection_manager/codec/index.js';
import { readerOf, setReader } from '../../listener/socket_reader.js';
import { tookWhole, writeBytes } from '../../listener/socket_writer.js';
import type { HeaderList } from '../../filters/network/http_connection_manager/codec/index.js';
import type { Http1Pool } from './http1_pool.js';
import { encodeChunk, encodeRequestHead, lastChunk, releaseHeadBuffer } from '../../filters/network/http_connection_manager/codec/index.js';
import { BodyFraming, type UpstreamRequest, type UpstreamStreamCallbacks } from './upstream_request.js';
import { runGuarded } from '../../guarded_timer.js';

/**
 * One upstream HTTP/1.1 connection: a socket and a response parser, carrying one request at a
 * time. Response bytes are parsed straight from the socket's buffers and handed to the
 * attached stream; an idle connection that hears anything (or its peer's FIN) is closed, so a
 * request is never written onto a connection the upstream has already given up.
 */
export class UpstreamConnection implements ResponseHandler, UpstreamRequest {
  readonly protocol = 'HTTP/1.1';
  readonly socket: Socket;
  readonly parser: ResponseParser;
  stream: UpstreamStreamCallbacks | undefined;
  requests = 0;
  /** A response byte has been seen for the current request. */
  responseStarted = false;
  connected = false;
  closed = false;
  /** The pool counted a request (and took a circuit-breaker request) for this connection. */
  holdsRequest = false;
  /** Past max connection duration: closed once its request finishes. */
  draining = false;
  /** The connect attempt failed or timed out (the pool has already heard). */
  connectFailed = false;
  durationTimer: NodeJS.Timeout | undefined;
  /** The current request's body goes out chunked. */
  private chunked = false;
  /** A request head waiting (until the end of this tick) to leave in one write with the body in hand. */
  private heldHead: Buffer | undefined;
  /** Whether the current response allows reuse. */
  private reusable = true;
  /** When the connection last went idle (performance.now()); the pool's sweep closes it after the idle timeout. */
  idleSince = 0;
  private local: string | undefined;
  /** A read is being parsed: a response that ends in it is finished once the parse returns. */
  private parsing = false;
  /** The response that ended in the read being parsed (its trailers, or null). */
  private endedInRead = false;
  private endedTrailers: HeaderList | null = null;

  constructor(
    readonly pool: Http1Pool,
    socket: Socket,
  ) {
    this.socket = socket;
    this.parser = new ResponseParser(this);
    setReader(socket, (b: Buffer) => this.onData(b));
    // Events outside a read run the stream's code unguarded by the socket reader: a throw there
    // (a bug) ends this connection and its stream, not the worker (guarded_timer.ts).
    socket.on('end', () => this.guarded(() => this.onEnd(), 'an upstream FIN\'s handling'));
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.guarded(() => this.stream?.onUpstreamDrain(), 'an upstream drain\'s handling'));
  }

  /** `ip:port` of this end of the connection (Envoy's %UPSTREAM_LOCAL_ADDRESS%). */
  get localAddress(): string {
    return (this.local ??= `${this.socket.localAddress}:${this.socket.localPort}`);
  }

  /** Attaches a stream for one request; the caller then writes the request. */
  attach(stream: UpstreamStreamCallbacks, method: string): void {
    this.stream = stream;
    this.requests++;
    this.responseStarted = false;
    this.reusable = true;
    this.parser.expect(method);
  }

  /**
   * Writes the request head. When a body follows, the head is held until the end of this tick
   * and leaves in one write with the body bytes in hand (one copy is cheaper than corking the
   * socket, whose writev path allocates per chunk).
   */
  sendHeaders(stream: UpstreamStreamCallbacks, method: string, path: string, h: HeaderList, framing: BodyFraming): void {
    this.attach(stream, method);
    const chunked = (this.chunked = framing === BodyFraming.UntilEnd);
    if (chunked) h.push('transfer-encoding', 'chunked');
    const head = encodeRequestHead(method, path, h);
    if (chunked) h.length -= 2;
    if (framing === BodyFraming.None) {
      this.writeHead(head);
      return;
    }
    this.heldHead = head;
    process.nextTick(flushHeldHead, this);
  }

  sendData(chunk: Buffer): boolean {
    return this.write(this.chunked ? encodeChunk(chunk) : chunk);
  }

  sendEnd(trailers: HeaderList | null): void {
    if (this.chunked) this.write(lastChunk(trailers));
  }

  private write(data: Buffer): boolean {
    const head = this.heldHead;
    if (head === undefined) return writeBytes(this.socket, data);
    this.heldHead = undefined;
    const joined = Buffer.concat([head, data], head.length + data.length);
    releaseHeadBuffer(head);
    return writeBytes(this.socket, joined);
  }

  /** Writes a head from the serializer, and releases its buffer when the kernel took it whole. */
  private writeHead(head: Buffer): void {
    writeBytes(this.socket, head);
    if (tookWhole(head)) releaseHeadBuffer(head);
  }

  /** The end of the tick the head was encoded in: no body came with it, so it leaves alone. */
  flushHeldHead(): void {
    const head = this.heldHead;
    if (head === undefined) return;
    this.heldHead = undefined;
    if (!this.closed && !this.socket.destroyed) this.writeHead(head);
  }

  releaseUnused(): void {
    this.pool.release(this, true);
  }

  /** Reads are paused because the current response's downstream is full. */
  private responsePaused = false;

  pauseResponse(): void {
    this.responsePaused = true;
    this.socket.pause();
  }

  resumeResponse(): void {
    if (!this.responsePaused) return;
    this.responsePaused = false;
    this.socket.resume();
  }

  /** Detaches the stream without waiting for its response (reset, timeout): the connection is closed. */
  abort(): void {
    this.stream = undefined;
    this.heldHead = undefined;
    // A retry on the response head aborts inside the read that holds it: the end of that
    // message, parsed next, must not give the connection back to the pool.
    this.reusable = false;
    this.socket.destroy();
  }

  private onData(b: Buffer): void {
    if (!this.stream) {
      // Bytes on an idle connection: the upstream is out of step with us; never reuse it.
      this.pool.onProtocolError();
      this.socket.destroy();
      return;
    }
    this.responseStarted = true;
    this.parsing = true;
    const off = this.parser.execute(b, 0);
    this.parsing = false;
    if (this.parser.error) {
      const s = this.stream;
      this.stream = undefined;
      this.pool.onProtocolError();
      this.socket.destroy();
      s?.onUpstreamReset('protocol_error', false, this.parser.error.details ?? 'protocol error');
      return;
    }
    if (this.endedInRead) {
      // Bytes after the end of the response answer no request (a second response, say). Parsed
      // as the next request's response they would be served to whoever sent it, possibly
      // another client: the connection is closed instead, as Envoy's codec does.
      const outOfStep = off < b.length;
      if (outOfStep) this.pool.onProtocolError();
      this.endResponse(this.endedTrailers, this.reusable && !outOfStep);
      return;
    }
    // A 101 handed the socket to a tunnel: the bytes after the head are the tunnel's.
    if (off < b.length && this.parser.state === State.Upgraded) readerOf(this.socket)?.(b.subarray(off));
    this.stream?.onUpstreamReadEnd();
  }

  onInformational(head: ResponseHead): void {
    this.stream?.onUpstreamInformational(head);
  }

  onResponseHead(head: ResponseHead): void {
    this.reusable = head.keepAlive && !head.upgrade && !head.bodyUntilClose;
    this.stream?.onUpstreamHead(head);
  }

  onBody(chunk: Buffer): void {
    this.stream?.onUpstreamBody(chunk);
  }

  onMessageComplete(trailers: HeaderList | null): void {
    if (this.parsing) {
      this.endedInRead = true;
      this.endedTrailers = trailers;
      return;
    }
    // A read-until-close body, ended by the peer's FIN.
    this.endResponse(trailers, this.reusable);
  }

  private endResponse(trailers: HeaderList | null, reusable: boolean): void {
    this.endedInRead = false;
    this.endedTrailers = null;
    const s = this.stream;
    this.stream = undefined;
    // The response is over: a pause its downstream asked for must not follow the connection
    // into the pool, where the next request (any client's) would wait for that client to read.
    this.resumeResponse();
    // Back in the pool before the stream hears of it: the stream may start the next
    // (pipelined) request at once, and that request should find this warm connection.
    this.pool.release(this, reusable);
    s?.onUpstreamComplete(trailers);
  }

  private onEnd(): void {
    if (this.stream) {
      // A read-until-close body ends here; anything else is a reset.
      const err = this.parser.finish();
      if (!err) return;
    }
    this.socket.destroy();
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.durationTimer);
    this.pool.forget(this);
    const s = this.stream;
    this.stream = undefined;
    if (s === undefined) return;
    const beforeResponse = !this.responseStarted;
    runGuarded(() => s.onUpstreamReset('connection_termination', beforeResponse, 'connection termination'), 'an upstream close\'s handling', () => s.endAfterThrow());
  }

  private guarded(fn: () => void, what: string): void {
    const s = this.stream;
    runGuarded(fn, what, () => {
      this.socket.destroy();
      s?.endAfterThrow();
    });
  }
}

function flushHeldHead(c: UpstreamConnection): void {
  c.flushHeldHead();
}
