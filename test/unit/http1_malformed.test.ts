import test from 'ava';
import { runRequest, splits, bytes } from './http1_helpers.js';

/** Appended to every malformed input: it must never be parsed once the error is reported. */
const NEXT = 'GET /after-error HTTP/1.1\r\nHost: x\r\n\r\n';

type Case = [name: string, raw: string, code: string, status: number];

const R = 'POST / HTTP/1.1\r\nHost: a\r\n';

const CASES: Case[] = [
  // Content-Length / Transfer-Encoding framing
  ['CL then TE', `${R}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'HPE_CL_TE', 400],
  ['TE then CL', `${R}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, 'HPE_CL_TE', 400],
  ['CL + unknown TE (CL/TE checked first, as Envoy)', `${R}Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n`, 'HPE_CL_TE', 400],
  ['duplicate differing CL', `${R}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello`, 'HPE_UNEXPECTED_CONTENT_LENGTH', 400],
  ['duplicate identical CL', `${R}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, 'HPE_UNEXPECTED_CONTENT_LENGTH', 400],
  ['CL list "5, 5"', `${R}Content-Length: 5, 5\r\n\r\nhello`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL +1', `${R}Content-Length: +1\r\n\r\nx`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL 0x10', `${R}Content-Length: 0x10\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL "1 2"', `${R}Content-Length: 1 2\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL empty', `${R}Content-Length:\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL only spaces', `${R}Content-Length:   \r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL negative', `${R}Content-Length: -1\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL overflow 2^53', `${R}Content-Length: 9007199254740992\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL 20 digits', `${R}Content-Length: 99999999999999999999\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['CL decimal', `${R}Content-Length: 1.0\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH', 400],
  ['TE identity,chunked', `${R}Transfer-Encoding: identity,chunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE gzip, chunked', `${R}Transfer-Encoding: gzip, chunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE xchunked', `${R}Transfer-Encoding: xchunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE ,chunked', `${R}Transfer-Encoding: ,chunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE chunked,', `${R}Transfer-Encoding: chunked,\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE chunked, chunked', `${R}Transfer-Encoding: chunked, chunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['second TE header', `${R}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE chunked then identity header', `${R}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE identity', `${R}Transfer-Encoding: identity\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE gzip', `${R}Transfer-Encoding: gzip\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE empty', `${R}Transfer-Encoding:\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE chunked;q=1', `${R}Transfer-Encoding: chunked;q=1\r\n\r\n`, 'HPE_INVALID_TRANSFER_ENCODING', 501],
  ['TE on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'HPE_TE_HTTP10', 400],
  ['TE with vertical tab', `${R}Transfer-Encoding: \x0bchunked\r\n\r\n`, 'HPE_INVALID_HEADER_VALUE', 400],
  ['CONNECT with body', 'CONNECT a:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello', 'HPE_CONNECT_BODY', 400],
  ['CONNECT with chunked', 'CONNECT a:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING', 501],
  // field syntax
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  ['tab before colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  ['space before colon on Content-Length', `${R}Content-Length : 5\r\n\r\nhello`, 'HPE_INVALID_HEADER_TOKEN', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n', 'HPE_OBS_FOLD', 400],
  ['obs-fold with tab', 'GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n', 'HPE_OBS_FOLD', 400],
  ['first field line starts with space', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 'HPE_OBS_FOLD', 400],
  ['bare CR in value', 'GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n', 'HPE_LF_EXPECTED', 400],
  ['bare CR as line end', 'GET / HTTP/1.1\r\nX-A: a\rX-B: b\r\n\r\n', 'HPE_LF_EXPECTED', 400],
  ['bare CR in request line', 'GET /\r HTTP/1.1\r\n\r\n', 'HPE_LF_EXPECTED', 400],
  ['bare CR ending request line', 'GET / HTTP/1.1\rHost: a\r\n\r\n', 'HPE_LF_EXPECTED', 400],
  ['bare CR as empty line', 'GET / HTTP/1.1\r\nHost: a\r\n\r\r\n', 'HPE_LF_EXPECTED', 400],
  ['bare LF everywhere', 'GET / HTTP/1.1\nHost: a\n\n', 'HPE_CR_EXPECTED', 400],
  ['bare LF after a field', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 'HPE_CR_EXPECTED', 400],
  ['bare LF as final empty line', 'GET / HTTP/1.1\r\nHost: a\r\n\n', 'HPE_CR_EXPECTED', 400],
  ['bare LF before request line', '\nGET / HTTP/1.1\r\n\r\n', 'HPE_CR_EXPECTED', 400],
  ['empty header name', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  ['field line without colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  ['field line without colon, with space', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  ['NUL in value', 'GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n', 'HPE_INVALID_HEADER_VALUE', 400],
  ['control byte in value', 'GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n', 'HPE_INVALID_HEADER_VALUE', 400],
  ['DEL in value', 'GET / HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n', 'HPE_INVALID_HEADER_VALUE', 400],
  ['ESC in value', 'GET / HTTP/1.1\r\nX-A: \x1b[31m\r\n\r\n', 'HPE_INVALID_HEADER_VALUE', 400],
  ['paren in name', 'GET / HTTP/1.1\r\nX(A): a\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  ['non-ASCII in name', 'GET / HTTP/1.1\r\nX-\xe9: a\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  ['NUL in name', 'GET / HTTP/1.1\r\nX\x00A: a\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  ['slash in name', 'GET / HTTP/1.1\r\nX/A: a\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
  // request line
  ['invalid method char', 'GE(T / HTTP/1.1\r\n\r\n', 'HPE_INVALID_METHOD', 400],
  ['method with NUL', 'GE\x00T / HTTP/1.1\r\n\r\n', 'HPE_INVALID_METHOD', 400],
  ['leading space', ' GET / HTTP/1.1\r\n\r\n', 'HPE_INVALID_REQUEST_LINE', 400],
  ['double space after method', 'GET  / HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['double space before version', 'GET /  HTTP/1.1\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['trailing space', 'GET / HTTP/1.1 \r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['tab separator', 'GET\t/ HTTP/1.1\r\n\r\n', 'HPE_INVALID_METHOD', 400],
  ['missing version', 'GET /\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['missing target and version', 'GET\r\n\r\n', 'HPE_INVALID_METHOD', 400],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['lowercase http/1.1', 'GET / http/1.1\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['HTTP/1.10', 'GET / HTTP/1.10\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['HTTP/11', 'GET / HTTP/11\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['NUL in target', 'GET /a\x00b HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['DEL in target', 'GET /a\x7fb HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['non-ASCII in target', 'GET /caf\xe9 HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['tab in target', 'GET /a\tb HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['LF in target', 'GET /a\nb HTTP/1.1\r\n\r\n', 'HPE_CR_EXPECTED', 400],
  ['space in target', 'GET /a b HTTP/1.1\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['asterisk for GET', 'GET * HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['authority-form for GET', 'GET example.com:80 HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['origin-form for CONNECT', 'CONNECT /x HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['CONNECT without port', 'CONNECT example.com HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  ['CONNECT absolute URL', 'CONNECT http://a:80/ HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
  // chunked body
  ['chunk size Z', `${R}Transfer-Encoding: chunked\r\n\r\nZ\r\n`, 'HPE_INVALID_CHUNK_SIZE', 400],
  ['chunk size 0x1', `${R}Transfer-Encoding: chunked\r\n\r\n0x1\r\na\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_SIZE', 400],
  ['chunk size -0', `${R}Transfer-Encoding: chunked\r\n\r\n-0\r\n\r\n`, 'HPE_INVALID_CHUNK_SIZE', 400],
  ['chunk size +5', `${R}Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_SIZE', 400],
  ['chunk size empty', `${R}Transfer-Encoding: chunked\r\n\r\n\r\n`, 'HPE_INVALID_CHUNK_SIZE', 400],
  ['chunk size 17 digits', `${R}Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\na\r\n`, 'HPE_INVALID_CHUNK_SIZE', 400],
  ['chunk size overflow', `${R}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n`, 'HPE_INVALID_CHUNK_SIZE', 400],
  ['chunk size 2^53', `${R}Transfer-Encoding: chunked\r\n\r\n20000000000000\r\n`, 'HPE_INVALID_CHUNK_SIZE', 400],
  ['chunk size bare LF', `${R}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 'HPE_CR_EXPECTED', 400],
  ['chunk size trailing space', `${R}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_EXTENSION', 400],
  ['chunk data too long', `${R}Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_DATA', 400],
  ['chunk data then LF only', `${R}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_DATA', 400],
  ['chunk data then CR only', `${R}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r0\r\n\r\n`, 'HPE_INVALID_CHUNK_DATA', 400],
  ['CR in chunk extension', `${R}Transfer-Encoding: chunked\r\n\r\n3;a\rb\r\nabc\r\n0\r\n\r\n`, 'HPE_LF_EXPECTED', 400],
  ['CR in quoted chunk extension', `${R}Transfer-Encoding: chunked\r\n\r\n3;a="x\ry"\r\nabc\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_EXTENSION', 400],
  ['LF in chunk extension', `${R}Transfer-Encoding: chunked\r\n\r\n3;a\nb\r\nabc\r\n0\r\n\r\n`, 'HPE_CR_EXPECTED', 400],
  ['NUL in chunk extension', `${R}Transfer-Encoding: chunked\r\n\r\n3;a=\x00\r\nabc\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_EXTENSION', 400],
  ['empty chunk extension', `${R}Transfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_EXTENSION', 400],
  ['unterminated quoted extension', `${R}Transfer-Encoding: chunked\r\n\r\n3;a="x\r\nabc\r\n0\r\n\r\n`, 'HPE_INVALID_CHUNK_EXTENSION', 400],
  ['trailer obs-fold', `${R}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\r\n b\r\n\r\n`, 'HPE_INVALID_TRAILER', 400],
  ['trailer without colon', `${R}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T\r\n\r\n`, 'HPE_INVALID_TRAILER', 400],
  ['trailer NUL value', `${R}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: \x00\r\n\r\n`, 'HPE_INVALID_TRAILER', 400],
  ['trailer space before colon', `${R}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T : a\r\n\r\n`, 'HPE_INVALID_TRAILER', 400],
  ['trailer bare LF', `${R}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\n\r\n`, 'HPE_CR_EXPECTED', 400],
];

for (const [name, raw, code, status] of CASES) {
  test(`rejects ${name} → ${code} ${status}`, (t) => {
    const input = bytes(raw + NEXT);
    const whole = runRequest([input]);
    const last = whole[whole.length - 1]!;
    t.deepEqual(last, ['error', code, status], JSON.stringify(whole));
    // Nothing after the error, and the request after it was never seen.
    t.false(JSON.stringify(whole).includes('after-error'));
    t.is(whole.filter((e) => e[0] === 'error').length, 1);
    for (const { label, chunks } of splits(input)) {
      const ev = runRequest(chunks);
      if (JSON.stringify(ev) !== JSON.stringify(whole)) {
        t.deepEqual(ev, whole, `transcript differs for ${label}`);
        break;
      }
    }
  });
}

test('framing errors emit no head at all', (t) => {
  for (const [name, raw, code] of CASES) {
    const ev = runRequest([bytes(raw)]);
    const inHead = !['HPE_INVALID_CHUNK_SIZE', 'HPE_INVALID_CHUNK_DATA', 'HPE_INVALID_CHUNK_EXTENSION',
      'HPE_INVALID_TRAILER'].includes(code) && !name.startsWith('trailer') && !name.startsWith('chunk') &&
      !name.includes('chunk extension');
    if (inHead) t.is(ev[0]![0], 'error', name);
  }
});

// ---- limits ---------------------------------------------------------------------------------

function manyHeaders(n: number): string {
  let s = 'GET / HTTP/1.1\r\n';
  for (let i = 0; i < n; i++) s += `h${i}: v\r\n`;
  return s + '\r\n';
}

function assertLimit(t: import('ava').ExecutionContext, raw: string, code: string, status = 431): void {
  const input = bytes(raw + NEXT);
  t.deepEqual(runRequest([input]), [['error', code, status]]);
  const bb: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bb.push(input.subarray(i, i + 1));
  t.deepEqual(runRequest(bb), [['error', code, status]], 'byte by byte');
  for (const at of [1, 17, 1000, input.length >> 1, input.length - 1]) {
    t.deepEqual(runRequest([input.subarray(0, at), input.subarray(at)]), [['error', code, status]], `split@${at}`);
  }
}

test('101 headers → 431 HPE_TOO_MANY_HEADERS', (t) => {
  assertLimit(t, manyHeaders(101), 'HPE_TOO_MANY_HEADERS');
});

test('header section over 60 KiB → 431 HPE_HEADER_OVERFLOW', (t) => {
  const line = 'GET / HTTP/1.1';
  assertLimit(t, `${line}\r\nx: ${'a'.repeat(60 * 1024 - line.length - 3 + 1)}\r\n\r\n`, 'HPE_HEADER_OVERFLOW');
  // Many medium fields adding up.
  let raw = 'GET / HTTP/1.1\r\n';
  for (let i = 0; i < 70; i++) raw += `x-${i}: ${'b'.repeat(1000)}\r\n`;
  assertLimit(t, raw + '\r\n', 'HPE_HEADER_OVERFLOW');
});

test('request line counts toward the header limit', (t) => {
  assertLimit(t, `GET /${'p'.repeat(61 * 1024)} HTTP/1.1\r\n\r\n`, 'HPE_HEADER_OVERFLOW');
  const line = 'GET /' + 'p'.repeat(50 * 1024) + ' HTTP/1.1';
  assertLimit(t, `${line}\r\nx: ${'a'.repeat(11 * 1024)}\r\n\r\n`, 'HPE_HEADER_OVERFLOW');
});

test('a flood of empty lines before the request line is bounded', (t) => {
  assertLimit(t, '\r\n'.repeat(40 * 1024), 'HPE_HEADER_OVERFLOW');
});

test('an endless header line without LF is cut at the limit (no unbounded buffering)', (t) => {
  const raw = 'GET / HTTP/1.1\r\nx: ' + 'a'.repeat(100 * 1024);
  t.deepEqual(runRequest([bytes(raw)]), [['error', 'HPE_HEADER_OVERFLOW', 431]]);
  const pieces: Buffer[] = [];
  for (let i = 0; i < raw.length; i += 1000) pieces.push(bytes(raw.slice(i, i + 1000)));
  t.deepEqual(runRequest(pieces), [['error', 'HPE_HEADER_OVERFLOW', 431]]);
});

test('trailers have their own count and size limits', (t) => {
  let raw = `${R}Transfer-Encoding: chunked\r\n\r\n0\r\n`;
  for (let i = 0; i < 101; i++) raw += `t${i}: v\r\n`;
  const ev = runRequest([bytes(raw + '\r\n')]);
  t.deepEqual(ev[ev.length - 1], ['error', 'HPE_TOO_MANY_HEADERS', 431]);
  const big = `${R}Transfer-Encoding: chunked\r\n\r\n0\r\nt: ${'z'.repeat(61 * 1024)}\r\n\r\n`;
  const ev2 = runRequest([bytes(big)]);
  t.deepEqual(ev2[ev2.length - 1], ['error', 'HPE_HEADER_OVERFLOW', 431]);
});

test('overlong chunk extension line is rejected', (t) => {
  const raw = `${R}Transfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(5000)}\r\nx\r\n0\r\n\r\n`;
  const ev = runRequest([bytes(raw)]);
  t.deepEqual(ev[ev.length - 1], ['error', 'HPE_INVALID_CHUNK_EXTENSION', 400]);
  const bb = [...bytes(raw)].map((c) => Buffer.from([c]));
  const ev2 = runRequest(bb);
  t.deepEqual(ev2[ev2.length - 1], ['error', 'HPE_INVALID_CHUNK_EXTENSION', 400]);
});

test('custom limits', (t) => {
  t.deepEqual(runRequest([bytes(manyHeaders(3))], { maxHeaders: 2 }), [['error', 'HPE_TOO_MANY_HEADERS', 431]]);
  t.deepEqual(runRequest([bytes('GET /0123456789 HTTP/1.1\r\n\r\n')], { maxHeaderBytes: 20 }),
    [['error', 'HPE_HEADER_OVERFLOW', 431]]);
});

test('errors carry Envoy response-code details', async (t) => {
  const { RequestParser } = await import('../../src/filters/network/http_connection_manager/codec/index.js');
  const details = (raw: string): string | undefined => {
    const p = new RequestParser({ onRequestHead() {}, onBody() {}, onMessageComplete() {} });
    p.execute(bytes(raw));
    return p.error?.details;
  };
  t.is(details(`${R}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`), 'http1.content_length_and_chunked_not_allowed');
  t.is(details(`${R}Transfer-Encoding: gzip\r\n\r\n`), 'http1.invalid_transfer_encoding');
  t.is(details('CONNECT a:1 HTTP/1.1\r\nContent-Length: 1\r\n\r\n'), 'http1.body_disallowed');
  t.is(details(manyHeaders(101)), 'http1.too_many_headers');
  t.is(details(`GET /${'a'.repeat(70000)} HTTP/1.1\r\n\r\n`), 'http1.headers_too_large');
  t.is(details('GET / HTTP/1.1\r\nX: \x00\r\n\r\n'), 'http1.invalid_characters');
  t.is(details('GET * HTTP/1.1\r\n\r\n'), 'http1.invalid_url');
  t.is(details('GET / HTTP/1.1\nX: a\n\n'), 'http1.codec_error');
});
