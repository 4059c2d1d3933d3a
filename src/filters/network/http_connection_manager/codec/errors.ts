import { LegateError } from '../../../../errors.js';

/**
 * Stable error codes of the HTTP/1.1 codec. Names follow llhttp's `HPE_*` vocabulary where
 * one exists so that logs read the same whichever parser produced them.
 */
export const enum CodecErrorCode {
  /** Request line or status line is malformed (spaces, missing parts). */
  InvalidRequestLine = 'HPE_INVALID_REQUEST_LINE',
  InvalidStatusLine = 'HPE_INVALID_STATUS',
  InvalidMethod = 'HPE_INVALID_METHOD',
  InvalidUrl = 'HPE_INVALID_URL',
  InvalidVersion = 'HPE_INVALID_VERSION',
  /** Bad byte in a header name, empty name, whitespace before the colon, missing colon. */
  InvalidHeaderToken = 'HPE_INVALID_HEADER_TOKEN',
  /** NUL or another control byte in a header value. */
  InvalidHeaderValue = 'HPE_INVALID_HEADER_VALUE',
  /** A header line starting with SP/HTAB (obsolete line folding). */
  ObsFold = 'HPE_OBS_FOLD',
  /** LF not preceded by CR (bare LF line ending). */
  CrExpected = 'HPE_CR_EXPECTED',
  /** CR not followed by LF (bare CR). */
  LfExpected = 'HPE_LF_EXPECTED',
  InvalidContentLength = 'HPE_INVALID_CONTENT_LENGTH',
  /** More than one Content-Length field, even with identical values (Envoy behaviour). */
  DuplicateContentLength = 'HPE_UNEXPECTED_CONTENT_LENGTH',
  /** More than one Host field in a request (RFC 9112 §3.2: 400). */
  DuplicateHost = 'HPE_DUPLICATE_HOST',
  /** Both Content-Length and Transfer-Encoding. */
  ContentLengthAndTransferEncoding = 'HPE_CL_TE',
  /** Transfer-Encoding other than exactly `chunked` (or repeated). */
  InvalidTransferEncoding = 'HPE_INVALID_TRANSFER_ENCODING',
  /** Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: framing is faulty). */
  TransferEncodingHttp10 = 'HPE_TE_HTTP10',
  /** CONNECT request with a body. */
  ConnectWithBody = 'HPE_CONNECT_BODY',
  InvalidChunkSize = 'HPE_INVALID_CHUNK_SIZE',
  InvalidChunkExtension = 'HPE_INVALID_CHUNK_EXTENSION',
  /** Chunk data not followed by CRLF. */
  InvalidChunkData = 'HPE_INVALID_CHUNK_DATA',
  InvalidTrailer = 'HPE_INVALID_TRAILER',
  /** Header block (request line + fields, or trailers) larger than the limit. */
  HeaderOverflow = 'HPE_HEADER_OVERFLOW',
  TooManyHeaders = 'HPE_TOO_MANY_HEADERS',
  /** Response to a 1xx/204 carrying Transfer-Encoding or a non-zero Content-Length. */
  BodyNotAllowed = 'HPE_BODY_NOT_ALLOWED',
  /** Connection closed in the middle of a message. */
  InvalidEofState = 'HPE_INVALID_EOF_STATE',
  /** execute() called after the connection switched protocols or after an error. */
  Closed = 'HPE_CLOSED_CONNECTION',
}

/** Envoy's response-code-details strings, so access logs keep reading the same. */
export const Details = {
  codecError: 'http1.codec_error',
  invalidCharacters: 'http1.invalid_characters',
  invalidUrl: 'http1.invalid_url',
  headersTooLarge: 'http1.headers_too_large',
  tooManyHeaders: 'http1.too_many_headers',
  invalidTransferEncoding: 'http1.invalid_transfer_encoding',
  chunkedContentLength: 'http1.content_length_and_chunked_not_allowed',
  bodyDisallowed: 'http1.body_disallowed',
  transferEncodingNotAllowed: 'http1.transfer_encoding_not_allowed',
  contentLengthNotAllowed: 'http1.content_length_not_allowed',
} as const;

/**
 * A framing or syntax error. `status` is what a server answers (400/431/501) before closing
 * the connection; for errors from the response parser it is 502 (upstream protocol error).
 * `details` is Envoy's response-code-details string for the access log.
 */
export class HttpCodecError extends LegateError {
  readonly status: number;
  readonly details: string;
  /** Offset in the buffer passed to execute() where the error was detected (best effort). */
  readonly offset: number;
  constructor(code: CodecErrorCode, status: number, details: string, message: string, offset: number) {
    super(code, message);
    this.name = 'HttpCodecError';
    this.status = status;
    this.details = details;
    this.offset = offset;
  }
}

/** Default status for a code on the request (server) side. */
export function requestStatusFor(code: CodecErrorCode): number {
  switch (code) {
    case CodecErrorCode.HeaderOverflow:
    case CodecErrorCode.TooManyHeaders:
      return 431;
    case CodecErrorCode.InvalidTransferEncoding:
      return 501;
    default:
      return 400;
  }
}

export function detailsFor(code: CodecErrorCode): string {
  switch (code) {
    case CodecErrorCode.InvalidHeaderValue:
      return Details.invalidCharacters;
    case CodecErrorCode.InvalidUrl:
      return Details.invalidUrl;
    case CodecErrorCode.HeaderOverflow:
      return Details.headersTooLarge;
    case CodecErrorCode.TooManyHeaders:
      return Details.tooManyHeaders;
    case CodecErrorCode.InvalidTransferEncoding:
      return Details.invalidTransferEncoding;
    case CodecErrorCode.ContentLengthAndTransferEncoding:
      return Details.chunkedContentLength;
    case CodecErrorCode.ConnectWithBody:
      return Details.bodyDisallowed;
    default:
      return Details.codecError;
  }
}
