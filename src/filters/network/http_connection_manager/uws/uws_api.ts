/**
 * The part of uWebSockets.js's API this front end uses. Declared here rather than imported from
 * the package because the package is an optional dependency: the build must not need it.
 */
export type UwsListenSocket = object;

export interface UwsHttpResponse {
  writeStatus(status: string): UwsHttpResponse;
  writeHeader(key: string, value: string): UwsHttpResponse;
  /** Chunked framing; the whole chunk is taken (buffered by uWS if need be). False: backpressure. */
  write(chunk: Uint8Array): boolean;
  end(body?: Uint8Array | string, closeConnection?: boolean): UwsHttpResponse;
  endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): UwsHttpResponse;
  /** Content-length framing; writes what the socket takes now: [all of it was written, the response is complete]. */
  tryEnd(chunk: Uint8Array, totalSize: number): [boolean, boolean];
  close(): UwsHttpResponse;
  getWriteOffset(): number;
  onWritable(handler: (offset: number) => boolean): UwsHttpResponse;
  onAborted(handler: () => void): UwsHttpResponse;
  /** The chunk's memory is taken back when the handler returns: copy what is kept. */
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): UwsHttpResponse;
  getRemoteAddressAsText(): ArrayBuffer;
  cork(cb: () => void): UwsHttpResponse;
  pause(): void;
  resume(): void;
}

/** Valid only during the request handler's call. */
export interface UwsHttpRequest {
  getCaseSensitiveMethod(): string;
  getUrl(): string;
  /** The raw query string, undefined or '' when there is none. */
  getQuery(): string | undefined;
  forEach(cb: (key: string, value: string) => void): void;
}

export interface UwsApp {
  any(pattern: string, handler: (res: UwsHttpResponse, req: UwsHttpRequest) => void): UwsApp;
  listen(host: string, port: number, cb: (socket: UwsListenSocket | false) => void): UwsApp;
  /** Closes the listen sockets and every connection (a worker must not exit with any open). */
  close(): void;
}

export interface UwsModule {
  App(): UwsApp;
  us_listen_socket_close(socket: UwsListenSocket): void;
  /** The port a listen socket is bound to (useful after listening on port 0). */
  us_socket_local_port(socket: UwsListenSocket): number;
}
