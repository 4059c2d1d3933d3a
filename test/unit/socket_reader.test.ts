import test from 'ava';
import { once } from 'node:events';
import { connect, createServer, Socket, type Server } from 'node:net';
import { readerSocketOptions, setReader, trackReads } from '../../src/listener/socket_reader.js';

/** A server that writes `chunks` to each connection, one at a time, then ends. */
async function sender(t: import('ava').ExecutionContext, chunks: (string | Buffer)[]): Promise<number> {
  const server: Server = createServer((s) => {
    let i = 0;
    // A pause between writes so that each lands in its own read.
    const next = () => (i < chunks.length ? s.write(chunks[i++], () => setTimeout(next, 20)) : s.end());
    next();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return (server.address() as { port: number }).port;
}

function readerSocket(port: number): Socket {
  return trackReads(connect({ port, host: '127.0.0.1', ...readerSocketOptions() }));
}

test('bytes that arrive before a reader is set are kept and handed to the first reader, in order', async (t) => {
  const port = await sender(t, ['one ', 'two ', 'three']);
  const s = readerSocket(port);
  await once(s, 'end');
  let got = '';
  setReader(s, (b) => (got += b.toString()));
  t.is(got, 'one two three');
});

test('readers see copies only if they copy: the thread buffer is reused between reads', async (t) => {
  const port = await sender(t, ['aaaa', 'bbbb']);
  const s = readerSocket(port);
  const kept: Buffer[] = [];
  const copies: string[] = [];
  setReader(s, (b) => {
    kept.push(b);
    copies.push(Buffer.from(b).toString());
  });
  await once(s, 'end');
  t.deepEqual(copies, ['aaaa', 'bbbb']);
  // The first view now shows what the second read wrote into the same memory.
  t.is(kept[0].buffer, kept[1].buffer);
});

test('a reader can hand the socket to another reader while early bytes are replayed', async (t) => {
  const port = await sender(t, ['HEAD', 'body1', 'body2']);
  const s = readerSocket(port);
  await once(s, 'end');
  const seen: string[] = [];
  const second = (b: Buffer) => seen.push(`second:${b}`);
  setReader(s, (b) => {
    seen.push(`first:${b}`);
    setReader(s, second);
  });
  t.deepEqual(seen, ['first:HEAD', 'second:body1', 'second:body2']);
});

test('without a reader a flood pauses the socket instead of buffering without bound', async (t) => {
  const big = Buffer.alloc(64 * 1024, 0x61);
  const port = await sender(t, Array.from({ length: 40 }, () => big));
  const s = readerSocket(port);
  await new Promise((r) => setTimeout(r, 300));
  t.true(s.isPaused(), 'reading stopped while nobody took the bytes');
  let total = 0;
  setReader(s, (b) => (total += b.length));
  await once(s, 'end');
  t.is(total, 40 * big.length, 'nothing was lost once a reader came');
});

test('sockets made elsewhere (a server\'s, reuseport mode) deliver to readers through data events', async (t) => {
  const port = await sender(t, ['x', 'y']);
  const s = connect({ port, host: '127.0.0.1' });
  let got = '';
  setReader(s, (b) => (got += b.toString()));
  await once(s, 'end');
  t.is(got, 'xy');
});

for (const mode of ['onread', 'stream'] as const) {
  test(`a reader that throws closes its own connection only; the thread and other connections go on (${mode} sockets)`, async (t) => {
    const port = await sender(t, ['bad', 'more']);
    const open = (): Socket => (mode === 'onread' ? readerSocket(port) : connect({ port, host: '127.0.0.1' }));
    const failing = open();
    const healthy = open();
    let healthyGot = '';
    setReader(healthy, (b) => (healthyGot += b.toString()));
    setReader(failing, () => {
      throw new Error('a bug met on these bytes');
    });
    await once(failing, 'close');
    t.true(failing.destroyed);
    await once(healthy, 'end');
    t.is(healthyGot, 'badmore');
  });
}
