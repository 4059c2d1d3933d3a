import test from 'ava';
import {
  encodeRequestHead, encodeResponseHead, requestHeadString, responseHeadString, chunkHeader, encodeChunk, lastChunk,
  LAST_CHUNK, getHeader, getHeaderAll, hasHeader, setHeader, removeHeader, appendHeader, listHasToken, listTokens,
  stripHopByHop,
} from '../../src/filters/network/http_connection_manager/codec/index.js';
import fc from 'fast-check';
import { errorCode } from '../../src/errors.js';
import { headBytesJs, headBytesNative } from '../../src/filters/network/http_connection_manager/codec/serializer.js';
import { headWriter } from '../../src/filters/network/http_connection_manager/codec/native_scan.js';
import { fuzzParams } from '../support/fuzz.js';
import { runRequest, runResponse, bytes } from './http1_helpers.js';

test('request head: one Buffer, exact bytes', (t) => {
  const b = encodeRequestHead('GET', '/a?b=c', ['host', 'svc', 'x-request-id', 'abc'], 1);
  t.is(b.toString('latin1'), 'GET /a?b=c HTTP/1.1\r\nhost: svc\r\nx-request-id: abc\r\n\r\n');
  t.is(encodeRequestHead('GET', '/', [], 0).toString(), 'GET / HTTP/1.0\r\n\r\n');
});

test('response head: default reason, custom reason, unknown status', (t) => {
  t.is(encodeResponseHead(404, undefined, ['content-length', '0']).toString(), 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
  t.is(responseHeadString(200, 'Fine', []), 'HTTP/1.1 200 Fine\r\n\r\n');
  t.is(responseHeadString(299, undefined, [], 0), 'HTTP/1.0 299 \r\n\r\n');
});

test('a response head can leave room for its body after it', (t) => {
  const b = encodeResponseHead(200, undefined, ['content-length', '2'], 1, 2);
  const head = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n';
  t.is(b.length, head.length + 2);
  t.is(b.toString('latin1', 0, head.length), head);
  t.is(headBytesJs('HTTP/1.1 200 OK\r\n', ['content-length', '2'], 2).toString('latin1', 0, head.length), head);
});

test('obs-text values are written back byte-exact (latin1)', (t) => {
  const b = encodeResponseHead(200, 'OK', ['x-latin', 'caf\xe9\xff']);
  t.deepEqual([...b.subarray(b.indexOf('caf'), b.indexOf('caf') + 5)], [0x63, 0x61, 0x66, 0xe9, 0xff]);
});

test('serializer refuses CR, LF, NUL and other smuggling vectors', (t) => {
  const bad: Array<[() => unknown, string]> = [
    [() => requestHeadString('GET', '/', ['x', 'a\r\nInjected: 1']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => requestHeadString('GET', '/', ['x', 'a\nb']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => requestHeadString('GET', '/', ['x', 'a\rb']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => requestHeadString('GET', '/', ['x', 'a\x00b']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => requestHeadString('GET', '/', ['x', 'a\x7f']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => requestHeadString('GET', '/', ['x', '\u0100']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    // U+010A and U+0D0A end in the bytes of LF and CR LF: a latin1 copy would keep only those.
    [() => requestHeadString('GET', '/', ['x', 'a\u010aInjected: 1']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => responseHeadString(200, 'OK', ['x', 'a\u0d0a\u0d0aInjected: 1', 'y', 'b']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => requestHeadString('GET', '/', ['x-a-long-name-past-sixteen-bytes\u0100', 'v']), 'ERR_HTTP1_INVALID_HEADER_NAME'],
    [() => requestHeadString('GET', '/', ['x', 'a value longer than sixteen bytes\x7f']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => requestHeadString('GET', '/', ['x', '\u0161']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => requestHeadString('GET', '/', ['x', 'a value longer than sixteen bytes\u0161']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    // A name holding ': ' would still read as `name: value` on the wire; it is refused.
    [() => requestHeadString('GET', '/', ['x: y', 'v']), 'ERR_HTTP1_INVALID_HEADER_NAME'],
    [() => requestHeadString('GET', '/', ['x\r\ny', 'v']), 'ERR_HTTP1_INVALID_HEADER_NAME'],
    [() => requestHeadString('GET', '/', ['x y', 'v']), 'ERR_HTTP1_INVALID_HEADER_NAME'],
    [() => requestHeadString('GET', '/', ['x:', 'v']), 'ERR_HTTP1_INVALID_HEADER_NAME'],
    [() => requestHeadString('GET', '/', ['', 'v']), 'ERR_HTTP1_INVALID_HEADER_NAME'],
    [() => requestHeadString('GET', '/', ['x\x00', 'v']), 'ERR_HTTP1_INVALID_HEADER_NAME'],
    [() => requestHeadString('GET', '/', ['x']), 'ERR_HTTP1_INVALID_HEADER_NAME'],
    [() => requestHeadString('G T', '/', []), 'ERR_HTTP1_INVALID_METHOD'],
    [() => requestHeadString('', '/', []), 'ERR_HTTP1_INVALID_METHOD'],
    [() => requestHeadString('GET', '/a b', []), 'ERR_HTTP1_INVALID_TARGET'],
    [() => requestHeadString('GET', '/a\r\nX: y', []), 'ERR_HTTP1_INVALID_TARGET'],
    [() => requestHeadString('GET', '/\x00', []), 'ERR_HTTP1_INVALID_TARGET'],
    [() => requestHeadString('GET', '', []), 'ERR_HTTP1_INVALID_TARGET'],
    [() => responseHeadString(200, 'OK\r\nX: y', []), 'ERR_HTTP1_INVALID_STATUS'],
    [() => responseHeadString(99, undefined, []), 'ERR_HTTP1_INVALID_STATUS'],
    [() => responseHeadString(1000, undefined, []), 'ERR_HTTP1_INVALID_STATUS'],
    [() => responseHeadString(200.5, undefined, []), 'ERR_HTTP1_INVALID_STATUS'],
    [() => lastChunk(['x', 'a\r\nb']), 'ERR_HTTP1_INVALID_HEADER_VALUE'],
    [() => chunkHeader(0), 'ERR_HTTP1_INVALID_CHUNK'],
    [() => chunkHeader(-1), 'ERR_HTTP1_INVALID_CHUNK'],
  ];
  for (const [fn, code] of bad) {
    const err = t.throws(fn as () => void);
    t.is(errorCode(err), code, String(fn));
  }
});

test('the native head writer gives the bytes and errors of the JS one, on hostile heads too', (t) => {
  if (process.env.LEGATE_HTTP1_SCAN === 'js') {
    t.is(headWriter, null, 'LEGATE_HTTP1_SCAN=js leaves every head to the JS writer');
    return;
  }
  t.truthy(headWriter, 'build/Release/legate_http1.node did not load');
  const writer = headWriter!;
  const outcome = (write: () => Buffer): string => {
    try {
      return write().toString('latin1');
    } catch (err) {
      return `error ${errorCode(err)}`;
    }
  };
  // Chars above 0xff whose low byte is valid too (U+0161 'a', U+0120 ' ', U+013A ':').
  const hostile = [':', ' ', '\t', '\r', '\n', '\x00', '\x1f', '\x7f', '\x80', '\xff', '\u0100', '\u010a', '\u0d0a', '\u0161', '\u0120', '\u013a'];
  const mostly = (good: string[]) => fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 150 }, { arbitrary: fc.constantFrom(...hostile), weight: 1 });
  const name = fc.string({ unit: mostly("!#$%&'*+-.^_`|~09azAZ".split('')), maxLength: 40 });
  const value = fc.string({ unit: mostly(['a', 'Z', '~', ' ', '\t', '"', ':', '\x80', '\xe9', '\xff']), maxLength: 60 });
  const head = fc.record({ start: fc.constantFrom('', 'GET / HTTP/1.1\r\n', '0\r\n'), fields: fc.array(fc.tuple(name, value), { maxLength: 12 }) });
  let written = 0;
  fc.assert(fc.property(head, ({ start, fields }) => {
    const headers = fields.flat();
    const native = outcome(() => headBytesNative(writer, start, headers));
    if (!native.startsWith('error')) written++;
    return native === outcome(() => headBytesJs(start, headers));
  }), fuzzParams(2000));
  t.true(written > 500, `only ${written} generated heads were valid`);
  // Lengths that do not add up to the join are refused, not written.
  writer.lengths.set([1, 1]);
  t.false(writer.write('abcd', Buffer.alloc(4 + 4 + 2), 4 + 4 + 2, 0, 1));
  writer.lengths.set([3, 2]);
  t.false(writer.write('abcd', Buffer.alloc(4 + 4 + 2), 4 + 4 + 2, 0, 1));
  writer.lengths.set([2, 2]);
  t.true(writer.write('abcd', Buffer.alloc(4 + 4 + 2), 4 + 4 + 2, 0, 1));
  // A head length past the Buffer is refused.
  t.false(writer.write('abcd', Buffer.alloc(4 + 4 + 2), 4 + 4 + 3, 0, 1));
  // Long heads, around the 4 KiB the writer's scratch starts with (the checks read 16 bytes past a run).
  for (let len = 4060; len <= 4120; len += 3) {
    const long = ['x-long', 'v'.repeat(len), 'x-after', 'w'];
    t.is(outcome(() => headBytesNative(writer, 'HTTP/1.1 200 OK\r\n', long)), outcome(() => headBytesJs('HTTP/1.1 200 OK\r\n', long)));
  }
  // More fields than the shared length array holds: written by the JS writer, same bytes.
  const many = Array.from({ length: writer.lengths.length + 2 }, (_, i) => (i % 2 === 0 ? `x-${i}` : `v${i}`));
  t.is(headBytesNative(writer, '', many).toString('latin1'), headBytesJs('', many).toString('latin1'));
});

test('chunked framing helpers produce what the parser accepts', (t) => {
  t.is(chunkHeader(255).toString(), 'ff\r\n');
  t.is(LAST_CHUNK.toString(), '0\r\n\r\n');
  t.is(lastChunk(null), LAST_CHUNK);
  const head = encodeRequestHead('POST', '/u', ['transfer-encoding', 'chunked']);
  const body = Buffer.concat([chunkHeader(3), bytes('abc'), bytes('\r\n'), encodeChunk(bytes('defgh')),
    lastChunk(['x-sum', '42'])]);
  t.is(body.toString(), '3\r\nabc\r\n5\r\ndefgh\r\n0\r\nx-sum: 42\r\n\r\n');
  const ev = runRequest([Buffer.concat([head, body])]);
  t.deepEqual(ev.slice(1), [['body', 'abcdefgh'], ['done', ['x-sum', '42']]]);
  const rev = runResponse([Buffer.concat([encodeResponseHead(200, undefined, ['transfer-encoding', 'chunked']), body])]);
  t.deepEqual(rev.slice(1), [['body', 'abcdefgh'], ['done', ['x-sum', '42']]]);
});

test('header list helpers', (t) => {
  const h = ['host', 'a', 'x', '1', 'y', '2', 'x', '3'];
  t.is(getHeader(h, 'x'), '1');
  t.deepEqual(getHeaderAll(h, 'x'), ['1', '3']);
  t.true(hasHeader(h, 'y'));
  t.false(hasHeader(h, 'z'));
  setHeader(h, 'x', 'new');
  t.deepEqual(h, ['host', 'a', 'x', 'new', 'y', '2']);
  setHeader(h, 'z', 'appended');
  appendHeader(h, 'z', 'again');
  t.is(removeHeader(h, 'z'), 2);
  t.deepEqual(h, ['host', 'a', 'x', 'new', 'y', '2']);
  t.is(removeHeader(h, 'nope'), 0);
});

test('list tokens are case-insensitive and OWS-tolerant', (t) => {
  t.true(listHasToken('Keep-Alive , Upgrade', 'upgrade'));
  t.false(listHasToken('upgraded', 'upgrade'));
  t.true(listHasToken(',,close,', 'close'));
  t.deepEqual(listTokens(' A ,b,, C\t'), ['a', 'b', 'c']);
});

test('stripHopByHop removes fixed and Connection-nominated fields', (t) => {
  const h = ['host', 'a', 'connection', 'keep-alive, X-Secret, Upgrade', 'keep-alive', 'timeout=5',
    'proxy-connection', 'keep-alive', 'transfer-encoding', 'chunked', 'te', 'trailers, deflate', 'upgrade', 'websocket',
    'trailer', 'x-sum', 'x-secret', 's', 'x-keep', 'k'];
  stripHopByHop(h);
  t.deepEqual(h, ['host', 'a', 'te', 'trailers', 'x-keep', 'k']);
  const h2 = ['te', 'gzip', 'a', 'b'];
  stripHopByHop(h2);
  t.deepEqual(h2, ['a', 'b']);
  const h3 = ['te', 'trailers', 'a', 'b'];
  stripHopByHop(h3, { keepTeTrailers: false });
  t.deepEqual(h3, ['a', 'b']);
  // A field the Connection header names goes wherever it stands, before the header too.
  const h4 = ['x-early', '1', 'a', 'b', 'connection', 'x', 'connection', 'X-Early, x-late', 'x-late', '2', 'connection', 'close'];
  stripHopByHop(h4);
  t.deepEqual(h4, ['a', 'b']);
  // RFC 9110 §10.1.4: a TE sender names it in Connection too; `te: trailers` still goes through.
  const h5 = ['connection', 'TE', 'te', 'trailers', 'a', 'b'];
  stripHopByHop(h5);
  t.deepEqual(h5, ['te', 'trailers', 'a', 'b']);
});

test('stripHopByHop keepUpgrade re-adds a clean Connection: upgrade', (t) => {
  const h = ['connection', 'Upgrade, x-foo', 'upgrade', 'websocket', 'x-foo', '1', 'sec-websocket-key', 'k'];
  stripHopByHop(h, { keepUpgrade: true });
  t.deepEqual(h, ['upgrade', 'websocket', 'sec-websocket-key', 'k', 'connection', 'upgrade']);
});
