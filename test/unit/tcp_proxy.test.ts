import test from 'ava';
import { createServer, connect, type Socket, type Server } from 'node:net';
import { once } from 'node:events';
import { tcpChain } from '../../src/config/translate/sidecar.js';
import { serveConnections, sidecarSnapshotTo } from '../support/connection_pipeline.js';

/**
 * tcp_proxy in-process: a local "listener" feeds accepted sockets straight into the worker's
 * connection pipeline, with a cluster whose single endpoint is the test's upstream server.
 */
async function proxyTo(t: import('ava').ExecutionContext, upstreamPort: number, idleTimeoutMs = 0) {
  const snapshot = sidecarSnapshotTo(upstreamPort, (capture) => {
    capture[0]!.defaultFilterChain = tcpChain('up', 'up', idleTimeoutMs);
    return capture;
  });
  return serveConnections(t, snapshot, { address: '10.0.0.1', port: 9 });
}

async function upstream(t: import('ava').ExecutionContext, onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { server, port: (server.address() as { port: number }).port };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

test('half-close: the client finishes writing and still receives the reply sent after its FIN', async (t) => {
  const up = await upstream(t, (s) => {
    const got: Buffer[] = [];
    s.on('data', (c) => got.push(c));
    s.on('end', () => s.end(`got ${Buffer.concat(got).length} bytes`));
  });
  const { port, stat } = await proxyTo(t, up.port);
  const c = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  c.end(Buffer.alloc(100_000, 1));
  const chunks: Buffer[] = [];
  c.on('data', (d) => chunks.push(d));
  await once(c, 'end');
  t.is(Buffer.concat(chunks).toString(), 'got 100000 bytes');
  await once(c, 'close');
  await settle();
  t.is(stat('cluster.up.upstream_cx_tx_bytes_total'), 100_000);
  t.is(stat('cluster.up.upstream_cx_rx_bytes_total'), 16);
  t.is(stat('tcp.up.downstream_cx_total'), 1);
});

test('an upstream that refuses the connection closes the downstream and counts connect_fail', async (t) => {
  const up = await upstream(t, () => {});
  up.server.close();
  await settle();
  const { port, stat } = await proxyTo(t, up.port);
  const c = connect({ port, host: '127.0.0.1' });
  c.resume();
  c.on('error', () => {});
  await once(c, 'close');
  await settle();
  t.is(stat('cluster.up.upstream_cx_connect_fail'), 1);
  t.is(stat('cluster.up.upstream_cx_active'), 0);
});

test('an idle connection is closed after the idle timeout and counted', async (t) => {
  const up = await upstream(t, () => {});
  const { port, stat } = await proxyTo(t, up.port, 200);
  const c = connect({ port, host: '127.0.0.1' });
  c.resume();
  const started = Date.now();
  await once(c, 'close');
  t.true(Date.now() - started >= 150);
  await settle();
  t.is(stat('tcp.up.idle_timeout'), 1);
});

test('bytes in one direction only keep the connection from the idle timeout (Envoy: none sent or received on either side)', async (t) => {
  let ticker: NodeJS.Timeout | undefined;
  const up = await upstream(t, (s) => {
    // The upstream talks every 50 ms; the client only listens.
    ticker = setInterval(() => s.write('tick'), 50);
    s.on('error', () => {});
    s.on('close', () => clearInterval(ticker));
  });
  t.teardown(() => clearInterval(ticker));
  const { port, stat } = await proxyTo(t, up.port, 200);
  const c = connect({ port, host: '127.0.0.1' });
  let received = 0;
  c.on('data', (d) => (received += d.length));
  let closed = false;
  c.on('close', () => (closed = true));
  await new Promise((r) => setTimeout(r, 800));
  t.false(closed, 'closed by the idle timeout while the upstream was sending');
  t.true(received >= 4 * 10, `only ${received} bytes arrived`);
  // Once the upstream goes quiet, the timeout applies again.
  clearInterval(ticker);
  const quietSince = Date.now();
  await once(c, 'close');
  t.true(Date.now() - quietSince >= 150);
  await settle();
  t.is(stat('tcp.up.idle_timeout'), 1);
});

test('a client that does not read pauses the upstream instead of buffering without bound', async (t) => {
  let written = 0;
  let upstreamSocket: Socket | undefined;
  const chunk = Buffer.alloc(64 * 1024);
  const up = await upstream(t, (s) => {
    upstreamSocket = s;
    const pump = () => {
      while (written < 256 * 1024 * 1024 && s.write(chunk)) written += chunk.length;
    };
    s.on('drain', pump);
    pump();
  });
  const { port, stat } = await proxyTo(t, up.port);
  const c = connect({ port, host: '127.0.0.1' });
  await once(c, 'connect');
  c.pause();
  await new Promise((r) => setTimeout(r, 500));
  // Kernel buffers on three sockets plus one in-flight chunk: a few MB, far below 256 MB.
  t.true(written < 32 * 1024 * 1024, `upstream got ${written} bytes out while the client read nothing`);
  t.true(stat('tcp.up.downstream_flow_control_paused_reading_total') >= 1);
  c.destroy();
  upstreamSocket?.destroy();
});

test('a reset upstream closes the downstream', async (t) => {
  const up = await upstream(t, (s) => s.resetAndDestroy());
  const { port } = await proxyTo(t, up.port);
  const c = connect({ port, host: '127.0.0.1' });
  c.on('error', () => {});
  c.resume();
  c.write('x');
  const started = Date.now();
  await once(c, 'close');
  // Promptly, not by some timeout: the reset is carried across.
  t.true(Date.now() - started < 1000, `closed after ${Date.now() - started} ms`);
});
