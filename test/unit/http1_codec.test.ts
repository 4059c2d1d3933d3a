import test from 'ava';
import { TargetForm } from '../../src/filters/network/http_connection_manager/codec/index.js';
import { runRequest, splits, bytes, type Ev } from './http1_helpers.js';

const TYPICAL = bytes(
  'GET /api/v1/products/12345?fields=name,price HTTP/1.1\r\n' +
  'Host: products.default.svc.cluster.local\r\n' +
  'User-Agent: curl/8.5.0\r\n' +
  'Accept: */*\r\n' +
  'Accept-Encoding: gzip, deflate\r\n' +
  'X-Request-Id: 5f1c1a9e-3b0c-4d1b-9a57-2c8f0e6f9d11\r\n' +
  'X-B3-TraceId: 80f198ee56343ba864fe8b2a57d3eff7\r\n' +
  'X-Custom-Thing:   padded value\t \r\n' +
  'Cookie: a=b; c=d\r\n' +
  '\r\n');

/** Asserts every split of `raw` gives the transcript of the whole, and returns it. */
function parseAllSplits(t: import('ava').ExecutionContext, raw: Buffer, eof = false): Ev[] {
  const whole = runRequest([raw], undefined, eof);
  for (const { label, chunks } of splits(raw)) {
    const ev = runRequest(chunks, undefined, eof);
    if (JSON.stringify(ev) !== JSON.stringify(whole)) {
      t.deepEqual(ev, whole, `transcript differs for ${label}`);
      return whole;
    }
  }
  t.pass();
  return whole;
}

function head(ev: Ev[], i = 0): Record<string, unknown> {
  const heads = ev.filter((e) => e[0] === 'head');
  return heads[i]![1] as Record<string, unknown>;
}

test('typical GET: fields, lowercase names, OWS trimmed, split at every byte', (t) => {
  const ev = parseAllSplits(t, TYPICAL);
  t.is(ev.length, 2);
  t.deepEqual(ev[0], ['head', {
    method: 'GET', target: '/api/v1/products/12345?fields=name,price', targetForm: TargetForm.Origin,
    versionMinor: 1,
    headers: [
      'host', 'products.default.svc.cluster.local', 'user-agent', 'curl/8.5.0', 'accept', '*/*',
      'accept-encoding', 'gzip, deflate', 'x-request-id', '5f1c1a9e-3b0c-4d1b-9a57-2c8f0e6f9d11',
      'x-b3-traceid', '80f198ee56343ba864fe8b2a57d3eff7', 'x-custom-thing', 'padded value', 'cookie', 'a=b; c=d',
    ],
    contentLength: -1, chunked: false, keepAlive: true, expectContinue: false, upgrade: false, upgradeProtocol: undefined,
  }]);
  t.deepEqual(ev[1], ['done', null]);
});

test('POST with Content-Length body', (t) => {
  const ev = parseAllSplits(t, bytes('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world'));
  t.is(head(ev).contentLength, 11);
  t.deepEqual(ev.slice(1), [['body', 'hello world'], ['done', null]]);
});

test('chunked body with extensions and trailers', (t) => {
  const raw = bytes('POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n' +
    '5;name=value;flag\r\nhello\r\n' +
    '6 ; q="quoted \\" ; str" ;x=1\r\n world\r\n' +
    '00000a\r\n0123456789\r\n' +
    '0;last\r\nX-Checksum: abc123\r\nX-Other:  v \r\n\r\n');
  const ev = parseAllSplits(t, raw);
  t.true(head(ev).chunked);
  t.is(head(ev).contentLength, -1);
  t.deepEqual(ev.slice(1), [['body', 'hello world0123456789'], ['done', ['x-checksum', 'abc123', 'x-other', 'v']]]);
});

test('chunked without trailers, TE value case-insensitive and OWS-trimmed', (t) => {
  const ev = parseAllSplits(t, bytes('POST / HTTP/1.1\r\nTransfer-Encoding:  Chunked \r\n\r\n3\r\nabc\r\n0\r\n\r\n'));
  t.true(head(ev).chunked);
  t.deepEqual(ev.slice(1), [['body', 'abc'], ['done', null]]);
});

test('keep-alive semantics: 1.0 closes by default, 1.1 keeps alive, Connection tokens', (t) => {
  const cases: Array<[string, boolean]> = [
    ['GET / HTTP/1.0\r\n\r\n', false],
    ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', true],
    ['GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n', false],
    ['GET / HTTP/1.1\r\n\r\n', true],
    ['GET / HTTP/1.1\r\nConnection: close\r\n\r\n', false],
    ['GET / HTTP/1.1\r\nConnection: foo, CLOSE\r\n\r\n', false],
    ['GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n', false],
    ['GET / HTTP/1.1\r\nConnection: closed\r\n\r\n', true],
  ];
  for (const [raw, keepAlive] of cases) {
    const ev = parseAllSplits(t, bytes(raw));
    t.is(head(ev).keepAlive, keepAlive, raw);
    t.is(head(ev).versionMinor, raw.includes('HTTP/1.0') ? 0 : 1);
  }
});

test('request-target forms', (t) => {
  const cases: Array<[string, TargetForm, string]> = [
    ['GET /p?q=1 HTTP/1.1\r\n\r\n', TargetForm.Origin, '/p?q=1'],
    ['GET http://example.com:8080/p HTTP/1.1\r\n\r\n', TargetForm.Absolute, 'http://example.com:8080/p'],
    ['OPTIONS * HTTP/1.1\r\n\r\n', TargetForm.Asterisk, '*'],
    ['CONNECT example.com:443 HTTP/1.1\r\n\r\n', TargetForm.Authority, 'example.com:443'],
    ['CONNECT [::1]:8443 HTTP/1.1\r\n\r\n', TargetForm.Authority, '[::1]:8443'],
  ];
  for (const [raw, form, target] of cases) {
    const ev = parseAllSplits(t, bytes(raw));
    t.is(head(ev).targetForm, form, raw);
    t.is(head(ev).target, target);
  }
});

test('Expect: 100-continue is flagged (HTTP/1.1 only)', (t) => {
  let ev = parseAllSplits(t, bytes('PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok'));
  t.true(head(ev).expectContinue);
  t.deepEqual(ev.slice(1), [['body', 'ok'], ['done', null]]);
  ev = parseAllSplits(t, bytes('PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok'));
  t.false(head(ev).expectContinue);
});

test('Upgrade: websocket stops at the head; the rest is tunnel data', (t) => {
  const ev = parseAllSplits(t, bytes('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
    'Sec-WebSocket-Version: 13\r\n\r\n\x81\x05hello GET / HTTP/1.1\r\n\r\n'));
  t.true(head(ev).upgrade);
  t.is(head(ev).upgradeProtocol, 'websocket');
  t.deepEqual(ev.slice(1), [['tunnel', '\x81\x05hello GET / HTTP/1.1\r\n\r\n']]);
});

test('Upgrade without Connection: upgrade, on HTTP/1.0, or h2c is not an upgrade', (t) => {
  for (const raw of [
    'GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n',
    'GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    'GET / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n',
  ]) {
    const ev = parseAllSplits(t, bytes(raw));
    t.false(head(ev).upgrade, raw);
    t.deepEqual(ev[1], ['done', null]);
  }
});

test('CONNECT (Content-Length: 0 allowed) switches to tunnel after the head', (t) => {
  const ev = parseAllSplits(t, bytes('CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\nContent-Length: 0\r\n\r\n\x00\x01raw'));
  t.true(head(ev).upgrade);
  t.deepEqual(ev.slice(1), [['tunnel', '\x00\x01raw']]);
});

test('pipelined requests in one buffer: execute() stops after each message', (t) => {
  const raw = bytes('GET /1 HTTP/1.1\r\nHost: a\r\n\r\n' +
    'POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc' +
    'POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n' +
    '\r\nGET /4 HTTP/1.0\r\n\r\n');
  const ev = parseAllSplits(t, raw);
  t.deepEqual(ev.filter((e) => e[0] === 'head').map((e) => (e[1] as { target: string }).target), ['/1', '/2', '/3', '/4']);
  t.deepEqual(ev.filter((e) => e[0] !== 'head'), [['done', null], ['body', 'abc'], ['done', null], ['body', 'z'],
    ['done', null], ['done', null]]);
});

test('pause contract: each execute() call returns at a message boundary', async (t) => {
  const { RequestParser } = await import('../../src/filters/network/http_connection_manager/codec/index.js');
  const targets: string[] = [];
  const p = new RequestParser({
    onRequestHead: (h) => targets.push(h.target), onBody: () => {}, onMessageComplete: () => {},
  });
  const a = 'GET /a HTTP/1.1\r\n\r\n';
  const raw = bytes(a + 'POST /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /c HTTP/1.1\r\n\r\n');
  let off = p.execute(raw, 0);
  t.is(off, a.length);
  t.deepEqual(targets, ['/a']);
  off = p.execute(raw, off);
  t.deepEqual(targets, ['/a', '/b']);
  off = p.execute(raw, off);
  t.is(off, raw.length);
  t.deepEqual(targets, ['/a', '/b', '/c']);
  t.is(p.finish(), null);
});

test('field edge cases: empty value, obs-text kept byte-exact, tchar names', (t) => {
  const ev = parseAllSplits(t, bytes("GET / HTTP/1.1\r\nX-Empty:\r\nX-Sp:   \r\nX-Latin: caf\xe9 \x80\xff\r\n" +
    "!#$%&'*+-.^_`|~09AZaz: v\r\n\r\n"));
  t.deepEqual(head(ev).headers, ['x-empty', '', 'x-sp', '', 'x-latin', 'caf\xe9 \x80\xff', "!#$%&'*+-.^_`|~09azaz", 'v']);
});

test('leading empty lines before a request line are ignored', (t) => {
  const ev = parseAllSplits(t, bytes('\r\n\r\nGET / HTTP/1.1\r\n\r\n'));
  t.is(head(ev).target, '/');
});

test('unknown method token is accepted; method case is kept', (t) => {
  const ev = parseAllSplits(t, bytes('PROPFIND /d HTTP/1.1\r\n\r\nget / HTTP/1.1\r\n\r\n'));
  t.is(head(ev, 0).method, 'PROPFIND');
  t.is(head(ev, 1).method, 'get');
});

test('limits: exactly 100 headers and exactly 60 KiB are accepted', (t) => {
  let raw = 'GET / HTTP/1.1\r\n';
  for (let i = 0; i < 100; i++) raw += `h${i}: v\r\n`;
  let ev = runRequest([bytes(raw + '\r\n')]);
  t.is((head(ev).headers as string[]).length, 200);
  const line = 'GET / HTTP/1.1';
  const filler = 60 * 1024 - line.length - 'x: '.length;
  raw = `${line}\r\nx: ${'a'.repeat(filler)}\r\n\r\n`;
  ev = runRequest([bytes(raw)]);
  t.is(ev[0]![0], 'head');
  ev = runRequest([...bytes(raw)].map((c) => Buffer.from([c])));
  t.is(ev[0]![0], 'head');
});

test('finish(): clean close between messages, error when a message is cut', (t) => {
  t.deepEqual(runRequest([bytes('GET / HTTP/1.1\r\n\r\n')], undefined, true), [['head', head(runRequest([bytes('GET / HTTP/1.1\r\n\r\n')]))], ['done', null]]);
  const ev = runRequest([bytes('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab')], undefined, true);
  t.deepEqual(ev.slice(1), [['body', 'ab'], ['eof-error', 'HPE_INVALID_EOF_STATE', 400]]);
  t.deepEqual(runRequest([bytes('GET / HT')], undefined, true), [['eof-error', 'HPE_INVALID_EOF_STATE', 400]]);
});

test('parser reset() makes it reusable', async (t) => {
  const { RequestParser } = await import('../../src/filters/network/http_connection_manager/codec/index.js');
  const seen: string[] = [];
  const h = { onRequestHead: (x: { target: string }) => seen.push(x.target), onBody: () => {}, onMessageComplete: () => {} };
  const p = new RequestParser(h);
  p.execute(bytes('GET /a HTTP/1.1\r\nX: \x00\r\n\r\n'));
  t.is(p.error?.code, 'HPE_INVALID_HEADER_VALUE');
  p.reset();
  t.is(p.error, null);
  p.execute(bytes('GET /b HTTP/1.1\r\n\r\n'));
  t.deepEqual(seen, ['/b']);
});

test('a read buffer reused in place between execute() calls is not served from stale text', async (t) => {
  const { RequestParser } = await import('../../src/filters/network/http_connection_manager/codec/index.js');
  const seen: string[] = [];
  const p = new RequestParser({
    onRequestHead: (h) => seen.push(`${h.target} ${h.headers.join('=')}`), onBody: () => {}, onMessageComplete: () => {},
  });
  const first = 'GET /a HTTP/1.1\r\nX-Val: aaa\r\n\r\n';
  const buf = Buffer.alloc(first.length); // the same Buffer object both times, as with socket onread
  buf.write(first, 'latin1');
  t.is(p.execute(buf), buf.length);
  buf.write('GET /b HTTP/1.1\r\nX-Val: bbb\r\n\r\n', 'latin1');
  t.is(p.execute(buf), buf.length);
  t.deepEqual(seen, ['/a x-val=aaa', '/b x-val=bbb']);
});

test('body chunks are zero-copy views of the input', async (t) => {
  const { RequestParser } = await import('../../src/filters/network/http_connection_manager/codec/index.js');
  const input = bytes('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello');
  const chunks: Buffer[] = [];
  const p = new RequestParser({ onRequestHead: () => {}, onBody: (c) => chunks.push(c), onMessageComplete: () => {} });
  p.execute(input);
  t.is(chunks.length, 1);
  t.is(chunks[0]!.buffer, input.buffer);
  t.is(chunks[0]!.byteOffset, input.byteOffset + input.length - 5);
});
