/**
 * An upstream HTTP/1.1 connection resumes only the pause it made for its response's backpressure
 * (pauseResponse): a resume without one leaves reads paused by someone else alone. That the pause
 * ends with its response, end to end through the pool, is in hcm_limits.test.ts ("a client that
 * stops reading does not hold up others on a shared upstream connection").
 */
import test from 'ava';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { UpstreamConnection } from '../../src/cluster/pool/upstream_connection.js';
import type { Http1Pool } from '../../src/cluster/pool/http1_pool.js';

test('resumeResponse without a pause does not resume reads someone else paused', async (t) => {
  const sockets = new Set<Socket>();
  const server = createServer((s) => sockets.add(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1' });
  await once(socket, 'connect');
  t.teardown(() => {
    socket.destroy();
    for (const s of sockets) s.destroy();
    server.close();
  });
  // No request is sent: the pool only hears that the connection closed at teardown.
  const conn = new UpstreamConnection({ forget: () => {} } as unknown as Http1Pool, socket);
  socket.pause();
  conn.resumeResponse();
  t.true(socket.isPaused(), 'a pause the connection did not make is kept');
  conn.pauseResponse();
  conn.resumeResponse();
  t.false(socket.isPaused());
});
