import { Buffer } from 'node:buffer';
import { LegateError } from '../../../../errors.js';
import { writeLatin1 } from './chars.js';
import { headBuffer, releaseHeadBuffer } from './head_buffers.js';
import type { HeaderList } from './headers.js';
import { headWriter, type HeadWriter } from './native_scan.js';

/**
 * Serializer: a head's method, target and reason are checked with one regex each, and its
 * fields written into one Buffer and checked natively (codec/native/http1_head.c) or, without
 * the addon, with a regex per name and value, so the caller makes one write per head (reading
 * a string char by char costs V8 several times more). Fields are always re-serialised from the
 * list (never raw bytes passed through), and every name, value, method, target and reason is
 * checked, so no CR, LF, NUL or other control byte can reach the wire. Failures throw a
 * LegateError with a stable code.
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
 * The head as bytes, written by the addon when it loaded: the start line and every name and
 * value are joined with nothing between them (two pieces a field for V8 to flatten, not four),
 * each length goes into the writer's shared array, and one call writes and checks the fields.
 * `headers` has even length (headBytes checks).
 */
export function headBytesNative(writer: HeadWriter, start: string, headers: HeaderList, room = 0): Buffer {
  const n = headers.length;
  const lengths = writer.lengths;
  if (n > lengths.length) return headBytesJs(start, headers, room);
  let text = start;
  for (let i = 0; i < n; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    text = text + name + value;
    lengths[i] = name.length;
    lengths[i + 1] = value.length;
  }
  const length = text.length + 2 * n + 2;
  const out = headBuffer(length + room);
  if (!writer.write(text, out, length, start.length, n >> 1)) {
    releaseHeadBuffer(out);
    throw fieldError(headers);
  }
  return out;
}

/**
 * The head as bytes in JS (no addon, or a head of more fields than the writer takes).
 * `headers` has even length (headBytes checks).
 */
export function headBytesJs(start: string, headers: HeaderList, room = 0): Buffer {
  const n = headers.length;
  let text = start;
  for (let i = 0; i < n; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (name.length === 0 || NOT_TOKEN.test(name) || NOT_FIELD_VALUE.test(value)) throw fieldError(headers);
    text += name + ': ' + value + '\r\n';
  }
  text += '\r\n';
  const out = headBuffer(text.length + room);
  writeLatin1(out, text, 0);
  return out;
}

/**
 * `start` (checked by the caller), then `name: value\r\n` per field and the blank line; fields
 * checked. `room` bytes are left unwritten after the head, for a body to follow in one write.
 * The Buffer comes from headBuffer(): whoever writes it releases it (releaseHeadBuffer) once
 * nothing holds it any more, or never.
 */
function headBytes(start: string, headers: HeaderList, room = 0): Buffer {
  if ((headers.length & 1) !== 0) throw new LegateError(SerializeErrorCode.InvalidHeaderName, 'header list has odd length');
  return headWriter !== null ? headBytesNative(headWriter, start, headers, room) : headBytesJs(start, headers, room);
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

/**
 * `HTTP/1.x status reason` + fields + blank line; the Buffer is `room` bytes longer than the
 * head, unwritten, for the body's first bytes to leave in the same write.
 */
export function encodeResponseHead(status: number, reason: string | undefined, headers: HeaderList, versionMinor = 1, room = 0): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new LegateError(SerializeErrorCode.InvalidStatus, `invalid status ${status}`);
  }
  const r = reason ?? STATUS_REASONS[status] ?? '';
  if (NOT_FIELD_VALUE.test(r)) throw new LegateError(SerializeErrorCode.InvalidStatus, 'invalid character in reason phrase');
  return headBytes((versionMinor === 0 ? 'HTTP/1.0 ' : 'HTTP/1.1 ') + status + ' ' + r + '\r\n', headers, room);
}

/** The request head as latin1 text (tests, diagnostics). */
export function requestHeadString(method: string, target: string, headers: HeaderList, versionMinor = 1): string {
  return textOf(encodeRequestHead(method, target, headers, versionMinor));
}

/** The response head as latin1 text (local replies append their body to it). */
export function responseHeadString(status: number, reason: string | undefined, headers: HeaderList, versionMinor = 1): string {
  return textOf(encodeResponseHead(status, reason, headers, versionMinor));
}

function textOf(head: Buffer): string {
  const text = head.toString('latin1');
  releaseHeadBuffer(head);
  return text;
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
