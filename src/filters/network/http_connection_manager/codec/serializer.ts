import { LegateError } from '../../../../errors.js';
import { TOKEN_LOWER } from './chars.js';
import type { HeaderList } from './headers.js';

/**
 * Serializer: a head is written straight into one Buffer (lengths summed first, then every
 * character checked and stored in the same pass), so the caller makes one write per head and
 * no intermediate strings are built. Fields are always re-serialised from the list (never raw
 * bytes passed through), and every name, value, method, target and reason is checked, so no
 * CR, LF, NUL or other control byte can reach the wire. Failures throw a LegateError with a
 * stable code.
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

/** Stores a token (method, field name) at out[pos]; returns the position after it. */
function putToken(out: Buffer, pos: number, s: string, code: string, what: string): number {
  const n = s.length;
  if (n === 0) throw new LegateError(code, `empty ${what}`);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // Lowercase letters and '-' first: the common case without a table load.
    if (!((c >= 0x61 && c <= 0x7a) || c === 0x2d) && (c > 0xff || TOKEN_LOWER[c] === 0)) {
      throw new LegateError(code, `invalid character in ${what} ${JSON.stringify(s)}`);
    }
    out[pos++] = c;
  }
  return pos;
}

/** Stores field-vchar / obs-text / SP / HTAB only: no CR, LF, NUL, other CTL, DEL, or char > 0xff. */
function putValue(out: Buffer, pos: number, s: string, code: string, what: string): number {
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 ? c === 0x7f || c > 0xff : c !== 0x09) throw new LegateError(code, `invalid character in ${what}`);
    out[pos++] = c;
  }
  return pos;
}

/** Stores text the serializer itself wrote (ASCII constants). */
function putAscii(out: Buffer, pos: number, s: string): number {
  for (let i = 0, n = s.length; i < n; i++) out[pos++] = s.charCodeAt(i);
  return pos;
}

function fieldsLength(headers: HeaderList): number {
  const n = headers.length;
  if ((n & 1) !== 0) throw new LegateError(SerializeErrorCode.InvalidHeaderName, 'header list has odd length');
  let len = 0;
  for (let i = 0; i < n; i++) len += headers[i]!.length;
  return len + 2 * n; // ": " and CRLF per field
}

/** `name: value\r\n` per field, then the blank line. */
function putFields(out: Buffer, pos: number, headers: HeaderList): number {
  for (let i = 0, n = headers.length; i < n; i += 2) {
    pos = putToken(out, pos, headers[i]!, SerializeErrorCode.InvalidHeaderName, 'header name');
    out[pos++] = 0x3a;
    out[pos++] = 0x20;
    pos = putValue(out, pos, headers[i + 1]!, SerializeErrorCode.InvalidHeaderValue, 'header value');
    out[pos++] = 0x0d;
    out[pos++] = 0x0a;
  }
  out[pos++] = 0x0d;
  out[pos++] = 0x0a;
  return pos;
}

/** `METHOD target HTTP/1.x` + fields + blank line. */
export function encodeRequestHead(method: string, target: string, headers: HeaderList, versionMinor = 1): Buffer {
  const n = target.length;
  if (n === 0) throw new LegateError(SerializeErrorCode.InvalidTarget, 'empty request-target');
  const out = Buffer.allocUnsafe(method.length + 1 + n + HTTP11.length + fieldsLength(headers) + 2);
  let pos = putToken(out, 0, method, SerializeErrorCode.InvalidMethod, 'method');
  out[pos++] = 0x20;
  for (let i = 0; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) throw new LegateError(SerializeErrorCode.InvalidTarget, 'invalid character in request-target');
    out[pos++] = c;
  }
  pos = putAscii(out, pos, versionMinor === 0 ? HTTP10 : HTTP11);
  putFields(out, pos, headers);
  return out;
}

/** `HTTP/1.x status reason` + fields + blank line. */
export function encodeResponseHead(status: number, reason: string | undefined, headers: HeaderList, versionMinor = 1): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new LegateError(SerializeErrorCode.InvalidStatus, `invalid status ${status}`);
  }
  const r = reason ?? STATUS_REASONS[status] ?? '';
  const out = Buffer.allocUnsafe(13 + r.length + 2 + fieldsLength(headers) + 2);
  let pos = putAscii(out, 0, versionMinor === 0 ? 'HTTP/1.0 ' : 'HTTP/1.1 ');
  out[pos++] = 0x30 + ((status / 100) | 0);
  out[pos++] = 0x30 + (((status / 10) | 0) % 10);
  out[pos++] = 0x30 + (status % 10);
  out[pos++] = 0x20;
  pos = putValue(out, pos, r, SerializeErrorCode.InvalidStatus, 'reason phrase');
  out[pos++] = 0x0d;
  out[pos++] = 0x0a;
  putFields(out, pos, headers);
  return out;
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
  const out = Buffer.allocUnsafe(3 + fieldsLength(trailers) + 2);
  putFields(out, putAscii(out, 0, '0\r\n'), trailers);
  return out;
}

/** Reason phrases for the codes a proxy emits or forwards most. */
export const STATUS_REASONS: Record<number, string> = {
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
