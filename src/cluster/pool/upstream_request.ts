import type { HeaderList, ResponseHead } from '../../filters/network/http_connection_manager/codec/index.js';

/** How a request's body is delimited: none, a declared length, or until its end (chunked on HTTP/1.1, END_STREAM on h2). */
export const enum BodyFraming {
  None = 0,
  Length = 1,
  UntilEnd = 2,
}

/** What a request attempt hears from its upstream (an HTTP/1.1 connection or an HTTP/2 stream). */
export interface UpstreamStreamCallbacks {
  onUpstreamInformational(head: ResponseHead): void;
  onUpstreamHead(head: ResponseHead): void;
  /** `chunk` is valid only during the call (it may lie in the thread's read buffer). */
  onUpstreamBody(chunk: Buffer): void;
  onUpstreamComplete(trailers: HeaderList | null): void;
  /**
   * The connection or stream failed before the response completed. `beforeResponse`: no byte of
   * a response was seen. 'refused_stream': an h2 upstream refused the stream (safe to retry).
   */
  onUpstreamReset(reason: 'connection_termination' | 'protocol_error' | 'overflow' | 'refused_stream', beforeResponse: boolean, details: string): void;
  /** The upstream can take more request bytes (after a full write). */
  onUpstreamDrain(): void;
  /** One read's bytes have been handed over (a chance to flush what was batched). */
  onUpstreamReadEnd(): void;
  /** A call into this stream threw (a bug) outside a read: end it, and only it. */
  endAfterThrow(): void;
}

/**
 * One request on an upstream, whatever the protocol: the router writes through this and hears
 * back through UpstreamStreamCallbacks, so retries, timeouts and stats stay one implementation.
 */
export interface UpstreamRequest {
  /** `ip:port` of this end of the connection (Envoy's %UPSTREAM_LOCAL_ADDRESS%). */
  readonly localAddress: string;
  /** 'HTTP/1.1' or 'HTTP/2'. */
  readonly protocol: string;
  /** Sends the head; `headers` carry `host` (h2: becomes `:authority`). The list is not kept. */
  sendHeaders(callbacks: UpstreamStreamCallbacks, method: string, path: string, headers: HeaderList, framing: BodyFraming): void;
  /** A body chunk the caller no longer touches; false when the upstream is full (wait for onUpstreamDrain). */
  sendData(chunk: Buffer): boolean;
  /** The request's end (HTTP/1.1 chunked: last chunk with trailers; h2: END_STREAM, trailers as HEADERS). */
  sendEnd(trailers: HeaderList | null): void;
  /** Stops the exchange without waiting for its response (reset, timeout, cancel). */
  abort(): void;
  /** Gives the request slot back unused (the client went away before sending). */
  releaseUnused(): void;
  /** Response backpressure: stop / restart delivering response bytes. */
  pauseResponse(): void;
  resumeResponse(): void;
}

/** Who asked for an upstream request: told onPoolReady or onPoolFailure, never both (an object, so no closures per request). */
export interface PoolRequester {
  onPoolReady(request: UpstreamRequest, reused: boolean): void;
  /** `reason` is a Node error code, 'connection timeout' or 'overflow' (a circuit breaker refused). */
  onPoolFailure(reason: string, timeout: boolean): void;
  /** A call into this requester threw (a bug): end it, and only it. */
  endAfterThrow(): void;
}

/** What a pool offers the router. */
export interface RequestPool {
  /** A request slot: onPoolReady/onPoolFailure, possibly before this returns; the pending entry when it has to wait. */
  acquire(requester: PoolRequester): PendingRequest | undefined;
  cancel(p: PendingRequest): void;
}

/** A request waiting for a connection (or stream) of its pool; `cancel()` when its client goes away. */
export class PendingRequest {
  constructor(
    private readonly pool: RequestPool,
    readonly requester: PoolRequester,
    readonly since: number,
  ) {}

  cancel(): void {
    this.pool.cancel(this);
  }
}
