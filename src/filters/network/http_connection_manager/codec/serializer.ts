import { Buffer } from 'node:buffer';
import { LegateError } from '../../../../errors.js';
import { writeLatin1 } from './chars.js';
import type { HeaderList } from './headers.js';
import { headCopier, type HeadCopier } from './native_scan.js';

/**
 * Serializer: a head is joined as one string, its method, target and reason checked with one
 * regex each, and the whole field section checked as it is copied into one Buffer, natively
 * (codec/native/http1_head.c), so the caller makes one write per head (reading a string char by
 * char costs V8 several times more). Fields are always re-serialised from the list (never raw bytes passed through), and
 * every name, value, method, target and reason is checked, so no CR, LF, NUL or other control
 * byte can reach the wire. Failures throw a LegateError with a stable code.
 */
export const SerializeErrorCode = {
  InvalidMethod: 'ERR_HTTP1_INVALID_METHOD',
  InvalidTarget: 'ERR_HTTP1_INVALID_TARGET',
  InvalidStatus: 'ERR_HTTP1_INVALID_STATUS',
  InvalidHeaderName: 'ERR_HTTP1_INVALID_HEADER_NAME',
  InvalidHeaderValue: 'ERR_HTTP1_INVALID_HEADER_VALUE',
} as const;

const HTTP11 = ' HTTP/1.1\r\n';
const HTTP10 = ' HTTP/1.0\r\n';
/** Any char outside tchar: a field name or method with one is refused. */
const NOT_TOKEN = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/** Any char outside field-vchar / obs-text / SP / HTAB: CR, LF, NUL, other CTL, DEL, or above 0xff. */
const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Any char a request-target may not hold (VCHAR only). */
const NOT_TARGET = /[^\x21-\x7e]/;

function checkToken(s: string, code: string, what: string): void {
  if (s.length === 0) throw new LegateError(code, `empty ${what}`);
  if (NOT_TOKEN.test(s)) throw new LegateError(code, `invalid character in ${what} ${JSON.stringify(s)}`);
}

/**
 * The JS check of a whole field section of `count` fields, for when the addon is missing: one
 * pass over the head text, `name: value` lines of tchar names and field-value chars, exactly
 * `count` of them, then the blank line. A value carrying CR LF would add a line and fail the
 * count. One regex run is cheaper than a check per name and value; cached by count.
 */
const SECTION_BY_COUNT: RegExp[] = [];
const SECTION_CACHE_MAX = 256;

function sectionRegex(count: number): RegExp {
  let re = SECTION_BY_COUNT[count];
  if (re === undefined) {
    re = new RegExp(`(?:[!#$%&'*+\\-.^_\`|~0-9A-Za-z]+: [\\t\\x20-\\x7e\\x80-\\xff]*\\r\\n){${count}}\\r\\n$`, 'y');
    if (count < SECTION_CACHE_MAX) SECTION_BY_COUNT[count] = re;
  }
  return re;
}

/** The HeadCopier contract in JS: the section regex, then a latin1 copy. */
export const copyHeadJs: HeadCopier = (text, out, from, count) => {
  // Flatten the joined rope first (charCodeAt does it in place): a regex run on a rope leaves
  // V8's fast path for the runtime's, which flattens and then pays more per call than the
  // flatten itself; the copy below needs it flat anyway.
  text.charCodeAt(0);
  const section = sectionRegex(count);
  section.lastIndex = from;
  if (text.length !== out.length || !section.test(text)) return false;
  writeLatin1(out, text, 0);
  return true;
};

const copyHead: HeadCopier = headCopier ?? copyHeadJs;

/**
 * `start` (checked by the caller), then `name: value\r\n` per field and the blank line, as
 * one Buffer; the fields are checked on the way.
 */
function headBytes(start: string, headers: HeaderList): Buffer {
  const n = headers.length;
  if ((n & 1) !== 0) throw new LegateError(SerializeErrorCode.InvalidHeaderName, 'header list has odd length');
  let text = start;
  for (let i = 0; i < n; i += 2) text += headers[i]! + ': ' + headers[i + 1]! + '\r\n';
  text += '\r\n';
  const out = Buffer.allocUnsafe(text.length);
  if (!copyHead(text, out, start.length, n >> 1)) throw fieldError(headers);
  return out;
}

/** The error for the first field that failed the section check. */
function fieldError(headers: HeaderList): LegateError {
  for (let i = 0; i < headers.length; i += 2) {
    checkToken(headers[i]!, SerializeErrorCode.InvalidHeaderName, 'header name');
    if (NOT_FIELD_VALUE.test(headers[i + 1]!)) break;
  }
  return new LegateError(SerializeErrorCode.InvalidHeaderValue, 'invalid character in header value');
}

/** `METHOD target HTTP/1.x` + fields + blank line. */
export function encodeRequestHead(method: string, target: string, headers: HeaderList, versionMinor = 1): Buffer {
  checkToken(method, SerializeErrorCode.InvalidMethod, 'method');
  if (target.length === 0) throw new LegateError(SerializeErrorCode.InvalidTarget, 'empty request-target');
  if (NOT_TARGET.test(target)) throw new LegateError(SerializeErrorCode.InvalidTarget, 'invalid character in request-target');
  return headBytes(method + ' ' + target + (versionMinor === 0 ? HTTP10 : HTTP11), headers);
}

/** `HTTP/1.x status reason` + fields + blank line. */
export function encodeResponseHead(status: number, reason: string | undefined, headers: HeaderList, versionMinor = 1): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new LegateError(SerializeErrorCode.InvalidStatus, `invalid status ${status}`);
  }
  const r = reason ?? STATUS_REASONS[status] ?? '';
  if (NOT_FIELD_VALUE.test(r)) throw new LegateError(SerializeErrorCode.InvalidStatus, 'invalid character in reason phrase');
  return headBytes((versionMinor === 0 ? 'HTTP/1.0 ' : 'HTTP/1.1 ') + status + ' ' + r + '\r\n', headers);
}

/** The request head as latin1 text (tests, diagnostics). */
export function requestHeadString(method: string, target: string, headers: HeaderList, versionMinor = 1): string {
  return encodeRequestHead(method, target, headers, versionMinor).toString('latin1');
}

/** The response head as latin1 text (local replies append their body to it). */
export function responseHeadString(status: number, reason: string | undefined, headers: HeaderList, versionMinor = 1): string {
  return encodeResponseHead(status, reason, headers, versionMinor).toString('latin1');
}

// ---- chunked framing ------------------------------------------------------------------------

export const CRLF: Buffer = Buffer.from('\r\n', 'latin1');
/** last-chunk with no trailers: `0\r\n\r\n`. */
export const LAST_CHUNK: Buffer = Buffer.from('0\r\n\r\n', 'latin1');

/** `size-in-hex\r\n`. Write it, then the data, then CRLF (cork the socket around the three). */
export function chunkHeader(size: number): Buffer {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new LegateError('ERR_HTTP1_INVALID_CHUNK', `invalid chunk size ${size}`);
  }
  return Buffer.from(size.toString(16) + '\r\n', 'latin1');
}

/** One whole chunk in a single Buffer (copies `data`; for small bodies). */
export function encodeChunk(data: Uint8Array): Buffer {
  const head = size16(data.length);
  const out = Buffer.allocUnsafe(head.length + data.length + 2);
  out.write(head, 0, 'latin1');
  out.set(data, head.length);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

function size16(n: number): string {
  if (!Number.isSafeInteger(n) || n <= 0) throw new LegateError('ERR_HTTP1_INVALID_CHUNK', `invalid chunk size ${n}`);
  return n.toString(16) + '\r\n';
}

/** last-chunk, trailer fields (checked like headers), and the final CRLF. */
export function lastChunk(trailers?: HeaderList | null): Buffer {
  if (trailers == null || trailers.length === 0) return LAST_CHUNK;
  return headBytes('0\r\n', trailers);
}

/** Reason phrases for the codes a proxy emits or forwards most. */
const REASONS: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 300: 'Multiple Choices', 301: 'Moved Permanently',
  302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request',
  418: "I'm a teapot", 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required',
  412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable', 417: 'Expectation Failed', 421: 'Misdirected Request', 422: 'Unprocessable Entity',
  425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

/**
 * REASONS by status code as a dense array: an object with integer keys this sparse is a hash
 * table in V8, and this is read for every response.
 */
export const STATUS_REASONS: readonly (string | undefined)[] = Array.from({ length: 600 }, (_, code) => REASONS[code]);
