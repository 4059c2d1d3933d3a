import test from 'ava';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Listener } from '../../src/config/model.js';
import { detectingPort, serveConnections, sidecarSnapshotTo } from '../support/connection_pipeline.js';

/**
 * listener_filters_timeout (MeshConfig protocolDetectionTimeout) on a port with HTTP chains, as
 * istiod builds `0.0.0.0_<port>`: http_inspector waits for the client's first bytes, and a
 * client that says nothing (a server-first protocol such as MySQL or SMTP) is the case at stake.
 */
async function proxy(t: import('ava').ExecutionContext, upstreamPort: number, timeout: Pick<Listener, 'listenerFiltersTimeoutMs' | 'onListenerFiltersTimeout'>) {
  const port = detectingPort(3306, timeout);
  return serveConnections(t, sidecarSnapshotTo(upstreamPort, (capture) => [...capture, port]), { address: '10.0.0.1', port: 3306 });
}

/** A server-first upstream: greets every connection at once, then echoes. */
async function greeter(t: import('ava').ExecutionContext): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const server = createServer((s: Socket) => {
    accepted++;
    s.write('220 ready\r\n');
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as { port: number }).port, accepted: () => accepted };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('no listener_filters_timeout (Istio default): a silent client is waited for, then served by what it sends', async (t) => {
  const up = await greeter(t);
  const { port } = await proxy(t, up.port, {});
  const c = connect({ port, host: '127.0.0.1' });
  t.teardown(() => c.destroy());
  await once(c, 'connect');
  let closed = false;
  c.once('close', () => (closed = true));
  let got = '';
  c.on('data', (d: Buffer) => (got += d.toString()));
  // Past the fixed 5 s Legate used to allow before sending a silent client to its TCP chain.
  await sleep(5500);
  t.false(closed, 'the silent connection is still open');
  t.is(up.accepted(), 0, 'nothing was decided for it yet');
  t.is(got, '');
  c.write('PING\r\n');
  while (!got.includes('PING')) await once(c, 'data');
  t.is(got, '220 ready\r\nPING\r\n', 'not HTTP: the TCP chain got the bytes intact');
});

test('listener_filters_timeout with continue (Istio with protocolDetectionTimeout set): a server-first protocol gets its greeting', async (t) => {
  const up = await greeter(t);
  const { port } = await proxy(t, up.port, { listenerFiltersTimeoutMs: 150 });
  const c = connect({ port, host: '127.0.0.1' });
  t.teardown(() => c.destroy());
  const started = Date.now();
  const [greeting] = (await once(c, 'data')) as [Buffer];
  t.is(greeting.toString(), '220 ready\r\n');
  t.true(Date.now() - started >= 140, 'after the timeout, not before');
  c.write('QUIT\r\n');
  const [echo] = (await once(c, 'data')) as [Buffer];
  t.is(echo.toString(), 'QUIT\r\n');
});

test('listener_filters_timeout with close (Envoy default): the silent connection is closed and counted, nothing reaches the upstream', async (t) => {
  const up = await greeter(t);
  const { port, stat } = await proxy(t, up.port, { listenerFiltersTimeoutMs: 150, onListenerFiltersTimeout: 'close' });
  const c = connect({ port, host: '127.0.0.1' });
  c.on('error', () => {});
  await once(c, 'close');
  t.is(up.accepted(), 0);
  t.is(stat('listener.0.0.0.0_15001.downstream_pre_cx_timeout'), 1);
});

test('one time limit for both listener filters: a client that stalls inside its ClientHello is timed out too', async (t) => {
  const up = await greeter(t);
  const { port } = await proxy(t, up.port, { listenerFiltersTimeoutMs: 200 });
  const c = connect({ port, host: '127.0.0.1' });
  t.teardown(() => c.destroy());
  await once(c, 'connect');
  // The first bytes of a TLS record: tls_inspector waits for the rest, which never comes.
  c.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x80]));
  let got = Buffer.alloc(0);
  c.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  while (got.length < 16) await once(c, 'data');
  t.is(got.subarray(0, 11).toString(), '220 ready\r\n', 'the TCP chain took it at the timeout');
  t.deepEqual([...got.subarray(11)], [0x16, 0x03, 0x01, 0x00, 0x80], 'with the bytes tls_inspector had read');
});
