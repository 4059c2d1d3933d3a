import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import { translate } from '../../src/config/translate/index.js';
import { parseText, type Resource } from '../../src/config/resources.js';
import { indexStats } from '../../src/config/snapshot.js';
import type { Snapshot } from '../../src/config/model.js';
import { listenHandoff } from '../../src/listener/handoff.js';
import { nativeSockets } from '../../src/listener/native/index.js';
import { WorkerPool } from '../../src/main/worker_pool.js';
import { StatsRegistry } from '../../src/stats/store.js';
import { echoServer, freePort, roundTrip } from '../support/servers.js';

/**
 * The whole worker path on loopback, without iptables: a connection made directly to the
 * listener has the listener's own address as original destination, so a ServiceEntry on
 * that address:port routes it to an echo server through a worker's tcp_proxy.
 */
async function setup(t: import('ava').ExecutionContext, workers = 2) {
  const native = nativeSockets();
  if (!native) throw new Error('native addon not built: run npm install');
  const echo = await echoServer();
  t.teardown(() => echo.server.close());
  const port = await freePort();
  const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo, namespace: default}
spec:
  hosts: [echo.test]
  addresses: [127.0.0.1]
  ports: [{number: ${port}, name: tcp, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {tcp: ${echo.port}}}]
`;
  const resources: Resource[] = [];
  parseText(yaml, 'test.yaml', resources, []);
  const tr = translate(resources, { outboundPort: port, inboundPort: 1, inboundTargetAddress: '127.0.0.1', inboundSourceAddress: '127.0.0.6' });
  t.deepEqual(tr.diagnostics.filter((d) => d.severity === 'error'), []);
  const snapshot: Snapshot = { version: 1, source: 'test', builtAt: '', role: tr.role, mesh: tr.mesh, listeners: tr.listeners, routes: tr.routes, clusters: tr.clusters };
  // Serve the ServiceEntry's listener on the capture port: move the guard off this port.
  const outbound = snapshot.listeners.find((l) => l.name === 'virtualOutbound')!;
  outbound.filterChains = [];
  const registry = new StatsRegistry({ slabs: workers * 2 + 1, capacity: 4096 });
  let lost = 0;
  const pool = new WorkerPool(workers, registry, native, { acceptMode: 'handoff', transparent: false, onRestart: () => {} });
  t.teardown(() => pool.close());
  pool.publish({ snapshot, stats: indexStats(snapshot, registry) });
  const server: Server = await listenHandoff({ ...outbound, address: { address: '127.0.0.1', port } }, native, pool, {
    transparent: false,
    backlog: 128,
    onLost: () => lost++,
  });
  t.teardown(() => server.close());
  return { port, echo, registry, pool, server, lost: () => lost };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a handed-off connection is proxied both ways, with half-close and exact byte counts', async (t) => {
  const { port, echo, registry } = await setup(t);
  const payload = randomBytes(1 << 20);
  const { data, error } = await roundTrip(port, payload);
  t.is(error, undefined);
  t.is(sha(data), sha(payload));
  t.is(echo.connections, 1);
  const cluster = `outbound|${port}||echo.test`;
  // Counters are added when the connection closes on the worker; give it a moment.
  await new Promise((r) => setTimeout(r, 100));
  t.is(registry.readByName(`cluster.${cluster}.upstream_cx_total`), 1);
  t.is(registry.readByName(`cluster.${cluster}.upstream_cx_tx_bytes_total`), payload.length);
  t.is(registry.readByName(`cluster.${cluster}.upstream_cx_rx_bytes_total`), payload.length);
  t.is(registry.readByName(`cluster.${cluster}.upstream_cx_active`), 0);
  t.is(registry.readByName(`listener.127.0.0.1_${port}.downstream_cx_total`), undefined, 'stats are keyed by the configured listener address');
});

test('many concurrent connections spread over workers and are all served', async (t) => {
  const { port, registry, server, lost } = await setup(t);
  // The main thread takes accepted handles straight from the listening handle (handoff.ts): no
  // net.Socket, so net.Server never emits 'connection'. One would mean the slower fallback ran.
  let wrapped = 0;
  server.on('connection', () => wrapped++);
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => roundTrip(port, Buffer.from(`hello ${i}`))));
  results.forEach((r, i) => t.is(r.data.toString(), `hello ${i}`));
  t.is(wrapped, 0);
  await new Promise((r) => setTimeout(r, 100));
  t.is(registry.readByName(`cluster.outbound|${port}||echo.test.upstream_cx_total`), 200);
  t.is(lost(), 0);
});

test('a worker that dies is replaced; other connections keep flowing and accepts never stop', async (t) => {
  const { port, pool } = await setup(t);
  t.is(pool.threads.length, 2);
  const victim = pool.threads[0];
  await victim.terminate();
  // Immediately after the death, new connections are still served (by the survivor or the replacement).
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => roundTrip(port, Buffer.from(`after ${i}`))));
  results.forEach((r, i) => t.is(r.data.toString(), `after ${i}`));
  for (let i = 0; i < 50 && pool.threads.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  t.is(pool.threads.length, 2, 'the dead worker was replaced');
  t.false(pool.threads.includes(victim));
});
