import { Buffer } from 'node:buffer';
import { encodeChunk, encodeResponseHead, lastChunk, releaseHeadBuffer, STATUS_REASONS, type HeaderList, type RequestHead } from './codec/index.js';
import { tookWhole } from '../../../listener/socket_writer.js';
import type { DownstreamStream } from './downstream.js';
import { encodeLocalReply, type LocalReply } from './local_reply.js';
import type { HttpConnectionManagerFilter } from '../../../config/model.js';

/** The largest declared body that gets room after its response head (one copy, one write). */
const BODY_ROOM_MAX = 16 * 1024;

/**
 * The HTTP/1.1 side of Downstream's response encoding. A connection answers one request at a
 * time, so the connection manager is its own encoder (this base class): no object per response.
 */
export abstract class Http1ResponseEncoder {
  /** The response in progress is sent chunked. */
  private chunkedResponse = false;
  /**
   * A response head waiting to be written together with the first body bytes: its first
   * pendingHeadLength bytes, then room for a body of the declared length.
   */
  private pendingHead: Buffer | undefined;
  private pendingHeadLength = 0;

  abstract write(data: string | Buffer, encoding?: BufferEncoding): boolean;
  abstract shouldClose(head: RequestHead): boolean;
  /** The connection manager's config (local replies carry its base response headers). */
  abstract readonly filter: HttpConnectionManagerFilter;

  continueRequest(): void {
    // Envoy answers 100-continue itself and does not forward the expectation.
    this.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  }

  encodeHeaders(stream: DownstreamStream, status: number, reason: string, h: HeaderList, endStream: boolean, bodyLength: number): void {
    const chunked = (this.chunkedResponse = !endStream && bodyLength < 0);
    if (chunked) h.push('transfer-encoding', 'chunked');
    if (this.shouldClose(stream.head)) h.push('connection', 'close');
    // Held until the body's first bytes (usually from the same upstream read) so that head and
    // body leave in one write; flushed at the end of the read otherwise. A small declared body
    // gets room after the head, so it is copied once, not joined to the head in a third Buffer.
    const room = !endStream && bodyLength > 0 && bodyLength <= BODY_ROOM_MAX ? bodyLength : 0;
    const head = encodeResponseHead(status, reason || STATUS_REASONS[status], h, 1, room);
    this.pendingHead = head;
    this.pendingHeadLength = head.length - room;
  }

  encodeData(chunk: Buffer): boolean {
    // `chunk` may lie in the thread's read buffer (src/listener/socket_reader.ts): whatever is written is a copy.
    const head = this.pendingHead;
    if (head === undefined) return this.write(this.chunkedResponse ? encodeChunk(chunk) : Buffer.from(chunk));
    this.pendingHead = undefined;
    const used = this.pendingHeadLength;
    if (used + chunk.length <= head.length) {
      head.set(chunk, used);
      const n = used + chunk.length;
      return this.writeHead(head, n);
    }
    const data = this.chunkedResponse ? encodeChunk(chunk) : chunk;
    const out = Buffer.allocUnsafe(used + data.length);
    head.copy(out, 0, 0, used);
    releaseHeadBuffer(head);
    data.copy(out, used);
    return this.write(out);
  }

  /** Writes the first `n` bytes of a head buffer, and releases it when the kernel took them all. */
  private writeHead(head: Buffer, n: number): boolean {
    const out = n === head.length ? head : head.subarray(0, n);
    const ok = this.write(out);
    if (tookWhole(out)) releaseHeadBuffer(head);
    return ok;
  }

  flushHeaders(): void {
    const head = this.pendingHead;
    if (head !== undefined) {
      this.pendingHead = undefined;
      this.writeHead(head, this.pendingHeadLength);
    }
  }

  /** Trailers need chunked framing; a response with a declared length drops them (as Envoy's HTTP/1 codec). */
  encodeEnd(trailers: HeaderList | null): void {
    this.flushHeaders();
    if (this.chunkedResponse) this.write(lastChunk(trailers));
  }

  encodeLocalReply(stream: DownstreamStream, reply: LocalReply, bodyStillArriving: boolean): void {
    const close = this.shouldClose(stream.head) || bodyStillArriving;
    this.write(encodeLocalReply(reply, close, this.filter, stream.head.method === 'HEAD'), 'latin1');
  }
}
