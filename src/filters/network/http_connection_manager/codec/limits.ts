/** Parser limits. Defaults are Envoy's (`max_request_headers_kb` 60, `max_headers_count` 100). */
export interface ParserLimits {
  /**
   * Bytes of the header section: the start line plus every field line, CRLFs excluded.
   * Envoy counts the URL plus names and values; ours also counts method, version and the
   * `: ` separators, so it is slightly stricter (at most ~4 bytes per field). Applies to the
   * trailer section separately.
   */
  maxHeaderBytes: number;
  /** Fields in the header section (and, separately, in the trailer section). */
  maxHeaders: number;
  /** Bytes of one chunk-size line including extensions. */
  maxChunkLineBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ParserLimits> = Object.freeze({
  maxHeaderBytes: 60 * 1024,
  maxHeaders: 100,
  maxChunkLineBytes: 4096,
});

export function resolveLimits(l?: Partial<ParserLimits>): ParserLimits {
  return {
    maxHeaderBytes: l?.maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes,
    maxHeaders: l?.maxHeaders ?? DEFAULT_LIMITS.maxHeaders,
    maxChunkLineBytes: l?.maxChunkLineBytes ?? DEFAULT_LIMITS.maxChunkLineBytes,
  };
}
