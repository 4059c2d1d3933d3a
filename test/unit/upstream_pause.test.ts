/**
 * Backpressure on an upstream HTTP/1.1 connection ends with the response it was for. A full
 * downstream pauses the connection's reads (pauseResponse); when that response completes, the
 * connection goes back to the pool, and it must go back reading: paused, the next request sent on
 * it (any client's) would wait for the first client to read, or forever if that client left.
 */
import test from 'ava';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { UpstreamConnection } from '../../src/cluster/pool/upstream_connection.js';
import type { Http1Pool } from '../../src/cluster/pool/http1_pool.js';
import { BodyFraming, type UpstreamStreamCallbacks } from '../../src/cluster/pool/upstream_request.js';

const RESPONSE = 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello';

async function upstream(t: import('ava').ExecutionContext): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', () => s.write(RESPONSE));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

/** A stream whose downstream is full from its first body byte on. */
function stream(conn: () => UpstreamConnection, events: string[]): UpstreamStreamCallbacks {
  return {
    onUpstreamInformational: () => {},
    onUpstreamHead: (h) => events.push(`head ${h.status}`),
    onUpstreamBody: () => {
      events.push('body');
      conn().pauseResponse();
    },
    onUpstreamComplete: () => events.push('complete'),
    onUpstreamReset: (reason) => events.push(`reset ${reason}`),
    onUpstreamDrain: () => {},
    onUpstreamReadEnd: () => {},
  };
}

test('a response that completes while its downstream is full returns its connection to the pool reading', async (t) => {
  const port = await upstream(t);
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  t.teardown(() => socket.destroy());
  const released: boolean[] = [];
  const pool = { release: (c: UpstreamConnection) => released.push(c.socket.isPaused()), forget: () => {} } as unknown as Http1Pool;
  const conn = new UpstreamConnection(pool, socket);
  const events: string[] = [];
  const done = new Promise<void>((resolve) => {
    const s = stream(() => conn, events);
    const complete = s.onUpstreamComplete;
    s.onUpstreamComplete = (tr) => {
      complete(tr);
      resolve();
    };
    conn.sendHeaders(s, 'GET', '/', ['host', 'up'], BodyFraming.None);
  });
  await done;
  t.deepEqual(events, ['head 200', 'body', 'complete']);
  t.deepEqual(released, [false], 'released with its reads paused');
  t.false(socket.isPaused());

  // The next request on the same connection gets its answer (it would wait forever if paused).
  const events2: string[] = [];
  const second = new Promise<void>((resolve) => {
    const s = stream(() => conn, events2);
    s.onUpstreamBody = () => events2.push('body');
    s.onUpstreamComplete = () => {
      events2.push('complete');
      resolve();
    };
    conn.sendHeaders(s, 'GET', '/', ['host', 'up'], BodyFraming.None);
  });
  const answered = await Promise.race([second.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
  t.true(answered, 'the next request on the connection is answered');
  t.deepEqual(events2, ['head 200', 'body', 'complete']);
});

test('resumeResponse without a pause does not resume reads someone else paused', async (t) => {
  const port = await upstream(t);
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  t.teardown(() => socket.destroy());
  const pool = { release: () => {}, forget: () => {} } as unknown as Http1Pool;
  const conn = new UpstreamConnection(pool, socket);
  socket.pause();
  conn.resumeResponse();
  t.true(socket.isPaused());
  conn.pauseResponse();
  conn.resumeResponse();
  t.false(socket.isPaused());
});
