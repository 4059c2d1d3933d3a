import type { UpstreamConnection } from '../../../cluster/pool/upstream_connection.js';
import type { HeaderList, RequestHead } from './codec/index.js';
import type { LocalReply } from './local_reply.js';

/** What a Downstream knows of the stream it answers for. */
export interface DownstreamStream {
  readonly head: RequestHead;
  requestComplete: boolean;
}

/**
 * The downstream side of one request, whatever the protocol: the HTTP/1.1 connection manager
 * (one stream at a time, so it is its own encoder) or an HTTP/2 stream. ActiveStream routes,
 * filters and retries once, and encodes its response through this.
 */
export interface Downstream {
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Envoy's %PROTOCOL%: 'HTTP/2' for h2 streams (HTTP/1.x streams read it from their head). */
  readonly protocol: string | undefined;
  /** `Expect: 100-continue` is answered by the proxy (HTTP/1.1). */
  continueRequest(): void;
  /**
   * The response head. `endStream`: no body follows (HEAD, 204, 304); `bodyLength`: the body's
   * declared length, or -1 when it has none (HTTP/1.1 then sends it chunked). HTTP/1.1 may hold
   * the head to send it together with the first body bytes (flushHeaders()).
   */
  encodeHeaders(stream: DownstreamStream, status: number, reason: string, headers: HeaderList, endStream: boolean, bodyLength: number): void;
  /** `chunk` is valid only during the call. False: the client is full (onceDrain()). */
  encodeData(chunk: Buffer): boolean;
  /** The response's end, with trailers when the upstream sent any. */
  encodeEnd(trailers: HeaderList | null): void;
  /** The end of one upstream read: a held head leaves now. */
  flushHeaders(): void;
  /** A whole response made by the proxy. `bodyStillArriving`: the request's body is unread. */
  encodeLocalReply(stream: DownstreamStream, reply: LocalReply, bodyStillArriving: boolean): void;
  onceDrain(fn: () => void): void;
  pauseReading(): void;
  resumeReading(): void;
  /** The response had started and cannot complete: HTTP/1.1 closes the connection, h2 resets the stream. */
  resetStream(): void;
  /** The exchange is over both ways. */
  streamDone(stream: DownstreamStream): void;
  /** The response is complete but the request is not: its remainder is not read (HTTP/1.1 closes). */
  abandonRequest(stream: DownstreamStream): void;
  /** A 101 from upstream (HTTP/1.1 only): `head` is written and bytes flow raw both ways. */
  tunnel(head: Buffer, up: UpstreamConnection): void;
}
