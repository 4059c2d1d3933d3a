/**
 * The hostile-input table (issue 10 item 1 and the 431 limits of item 2): one row per
 * malformed request, sent as raw bytes. Each must be answered by the proxy with `status`,
 * the connection closed, and nothing may reach the upstream.
 * docs/hostile-input.md lists the same rows with Envoy's details strings.
 */
export interface HostileRow {
  name: string;
  bytes: string;
  /**
   * The proxy's answer; 0: closed without one. Istio's outbound HTTP listener picks its HCM
   * chain by http_inspector (`application_protocols: [http/1.1, h2c]`), so a first line that is
   * not an HTTP/1.1 request line (HTTP/1.0 included) takes the listener's TCP fallback —
   * under REGISTRY_ONLY the BlackHoleCluster, which closes it.
   */
  status: number;
}

/** Not HTTP/1.1 to http_inspector: the TCP fallback closes it (see `status`). */
const NOT_HTTP = 0;

/** The ServiceEntry host the requests name. */
export const HOST = 'strict.example.internal';
const H = HOST;

const GET = `GET / HTTP/1.1\r\nHost: ${H}\r\n`;
const POST = `POST / HTTP/1.1\r\nHost: ${H}\r\n`;
/** A well-formed request after the bad one: it must never be answered (nor forwarded). */
const NEXT = `GET /smuggled HTTP/1.1\r\nHost: ${H}\r\n\r\n`;

const chunked = (body: string) => `${POST}Transfer-Encoding: chunked\r\n\r\n${body}`;
const manyHeaders = Array.from({ length: 101 }, (_, i) => `x-h${i}: v\r\n`).join('');

export const HOSTILE_ROWS: HostileRow[] = [
  // Framing: Content-Length and Transfer-Encoding.
  { name: 'CL+TE (smuggling: CL covers a second request)', bytes: `${POST}Content-Length: 37\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${NEXT}`, status: 400 },
  { name: 'TE+CL (order reversed)', bytes: `${POST}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'duplicate differing Content-Length', bytes: `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, status: 400 },
  { name: 'duplicate identical Content-Length', bytes: `${POST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, status: 400 },
  { name: 'Content-Length list "5, 5"', bytes: `${POST}Content-Length: 5, 5\r\n\r\nhello`, status: 400 },
  { name: 'Content-Length +1', bytes: `${POST}Content-Length: +1\r\n\r\nx`, status: 400 },
  { name: 'Content-Length 0x10', bytes: `${POST}Content-Length: 0x10\r\n\r\n0123456789abcdef`, status: 400 },
  { name: 'Content-Length "1 2"', bytes: `${POST}Content-Length: 1 2\r\n\r\nx`, status: 400 },
  { name: 'Content-Length empty', bytes: `${POST}Content-Length: \r\n\r\n`, status: 400 },
  { name: 'Content-Length -1', bytes: `${POST}Content-Length: -1\r\n\r\n`, status: 400 },
  { name: 'Content-Length overflow', bytes: `${POST}Content-Length: 99999999999999999999\r\n\r\n`, status: 400 },
  { name: 'TE identity,chunked', bytes: `${POST}Transfer-Encoding: identity,chunked\r\n\r\n0\r\n\r\n`, status: 501 },
  { name: 'TE xchunked', bytes: `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, status: 501 },
  { name: 'TE ,chunked', bytes: `${POST}Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n`, status: 501 },
  { name: 'TE chunked, (not final)', bytes: `${POST}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n`, status: 501 },
  { name: 'TE gzip, chunked', bytes: `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, status: 501 },
  { name: 'TE gzip', bytes: `${POST}Transfer-Encoding: gzip\r\n\r\n`, status: 501 },
  { name: 'a second TE header', bytes: `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 501 },
  { name: 'TE on HTTP/1.0', bytes: `POST / HTTP/1.0\r\nHost: ${H}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: NOT_HTTP },
  // Field lines.
  { name: 'space before the colon', bytes: `${GET}X-A : 1\r\n\r\n`, status: 400 },
  { name: 'tab before the colon', bytes: `${GET}X-A\t: 1\r\n\r\n`, status: 400 },
  { name: 'space before the colon of Transfer-Encoding', bytes: `${POST}Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n0\r\n`, status: 400 },
  { name: 'obs-fold', bytes: `${GET}X-A: 1\r\n  folded\r\n\r\n`, status: 400 },
  { name: 'obs-fold on the first field', bytes: `GET / HTTP/1.1\r\n Host: ${H}\r\n\r\n`, status: 400 },
  { name: 'bare CR in a value', bytes: `${GET}X-A: 1\r2\r\n\r\n`, status: 400 },
  { name: 'bare CR line end', bytes: `GET / HTTP/1.1\rHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  { name: 'bare LF line ends', bytes: `GET / HTTP/1.1\nHost: ${H}\n\n`, status: 400 },
  { name: 'bare LF after a field', bytes: `${GET}X-A: 1\n\r\n`, status: 400 },
  { name: 'empty header name', bytes: `${GET}: empty\r\n\r\n`, status: 400 },
  { name: 'header line without colon', bytes: `${GET}NoColonHere\r\n\r\n`, status: 400 },
  { name: 'non-token char in a name', bytes: `${GET}X(A): 1\r\n\r\n`, status: 400 },
  { name: 'NUL in a value', bytes: `${GET}X-A: a\0b\r\n\r\n`, status: 400 },
  { name: 'control byte 0x01 in a value', bytes: `${GET}X-A: a\x01b\r\n\r\n`, status: 400 },
  { name: 'DEL in a value', bytes: `${GET}X-A: a\x7fb\r\n\r\n`, status: 400 },
  { name: 'ESC in a value', bytes: `${GET}X-A: a\x1bb\r\n\r\n`, status: 400 },
  // Chunked bodies.
  { name: 'chunk size Z', bytes: chunked('Z\r\nx\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk size 0x1', bytes: chunked('0x1\r\nx\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk size -0', bytes: chunked('-0\r\n\r\n'), status: 400 },
  { name: 'chunk size +5', bytes: chunked('+5\r\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk size empty', bytes: chunked('\r\nx\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk size overflow', bytes: chunked('fffffffffffffffff\r\nx\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk data not ended by CRLF', bytes: chunked('5\r\nhelloXX0\r\n\r\n'), status: 400 },
  { name: 'chunk data longer than its size', bytes: chunked('3\r\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'CR in a chunk extension', bytes: chunked('5;a=b\rc\r\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'CR in a quoted chunk extension', bytes: chunked('5;a="b\rc"\r\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'LF-only chunk line', bytes: chunked('5\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'malformed trailer (no colon)', bytes: chunked('5\r\nhello\r\n0\r\nbad trailer\r\n\r\n'), status: 400 },
  { name: 'malformed trailer (obs-fold)', bytes: chunked('5\r\nhello\r\n0\r\nX-T: 1\r\n folded\r\n\r\n'), status: 400 },
  { name: 'malformed trailer (NUL)', bytes: chunked('5\r\nhello\r\n0\r\nX-T: a\0b\r\n\r\n'), status: 400 },
  // Request lines and versions.
  { name: 'HTTP/1.2', bytes: `GET / HTTP/1.2\r\nHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  { name: 'HTTP/2.0 on an HTTP/1 connection', bytes: `GET / HTTP/2.0\r\nHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  { name: 'HTTP/0.9 (no version)', bytes: `GET /\r\n\r\n`, status: NOT_HTTP },
  { name: 'lowercase version', bytes: `GET / http/1.1\r\nHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  { name: 'HTTP/1.10', bytes: `GET / HTTP/1.10\r\nHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  { name: 'double space (empty target)', bytes: `GET  / HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 400 },
  { name: 'leading space', bytes: ` GET / HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  { name: 'trailing space after the version', bytes: `GET / HTTP/1.1 \r\nHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  { name: 'method not a token', bytes: `G(T / HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  { name: 'space inside the target', bytes: `GET /a b HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 400 },
  { name: 'TAB in the target', bytes: `GET /a\tb HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 400 },
  { name: 'CR in the target', bytes: `GET /a\rb HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 400 },
  { name: 'non-ASCII in the target', bytes: `GET /caf\xe9 HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 400 },
  { name: '* target on GET', bytes: `GET * HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 400 },
  { name: 'authority-form target on GET', bytes: `GET ${H}:80 HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 400 },
  { name: 'two Host fields (the upstream may read the other)', bytes: `GET / HTTP/1.1\r\nHost: ${H}\r\nHost: other.example\r\n\r\n`, status: 400 },
  { name: 'CONNECT to a path', bytes: `CONNECT /x HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 400 },
  { name: 'CONNECT with a body', bytes: `CONNECT ${H}:443 HTTP/1.1\r\nHost: ${H}:443\r\nContent-Length: 5\r\n\r\nhello`, status: 400 },
  { name: 'CONNECT with Transfer-Encoding', bytes: `CONNECT ${H}:443 HTTP/1.1\r\nHost: ${H}:443\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 501 },
  // HCM policy (not framing).
  // (Envoy keeps the connection after this reply to a complete request; the client asks to close.)
  { name: 'no Host on HTTP/1.1', bytes: `GET / HTTP/1.1\r\nConnection: close\r\n\r\n`, status: 400 },
  { name: 'Host not a valid authority', bytes: `GET / HTTP/1.1\r\nHost: ${H}/x\r\nConnection: close\r\n\r\n`, status: 400 },
  { name: 'a fragment in the target (policy bypass)', bytes: `GET /admin#x HTTP/1.1\r\nHost: ${H}\r\nConnection: close\r\n\r\n`, status: 400 },
  { name: 'absolute-form target with an unclosed IPv6 literal', bytes: `GET http://[::1/ HTTP/1.1\r\nHost: ${H}\r\nConnection: close\r\n\r\n`, status: 400 },
  { name: 'absolute-form target, https on plaintext', bytes: `GET https://${H}/ HTTP/1.1\r\nHost: ${H}\r\nConnection: close\r\n\r\n`, status: 400 },
  { name: 'HTTP/1.0 (not sniffed as HTTP/1.1)', bytes: `GET / HTTP/1.0\r\nHost: ${H}\r\n\r\n`, status: NOT_HTTP },
  // Limits (item 2): Envoy's max_request_headers_kb 60 and max_headers_count 100.
  { name: 'headers over 60 KiB', bytes: `${GET}X-Big: ${'a'.repeat(61 * 1024)}\r\n\r\n`, status: 431 },
  { name: 'request line over 60 KiB', bytes: `GET /${'a'.repeat(61 * 1024)} HTTP/1.1\r\nHost: ${H}\r\n\r\n`, status: 431 },
  { name: '101 headers', bytes: `${GET}${manyHeaders}\r\n`, status: 431 },
  { name: 'unterminated header line over 60 KiB', bytes: `${GET}X-Big: ${'a'.repeat(61 * 1024)}`, status: 431 },
  { name: 'trailers over 100 fields', bytes: chunked(`0\r\n${manyHeaders}\r\n`), status: 431 },
];
