import type { UpstreamConnection } from '../../../../cluster/pool/upstream_connection.js';
import { getHeader, STATUS_REASONS, type HeaderList } from '../codec/index.js';
import type { Downstream, DownstreamStream } from '../downstream.js';
import { isDraining } from '../drain.js';
import type { LocalReply } from '../local_reply.js';
import { ActiveStream } from '../active_stream.js';
import type { HttpContext } from '../http_context.js';
import { requestHasBody, requestHeadFromUws } from './uws_request.js';
import type { UwsHttpRequest, UwsHttpResponse } from './uws_api.js';

/** Framing and fields uWS writes itself (it adds its own Date and length or chunked framing). */
const WRITTEN_BY_UWS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);
const EMPTY = new Uint8Array(0);

/**
 * One request on a uWS HttpResponse, as a Downstream: ActiveStream routes, filters and proxies
 * it exactly as on the node engine. uWS owns the connection (parsing, keep-alive, idle timeout);
 * this object only lives for the exchange and never touches `res` once it is aborted or ended.
 * A response with a declared length goes out with tryEnd() (content-length framing, unsent
 * bytes retried from onWritable); one without, with write() (chunked).
 */
export class UwsDownstream implements Downstream {
  readonly protocol = undefined;
  readonly localAddress: string;
  readonly remoteAddress: string;
  private readonly active: ActiveStream;
  private readonly listenerName: string;
  /** The connection is gone (onAborted) or this response is complete: `res` is off limits. */
  private finished = false;
  private requestEnded = false;
  /** A response head held until its first body bytes (one write for both). */
  private status: string | undefined;
  private headers: HeaderList | undefined;
  /** Declared response length (tryEnd framing); -1: chunked. */
  private totalSize = -1;
  /** Bytes of a tryEnd() the socket did not take, and the write offset they start at. */
  private unsent: Uint8Array | undefined;
  private unsentOffset = 0;
  private drainWaiters: (() => void)[] = [];
  private writableHooked = false;
  private chunk: Uint8Array = EMPTY;
  private ok = true;
  private readonly writeChunk = () => this.writeCorked();

  constructor(
    private readonly res: UwsHttpResponse,
    req: UwsHttpRequest,
    ctx: HttpContext,
    localAddress: string,
  ) {
    const head = requestHeadFromUws(req);
    this.localAddress = localAddress;
    this.listenerName = ctx.listenerName;
    // uWS tells the peer's address but not its port.
    this.remoteAddress = `${Buffer.from(res.getRemoteAddressAsText()).toString('latin1')}:0`;
    this.active = new ActiveStream(this, ctx, head);
    res.onAborted(() => this.onAborted());
    if (requestHasBody(head)) res.onData((ab, isLast) => this.onData(ab, isLast));
  }

  /** Called once, inside uWS's request handler (corked). */
  start(): void {
    const active = this.active;
    active.decodeHeaders();
    if (!requestHasBody(active.head) && !this.requestEnded) {
      this.requestEnded = true;
      active.decodeComplete(null);
    }
  }

  private onData(ab: ArrayBuffer, isLast: boolean): void {
    // uWS takes the memory back when this returns: the stream keeps a copy (it may retry).
    if (ab.byteLength > 0) this.active.decodeData(Buffer.from(new Uint8Array(ab)));
    if (isLast && !this.requestEnded) {
      this.requestEnded = true;
      this.active.decodeComplete(null);
    }
  }

  private onAborted(): void {
    if (this.finished) return;
    this.finished = true;
    this.drainWaiters.length = 0;
    this.active.onDownstreamReset();
  }

  continueRequest(): void {
    // uWS answers `Expect: 100-continue` itself before the handler runs.
  }

  encodeHeaders(_s: DownstreamStream, status: number, reason: string, h: HeaderList, endStream: boolean, unknownLength: boolean): void {
    if (this.finished) return;
    const line = `${status} ${reason || STATUS_REASONS[status] || 'Unknown'}`;
    if (endStream) {
      // HEAD (and a declared empty body) keeps its content-length; 204/304 get none.
      const declared = getHeader(h, 'content-length');
      this.res.cork(() => {
        this.writeHead(line, h);
        this.finished = true;
        if (declared !== undefined && status !== 204 && status !== 304) this.res.endWithoutBody(Number(declared), this.closeAfter());
        // No argument at all: uWS reads `undefined` as a length (2^63); closing is then left to uWS.
        else this.res.endWithoutBody();
      });
      return;
    }
    const declared = unknownLength ? undefined : getHeader(h, 'content-length');
    this.totalSize = declared === undefined ? -1 : Number(declared);
    this.status = line;
    this.headers = h;
  }

  private writeHead(status: string, h: HeaderList): void {
    const res = this.res;
    res.writeStatus(status);
    for (let i = 0; i < h.length; i += 2) if (!WRITTEN_BY_UWS.has(h[i])) res.writeHeader(h[i], h[i + 1]);
  }

  encodeData(chunk: Buffer): boolean {
    if (this.finished) return true;
    if (this.unsent) {
      // Still waiting for the socket: queue behind what it has not taken (a copy: `chunk` is the read buffer's).
      this.unsent = concat(this.unsent, chunk);
      return false;
    }
    this.chunk = chunk;
    this.res.cork(this.writeChunk);
    this.chunk = EMPTY;
    if (!this.ok) this.hookWritable();
    return this.ok;
  }

  private writeCorked(): void {
    const res = this.res;
    if (this.status !== undefined) {
      this.writeHead(this.status, this.headers!);
      this.status = this.headers = undefined;
    }
    const chunk = this.chunk;
    if (this.totalSize < 0) {
      this.ok = res.write(chunk);
      return;
    }
    const before = res.getWriteOffset();
    const [ok, done] = res.tryEnd(chunk, this.totalSize);
    if (done) this.finished = true;
    this.ok = ok;
    if (!ok && !done) {
      const taken = res.getWriteOffset() - before;
      this.unsent = Uint8Array.prototype.slice.call(chunk, taken);
      this.unsentOffset = before + taken;
    }
  }

  private hookWritable(): void {
    if (this.writableHooked || this.finished) return;
    this.writableHooked = true;
    // Only responses that met backpressure pay for this closure.
    this.res.onWritable((offset) => this.retryUnsent(offset));
  }

  /** uWS: the socket takes bytes again. True: nothing of ours is left unsent. */
  private retryUnsent(offset: number): boolean {
    if (this.finished && !this.unsent) return true;
    const unsent = this.unsent;
    if (unsent) {
      const rest = unsent.subarray(offset - this.unsentOffset);
      const [ok, done] = this.res.tryEnd(rest, this.totalSize);
      if (done) this.finished = true;
      if (!ok && !done) {
        const taken = this.res.getWriteOffset() - offset;
        this.unsent = rest.slice(taken);
        this.unsentOffset = offset + taken;
        return false;
      }
      this.unsent = undefined;
    }
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of waiters) fn();
    return true;
  }

  encodeEnd(_trailers: HeaderList | null): void {
    // Trailers are dropped: uWS writes no trailer section (docs/gateways.md).
    if (this.finished) return;
    if (this.status !== undefined || this.totalSize < 0) {
      this.res.cork(() => {
        if (this.status !== undefined) this.writeHead(this.status, this.headers!);
        this.status = this.headers = undefined;
        this.finished = true;
        if (this.totalSize < 0) this.res.end(undefined, this.closeAfter());
        else this.res.endWithoutBody(this.totalSize, this.closeAfter());
      });
    }
    // A declared length: the last tryEnd() completed the response (or onWritable will).
  }

  flushHeaders(): void {
    if (this.finished || this.status === undefined) return;
    const status = this.status;
    const h = this.headers!;
    this.status = this.headers = undefined;
    this.res.cork(() => this.writeHead(status, h));
  }

  encodeLocalReply(_s: DownstreamStream, reply: LocalReply, bodyStillArriving: boolean): void {
    if (this.finished) return;
    this.finished = true;
    const close = bodyStillArriving || this.closeAfter();
    const head = this.active.head.method === 'HEAD';
    this.res.cork(() => {
      const res = this.res;
      res.writeStatus(`${reply.status} ${STATUS_REASONS[reply.status] ?? 'Unknown'}`);
      if (reply.body) res.writeHeader('content-type', 'text/plain');
      const extra = reply.headers;
      if (extra) for (let i = 0; i < extra.length; i += 2) res.writeHeader(extra[i], extra[i + 1]);
      res.writeHeader('server', 'legate');
      if (head) res.endWithoutBody(Buffer.byteLength(reply.body), close);
      else res.end(reply.body, close);
    });
  }

  /** A listener that drains answers with `connection: close` (drain.ts). */
  private closeAfter(): boolean {
    return isDraining(this.listenerName) || !this.active.head.keepAlive;
  }

  onceDrain(fn: () => void): void {
    if (this.finished && !this.unsent) return fn();
    this.drainWaiters.push(fn);
  }

  pauseReading(): void {
    if (!this.finished && !this.requestEnded) this.res.pause();
  }

  resumeReading(): void {
    if (!this.finished && !this.requestEnded) this.res.resume();
  }

  resetStream(): void {
    if (this.finished && !this.unsent) return;
    this.finished = true;
    this.unsent = undefined;
    this.res.close();
  }

  streamDone(): void {}

  abandonRequest(): void {
    // The response is complete: uWS reads and drops the rest of the request body itself.
  }

  tunnel(_head: Buffer, up: UpstreamConnection): void {
    // No upgrades through this front end (the request went up without its Upgrade field).
    up.abort();
    this.resetStream();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
