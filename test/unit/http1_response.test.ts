import test from 'ava';
import { runResponse, splits, bytes, type Ev } from './http1_helpers.js';

function allSplits(t: import('ava').ExecutionContext, raw: string, methods: string[] = [], eof = false): Ev[] {
  const input = bytes(raw);
  const whole = runResponse([input], methods, eof);
  for (const { label, chunks } of splits(input)) {
    const ev = runResponse(chunks, methods, eof);
    if (JSON.stringify(ev) !== JSON.stringify(whole)) {
      t.deepEqual(ev, whole, `transcript differs for ${label}`);
      return whole;
    }
  }
  return whole;
}

const heads = (ev: Ev[]): Array<Record<string, unknown>> =>
  ev.filter((e) => e[0] === 'head').map((e) => e[1] as Record<string, unknown>);

const KB = 'x'.repeat(1024);

test('1 KB Content-Length response', (t) => {
  const ev = allSplits(t, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1024\r\nServer: nginx\r\n\r\n${KB}`);
  t.deepEqual(ev[0], ['head', {
    status: 200, reason: 'OK', versionMinor: 1,
    headers: ['content-type', 'application/json', 'content-length', '1024', 'server', 'nginx'],
    contentLength: 1024, chunked: false, keepAlive: true, upgrade: false, bodyUntilClose: false,
  }]);
  t.deepEqual(ev.slice(1), [['body', KB], ['done', null]]);
});

test('chunked response with trailers (gRPC-style)', (t) => {
  const ev = allSplits(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n');
  t.true(heads(ev)[0]!.chunked as boolean);
  t.deepEqual(ev.slice(1), [['body', 'abcd'], ['done', ['grpc-status', '0', 'grpc-message', 'ok']]]);
});

test('read-until-close body ends at finish()', (t) => {
  const ev = allSplits(t, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed until close', [], true);
  const h = heads(ev)[0]!;
  t.true(h.bodyUntilClose as boolean);
  t.false(h.keepAlive as boolean);
  t.deepEqual(ev.slice(1), [['body', 'streamed until close'], ['done', null]]);
});

test('HEAD, 204 and 304 responses have no body even with Content-Length', (t) => {
  const raw = 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n' +
    'HTTP/1.1 204 No Content\r\n\r\n' +
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: "x"\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
  const ev = allSplits(t, raw, ['HEAD', 'DELETE', 'GET', 'HEAD', 'GET']);
  t.deepEqual(heads(ev).map((h) => h.status), [200, 204, 304, 200, 200]);
  t.deepEqual(ev.filter((e) => e[0] !== 'head'), [['done', null], ['done', null], ['done', null], ['done', null],
    ['body', 'hi'], ['done', null]]);
});

test('204 with Content-Length: 0 is accepted', (t) => {
  const ev = allSplits(t, 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n');
  t.is(ev[1]![0], 'done');
});

test('100 Continue and 103 Early Hints are informational; the final response follows', (t) => {
  const ev = allSplits(t, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n' +
    'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
  t.deepEqual(ev.map((e) => e[0]), ['info', 'info', 'head', 'body', 'done']);
  t.is((ev[0]![1] as { status: number }).status, 100);
  t.deepEqual((ev[1]![1] as { headers: string[] }).headers, ['link', '</s.css>; rel=preload']);
});

test('HEAD expectation survives a 100 Continue', (t) => {
  const ev = allSplits(t, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', ['HEAD']);
  t.deepEqual(ev.map((e) => e[0]), ['info', 'head', 'done']);
});

test('101 Switching Protocols stops the parser; the rest is tunnel data', (t) => {
  const ev = allSplits(t, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi');
  t.true(heads(ev)[0]!.upgrade as boolean);
  t.deepEqual(ev.slice(1), [['tunnel', '\x81\x02hi']]);
});

test('2xx to CONNECT opens a tunnel; a 4xx does not', (t) => {
  let ev = allSplits(t, 'HTTP/1.1 200 Connection established\r\n\r\nraw bytes', ['CONNECT']);
  t.true(heads(ev)[0]!.upgrade as boolean);
  t.deepEqual(ev.slice(1), [['tunnel', 'raw bytes']]);
  ev = allSplits(t, 'HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno', ['CONNECT']);
  t.deepEqual(ev.slice(1), [['body', 'no'], ['done', null]]);
});

test('status line variants: missing reason, empty reason, HTTP/1.0 close', (t) => {
  let ev = allSplits(t, 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n');
  t.deepEqual(heads(ev).map((h) => [h.status, h.reason]), [[200, ''], [404, '']]);
  ev = allSplits(t, 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  t.false(heads(ev)[0]!.keepAlive as boolean);
  ev = allSplits(t, 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n');
  t.true(heads(ev)[0]!.keepAlive as boolean);
});

const BAD: Array<[string, string, string, number, string[]?]> = [
  ['CL + TE', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_CL_TE', 502],
  ['duplicate CL', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', 'HPE_UNEXPECTED_CONTENT_LENGTH', 502],
  ['unknown TE', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING', 502],
  ['TE on 1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_TE_HTTP10', 502],
  ['garbage', 'garbage\r\n\r\n', 'HPE_INVALID_VERSION', 502],
  ['HTTP/2 status line', 'HTTP/2 200\r\n\r\n', 'HPE_INVALID_VERSION', 502],
  ['2-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 'HPE_INVALID_STATUS', 502],
  ['status 099', 'HTTP/1.1 099 X\r\n\r\n', 'HPE_INVALID_STATUS', 502],
  ['status with letters', 'HTTP/1.1 2OO OK\r\n\r\n', 'HPE_INVALID_STATUS', 502],
  ['no space after status', 'HTTP/1.1 200OK\r\n\r\n', 'HPE_INVALID_STATUS', 502],
  ['NUL in reason', 'HTTP/1.1 200 O\x00K\r\n\r\n', 'HPE_INVALID_STATUS', 502],
  ['bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', 'HPE_CR_EXPECTED', 502],
  ['bare CR in field', 'HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n', 'HPE_LF_EXPECTED', 502],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', 'HPE_OBS_FOLD', 502],
  ['TE in 204', 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_BODY_NOT_ALLOWED', 502],
  ['CL in 204', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', 'HPE_BODY_NOT_ALLOWED', 502],
  ['CL in 100', 'HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n', 'HPE_BODY_NOT_ALLOWED', 502],
  ['bad chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n', 'HPE_INVALID_CHUNK_SIZE', 502],
  ['too many headers', `HTTP/1.1 200 OK\r\n${'a: b\r\n'.repeat(101)}\r\n`, 'HPE_TOO_MANY_HEADERS', 502],
];

for (const [name, raw, code, status, methods] of BAD) {
  test(`response: rejects ${name} → ${code}`, (t) => {
    const ev = allSplits(t, raw + 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', methods);
    t.deepEqual(ev[ev.length - 1], ['error', code, status]);
    t.is(ev.filter((e) => e[0] === 'head').length, ['HPE_INVALID_CHUNK_SIZE'].includes(code) ? 1 : 0);
  });
}

test('response cut before its end → 503 HPE_INVALID_EOF_STATE at finish()', (t) => {
  let ev = runResponse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')], [], true);
  t.deepEqual(ev.slice(1), [['body', 'abc'], ['eof-error', 'HPE_INVALID_EOF_STATE', 503]]);
  ev = runResponse([bytes('HTTP/1.1 200 OK\r\nContent-')], [], true);
  t.deepEqual(ev, [['eof-error', 'HPE_INVALID_EOF_STATE', 503]]);
  ev = runResponse([bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab')], [], true);
  t.deepEqual(ev.slice(1), [['body', 'ab'], ['eof-error', 'HPE_INVALID_EOF_STATE', 503]]);
  t.deepEqual(runResponse([], [], true), []);
});

test('response errors carry Envoy details for 1xx/204 framing', async (t) => {
  const { ResponseParser } = await import('../../src/filters/network/http_connection_manager/codec/index.js');
  const run = (raw: string): string | undefined => {
    const p = new ResponseParser({ onInformational() {}, onResponseHead() {}, onBody() {}, onMessageComplete() {} });
    p.execute(bytes(raw));
    return p.error?.details;
  };
  t.is(run('HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n'), 'http1.transfer_encoding_not_allowed');
  t.is(run('HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\n'), 'http1.content_length_not_allowed');
});
