/**
 * HTTP/1.1 codec for the HTTP connection manager: strict incremental request and response
 * parsers, a head serializer with chunked framing helpers, and flat header-list helpers.
 * See docs/http1-codec.md for the API contract, the strictness decisions and the figures.
 */
export { RequestParser, RequestHead, TargetForm, type RequestHandler } from './request_parser.js';
export { ResponseParser, ResponseHead, type ResponseHandler } from './response_parser.js';
export { State, type BodyHandler } from './parser_base.js';
export { CodecErrorCode, HttpCodecError, Details } from './errors.js';
export { DEFAULT_LIMITS, type ParserLimits } from './limits.js';
export { lastColon } from './chars.js';
export {
  type HeaderList, getHeader, getHeaderAll, hasHeader, setHeader, appendHeader, removeHeader,
  listHasToken, listTokens, stripHopByHop, HOP_BY_HOP, KEEP_UPGRADE, type StripHopByHopOptions,
} from './headers.js';
export {
  requestHeadString, responseHeadString, encodeRequestHead, encodeResponseHead, chunkHeader, encodeChunk,
  lastChunk, CRLF, LAST_CHUNK, STATUS_REASONS, SerializeErrorCode,
} from './serializer.js';
export { releaseHeadBuffer } from './head_buffers.js';
