import test from 'ava';
import { headBuffer, headBufferState, releaseHeadBuffer } from '../../src/filters/network/http_connection_manager/codec/head_buffers.js';
import { encodeResponseHead, responseHeadString } from '../../src/filters/network/http_connection_manager/codec/index.js';

/** Releases whatever earlier tests left out, so each test starts from the slab's start. */
function drain(): void {
  // A head that is never released keeps the slab busy until it fills; filling it starts a new one.
  while (headBufferState().offset !== 0) releaseHeadBuffer(headBuffer(4096));
}

test.serial('a released head hands its bytes out again, from the start of the slab', (t) => {
  drain();
  const a = headBuffer(300);
  t.is(headBufferState().outstanding, 1);
  releaseHeadBuffer(a);
  t.deepEqual(headBufferState(), { outstanding: 0, offset: 0 });
  const b = headBuffer(300);
  t.is(b, a, 'the same view of the slab, made once');
  releaseHeadBuffer(b);
});

test.serial('a head not released keeps its bytes while later heads are cut, past the slab filling up', (t) => {
  drain();
  const held = headBuffer(200);
  held.fill(0x48);
  // Many more heads than the slab holds, each scribbled over and released.
  for (let i = 0; i < 500; i++) {
    const h = headBuffer(100 + (i % 50));
    h.fill(0x20 + (i % 90));
    releaseHeadBuffer(h);
  }
  t.true(held.equals(Buffer.alloc(200, 0x48)));
  // Released late, it comes from a slab no longer in use: the current slab's count is untouched.
  const before = headBufferState();
  releaseHeadBuffer(held);
  t.deepEqual(headBufferState(), before);
});

test.serial('heads are cut one after another while earlier ones are out; the slab restarts only when all are back', (t) => {
  drain();
  const a = headBuffer(100);
  const b = headBuffer(50);
  a.fill(1);
  b.fill(2);
  t.deepEqual(headBufferState(), { outstanding: 2, offset: 150 });
  releaseHeadBuffer(a);
  t.deepEqual(headBufferState(), { outstanding: 1, offset: 150 });
  const c = headBuffer(10);
  c.fill(3);
  t.true(b.equals(Buffer.alloc(50, 2)));
  releaseHeadBuffer(b);
  releaseHeadBuffer(c);
  t.deepEqual(headBufferState(), { outstanding: 0, offset: 0 });
});

test.serial('a long head gets a Buffer of its own, which release leaves alone', (t) => {
  drain();
  const big = headBuffer(10_000);
  t.is(big.length, 10_000);
  t.deepEqual(headBufferState(), { outstanding: 0, offset: 0 });
  releaseHeadBuffer(big);
  t.deepEqual(headBufferState(), { outstanding: 0, offset: 0 });
});

test.serial('the serializer cuts heads from the slab; a head turned to text is released at once, a refused one too', (t) => {
  drain();
  const head = encodeResponseHead(200, 'OK', ['server', 'envoy'], 1, 2);
  t.is(head.subarray(0, head.length - 2).toString('latin1'), 'HTTP/1.1 200 OK\r\nserver: envoy\r\n\r\n');
  t.is(headBufferState().outstanding, 1);
  releaseHeadBuffer(head);
  t.is(responseHeadString(404, undefined, ['content-length', '0']), 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
  t.deepEqual(headBufferState(), { outstanding: 0, offset: 0 });
  t.throws(() => encodeResponseHead(200, 'OK', ['x-bad', 'a\r\nb']), { code: 'ERR_HTTP1_INVALID_HEADER_VALUE' });
  t.deepEqual(headBufferState(), { outstanding: 0, offset: 0 });
});

test.serial('more heads out at once than the slab tracks: the later ones come from a new slab, and none is overwritten', (t) => {
  drain();
  const heads: Buffer[] = [];
  for (let i = 0; i < 100; i++) {
    const h = headBuffer(64);
    h.fill(i);
    heads.push(h);
  }
  for (let i = 0; i < 100; i++) t.true(heads[i]!.equals(Buffer.alloc(64, i)), `head ${i}`);
  for (const h of heads) releaseHeadBuffer(h);
  t.deepEqual(headBufferState(), { outstanding: 0, offset: 0 });
});
