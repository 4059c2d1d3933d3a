import type { ServerOptions } from 'node:http2';

/**
 * Downstream HTTP/2 settings: 100 concurrent streams, a 64 KiB stream window and a 1 MiB
 * connection window (the values Envoy recommends for untrusted downstreams), and nghttp2's
 * flood limits: invalid and empty frames, refused streams, unanswered PINGs and SETTINGS.
 */
export const DOWNSTREAM_H2_OPTIONS: ServerOptions = {
  settings: { maxConcurrentStreams: 100, initialWindowSize: 65536, enablePush: false },
  maxSessionInvalidFrames: 1000,
  maxSessionRejectedStreams: 100,
  maxOutstandingPings: 10,
  maxSettings: 32,
  // Envoy's max_request_headers_kb default (60 KiB) bounds a header block; pairs like Envoy's 100 headers.
  maxHeaderListPairs: 100 + 4,
  maxSessionMemory: 10,
};

export const H2_CONNECTION_WINDOW = 1024 * 1024;

/** Envoy's premature-reset check: looked at from this many streams on. */
const MIN_STREAMS = 100;

/**
 * Rapid reset protection (Envoy's premature_reset_total_stream_count logic): a connection on
 * which more than half of at least MIN_STREAMS streams were reset by the client before their
 * response completed is closed with GOAWAY ENHANCE_YOUR_CALM.
 */
export class RapidResetGuard {
  private streams = 0;
  private premature = 0;

  onStreamOpened(): void {
    this.streams++;
  }

  /** True when the connection should be closed. */
  onPrematureReset(): boolean {
    this.premature++;
    return this.streams >= MIN_STREAMS && this.premature * 2 > this.streams;
  }
}
