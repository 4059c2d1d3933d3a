import test from 'ava';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { directWrites, tookWhole, writeBytes } from '../../src/listener/socket_writer.js';
import { headBuffer, releaseHeadBuffer } from '../../src/filters/network/http_connection_manager/codec/head_buffers.js';
import { Http1ResponseEncoder } from '../../src/filters/network/http_connection_manager/http1_response_encoder.js';
import type { DownstreamStream } from '../../src/filters/network/http_connection_manager/downstream.js';
import { HCM, responses } from '../support/hcm.js';
import { UpstreamConnection } from '../../src/cluster/pool/upstream_connection.js';
import { BodyFraming, type UpstreamStreamCallbacks } from '../../src/cluster/pool/upstream_request.js';
import type { Http1Pool } from '../../src/cluster/pool/http1_pool.js';

test('Node 20 offers the direct path (else every write silently takes socket.write())', (t) => {
  // Later Node versions may withdraw process.binding('stream_wrap'); the fallback then keeps every write working.
  if (!process.versions.node.startsWith('20.')) return t.pass(`Node ${process.versions.node}: direct writes ${directWrites ? 'on' : 'off'}`);
  t.is(directWrites, process.env.LEGATE_SOCKET_WRITE !== 'stream');
});

/** A server that collects what each connection sends; `paused` connections are not read until resumed. */
async function collector(t: import('ava').ExecutionContext, paused = false): Promise<{ port: number; conns: Socket[]; received: () => Promise<Buffer> }> {
  const conns: Socket[] = [];
  const done: Promise<Buffer>[] = [];
  const server: Server = createServer((s) => {
    conns.push(s);
    const chunks: Buffer[] = [];
    if (paused) s.pause();
    s.on('data', (b) => chunks.push(b));
    done.push(once(s, 'end').then(() => Buffer.concat(chunks)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  return { port, conns, received: async () => (await waitFor(() => done[0]))! };
}

async function waitFor<T>(get: () => T | undefined): Promise<T> {
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function connected(port: number): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1' });
  await once(s, 'connect');
  return s;
}

test('direct writes and socket.write() arrive in the order they were made; bytesWritten counts both', async (t) => {
  const c = await collector(t);
  const s = await connected(c.port);
  let expected = '';
  for (let i = 0; i < 200; i++) {
    const piece = `direct-${i};`;
    t.true(writeBytes(s, Buffer.from(piece)));
    const other = `stream-${i};`;
    s.write(other);
    expected += piece + other;
  }
  s.end();
  t.is((await c.received()).toString(), expected);
  t.is(s.bytesWritten, Buffer.byteLength(expected));
});

test('a peer that does not read: writes return false once the queue reaches the high-water mark, and drain comes when it empties', async (t) => {
  const c = await collector(t, true);
  const s = await connected(c.port);
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  let written = 0;
  let accepted = true;
  // Fill the kernel buffers and then the handle's queue.
  for (let i = 0; i < 200 && accepted; i++) {
    accepted = writeBytes(s, Buffer.from(chunk));
    written += chunk.length;
  }
  t.false(accepted, 'backpressure reported');
  const drained = once(s, 'drain');
  const peer = await waitFor(() => c.conns[0]);
  peer.resume();
  await drained;
  // After drain a write goes out again (and the end follows every queued byte).
  t.true(writeBytes(s, Buffer.from('tail')));
  s.end();
  const got = await c.received();
  t.is(got.length, written + 4);
  t.is(got.subarray(got.length - 4).toString(), 'tail');
});

test('writes that go async on one socket and complete at once on another, interleaved, all arrive intact (write requests are reused only when free)', async (t) => {
  const slow = await collector(t, true);
  const fast = await collector(t);
  const a = await connected(slow.port);
  const b = await connected(fast.port);
  const pieces: Buffer[] = [];
  let expectedFast = '';
  for (let i = 0; i < 60; i++) {
    // 64 KiB each, a different byte per piece: a request bound to the wrong buffer would show.
    const piece = Buffer.alloc(64 * 1024, 0x41 + (i % 26));
    pieces.push(piece);
    writeBytes(a, piece);
    const small = `fast-${i};`;
    t.true(writeBytes(b, Buffer.from(small)));
    expectedFast += small;
  }
  b.end();
  t.is((await fast.received()).toString(), expectedFast);
  (await waitFor(() => slow.conns[0])).resume();
  a.end();
  t.true((await slow.received()).equals(Buffer.concat(pieces)));
});

test('a socket still connecting takes the write through socket.write() (nothing is lost)', async (t) => {
  const c = await collector(t);
  const s = connect({ port: c.port, host: '127.0.0.1' });
  t.true(s.connecting);
  writeBytes(s, Buffer.from('early '));
  writeBytes(s, Buffer.from('bytes'));
  s.end();
  t.is((await c.received()).toString(), 'early bytes');
});

test('a write to a peer that reset the connection destroys the socket with an errno error, as socket.write() does', async (t) => {
  const c = await collector(t);
  const s = await connected(c.port);
  // Not reading: the reset can only surface through a write.
  s.pause();
  const errored = once(s, 'error');
  const peer = await waitFor(() => c.conns[0]);
  peer.resetAndDestroy();
  await new Promise((r) => setTimeout(r, 50));
  // The first write may still be accepted by the kernel; the reset surfaces on a later one.
  for (let i = 0; i < 20 && !s.destroyed; i++) {
    writeBytes(s, Buffer.alloc(64 * 1024));
    await new Promise((r) => setTimeout(r, 10));
  }
  const [err] = (await errored) as [NodeJS.ErrnoException];
  t.true(['EPIPE', 'ECONNRESET'].includes(err.code ?? ''), String(err.code));
  t.true(s.destroyed);
});

/**
 * Two connected sockets: `full`, whose peer does not read and whose kernel buffers hold 8 MiB
 * (a write to it waits in its queue), and `free`, whose peer reads. received() ends both and
 * returns what each peer got (the full one's after the 8 MiB), as latin1.
 */
async function fullAndFree(t: import('ava').ExecutionContext) {
  const slow = await collector(t, true);
  const fast = await collector(t);
  const full = await connected(slow.port);
  const free = await connected(fast.port);
  const fill = Buffer.alloc(8 * 1024 * 1024, 0x2e);
  writeBytes(full, fill);
  return {
    full,
    free,
    async received(): Promise<{ full: string; free: string }> {
      free.end();
      const freeGot = (await fast.received()).toString('latin1');
      (await waitFor(() => slow.conns[0])).resume();
      full.end();
      return { free: freeGot, full: (await slow.received()).subarray(fill.length).toString('latin1') };
    },
  };
}

test('tookWhole: only a direct write the kernel took in the call; a head buffer queued behind a full socket keeps its bytes while later heads are cut', async (t) => {
  const sockets = await fullAndFree(t);
  const small = Buffer.from('taken');
  writeBytes(sockets.free, small);
  t.is(tookWhole(small), directWrites);
  t.false(tookWhole(Buffer.from('taken')), 'another Buffer');
  // The kernel's buffers are full: this head waits in the handle's queue, pointing into the slab.
  const head = headBuffer(300);
  head.fill(0x48);
  writeBytes(sockets.full, head);
  t.false(tookWhole(head));
  // As the encoders do: released only when taken whole, so it is not. Later heads are cut and
  // released around it (the next read's responses on other connections).
  for (let i = 0; i < 200; i++) {
    const other = headBuffer(300);
    other.fill(0x30 + (i % 10));
    writeBytes(sockets.free, other);
    if (tookWhole(other)) releaseHeadBuffer(other);
  }
  t.is((await sockets.received()).full, 'H'.repeat(300));
});

test('the response encoder releases a head only when the kernel took it: a head queued behind a full socket reaches its client intact while later heads are written', async (t) => {
  /** The HTTP/1.1 response encoder of one client socket, writing as the connection manager does. */
  class Encoder extends Http1ResponseEncoder {
    readonly filter = HCM;
    constructor(private readonly socket: Socket) {
      super();
    }
    write(data: string | Buffer): boolean {
      return typeof data === 'string' ? this.socket.write(data, 'latin1') : writeBytes(this.socket, data);
    }
    shouldClose(): boolean {
      return false;
    }
  }
  const stream = {} as DownstreamStream;
  const respond = (encoder: Encoder, body: string) => {
    encoder.encodeHeaders(stream, 200, 'OK', ['content-length', String(body.length), 'x-body', body], false, body.length);
    encoder.encodeData(Buffer.from(body, 'latin1'));
  };
  const sockets = await fullAndFree(t);
  // The kernel's buffers are full: this response waits in the socket's queue, in the head slab.
  respond(new Encoder(sockets.full), 'stalled');
  const toFree = new Encoder(sockets.free);
  for (let i = 0; i < 200; i++) respond(toFree, `fast-${i}`);
  const got = await sockets.received();
  t.is(responses(got.free).length, 200);
  t.is(got.full, 'HTTP/1.1 200 OK\r\ncontent-length: 7\r\nx-body: stalled\r\n\r\nstalled');
});

test('the upstream connection releases a request head only when the kernel took it: a head queued behind a full socket reaches the upstream intact while later heads are written', async (t) => {
  const pool = { release() {}, forget() {}, onProtocolError() {} } as unknown as Http1Pool;
  const stream = { onUpstreamReset() {}, onUpstreamDrain() {} } as unknown as UpstreamStreamCallbacks;
  const sockets = await fullAndFree(t);
  // The kernel's buffers are full: this request head waits in the socket's queue, in the head slab.
  new UpstreamConnection(pool, sockets.full).sendHeaders(stream, 'GET', '/stalled', ['host', 'svc'], BodyFraming.None);
  const toFree = new UpstreamConnection(pool, sockets.free);
  let expected = '';
  for (let i = 0; i < 200; i++) {
    toFree.sendHeaders(stream, 'GET', `/fast-${i}`, ['host', 'svc'], BodyFraming.None);
    expected += `GET /fast-${i} HTTP/1.1\r\nhost: svc\r\n\r\n`;
  }
  const got = await sockets.received();
  t.is(got.free, expected);
  t.is(got.full, 'GET /stalled HTTP/1.1\r\nhost: svc\r\n\r\n');
});
